package cache

import (
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/flight"
)

// fullSet is full-backend mode: the cache holds the source's whole set, loaded, refreshed
// and expired as one. Everything it does lives in this file; the per-id code of the cache
// hands over to it at the top of each public method.
//
// The set is a generation: its own sharded tables, built off to the side by a whole load
// and published with one atomic store. A reader loads the current generation once and
// answers from it alone, so it sees the previous complete set or the next one, never a mix,
// and never "absent" for an object both hold. Dropping the set (expiry past the StaleIfError
// cap, a failed reload after Expire) publishes an empty, incomplete generation.
type fullSet[T any] struct {
	cur atomic.Pointer[fullGen[T]] // never nil

	// mu serialises the changes of the set: publishing a generation, writing into the
	// current one (Set, Delete), its deadlines and expiring flag, loading and log. Readers
	// never take it. It is taken before any shard's mu.
	mu sync.Mutex
	// loading says that a whole load is running; log holds the writes (Set, Delete) made
	// since it began, replayed onto the set it loads before that set is published, so that
	// a write is never undone by a load that read the source before it.
	loading bool
	log     []*entry[T] // a nil value with flagNegative set is a deletion

	refreshing atomic.Bool  // a set refresh is queued or running
	due        atomic.Int64 // the current generation's next deadline, or never; written under mu
	published  atomic.Uint64

	// marked says that the set was marked stale, or expired, since the last whole load
	// began: that load may have read the source before the change, so its answer is
	// published stale. markedReload (MarkStale with reload, Expire, ExpireAll) asks, in
	// addition, for another load as soon as it ends. Both are cleared as a whole load
	// begins.
	marked, markedReload atomic.Bool

	loads flight.Group[struct{}, *fullGen[T]] // coalesces whole-set loads

	// beforeSwap, when set by a test before the cache is used, is called by startSetRefresh
	// between its first check that the set is due and the swap of the refreshing flag: the
	// window in which another refresh may answer.
	beforeSwap func()
}

// fullGen is one generation of the whole set.
type fullGen[T any] struct {
	shards   []shard[T]
	complete bool  // a whole load's answer (or a snapshot of one); immutable
	loadedAt int64 // clock reading of that load; immutable

	stale    atomic.Bool // past its stale point, marked stale or expiring: a read starts a refresh
	extended atomic.Bool // kept past a failed refresh

	staleAt, expireAt int64 // guarded by fullSet.mu
	// extendedAt is the clock reading of the first failed whole load g was kept past;
	// guarded by fullSet.mu, meaningful while extended.
	extendedAt int64
	// expiring says that Expire or ExpireAll asked for the set to go: it is served until
	// the reload they started answers; if that fails, it is dropped. Guarded by fullSet.mu.
	expiring bool
}

func (c *Cache[T]) newGen(complete bool, loadedAt int64) *fullGen[T] {
	g := &fullGen[T]{shards: make([]shard[T], len(c.shards)), complete: complete, loadedAt: loadedAt, staleAt: never, expireAt: never}
	for i := range g.shards {
		g.shards[i].init()
	}
	return g
}

func (c *Cache[T]) newFullSet() *fullSet[T] {
	f := &fullSet[T]{}
	f.cur.Store(c.newGen(false, 0))
	f.due.Store(never)
	return f
}

// shard returns the shard of g that holds hash h.
func (g *fullGen[T]) shard(c *Cache[T], h uint64) *shard[T] { return &g.shards[h>>c.shardShift] }

// find looks id up in g: lock-free, and confirmed under the shard's lock when it misses.
func (g *fullGen[T]) find(c *Cache[T], h uint64, id string) *entry[T] {
	s := g.shard(c, h)
	if e := s.table.Find(h, id); e != nil {
		return e
	}
	s.mu.Lock()
	_, e := s.lookup(h, id)
	s.mu.Unlock()
	return e
}

// objects returns the number of objects in g.
func (g *fullGen[T]) objects() int {
	n := int64(0)
	for i := range g.shards {
		n += g.shards[i].objects.Load()
	}
	return int(n)
}

// nextDue returns g's next deadline. The caller holds fullSet.mu.
func (g *fullGen[T]) nextDue() int64 {
	if !g.complete {
		return never
	}
	if !g.stale.Load() && g.staleAt < g.expireAt {
		return g.staleAt
	}
	return g.expireAt
}

// fullGet is Get in full-backend mode.
func (c *Cache[T]) fullGet(ctx context.Context, id string) (v T, found bool, err error) {
	h := maphash.String(c.seed, id)
	g := c.full.cur.Load()
	e := g.find(c, h, id)
	if e == nil && !g.complete {
		if c.closed.Load() {
			return v, false, errors.ErrClosed
		}
		c.hits.Add(hitMiss)
		if c.onRead != nil {
			c.emit(Event{Kind: EventMiss, ID: id})
		}
		// Answered from the set the load returns, whatever happened to the set since.
		if g, err = c.ensureSet(ctx); err != nil {
			return v, false, err
		}
		if e = g.find(c, h, id); e == nil {
			return v, false, nil
		}
		return e.Value.value, true, nil
	}
	kind := EventHit
	switch {
	case e == nil:
		c.hits.Add(hitNegative)
		kind = EventNegativeHit
	case !g.complete: // pushed by Set before the first whole load
		c.hits.Add(hitFresh)
	case g.extended.Load():
		c.hits.Add(hitExtended)
		kind = EventServedExtended
	case g.stale.Load():
		c.hits.Add(hitStale)
		kind = EventStaleHit
	default:
		c.hits.Add(hitFresh)
	}
	if c.onRead != nil && c.events&(1<<kind) != 0 { // before the refresh starts: its events follow this one
		ev := Event{Kind: kind, ID: id}
		if e != nil {
			ev.Age = time.Duration(c.now() - e.Value.loadedAt)
		}
		c.emit(ev)
	}
	if g.stale.Load() {
		c.startSetRefresh(ctx, g)
	}
	if e == nil {
		return v, false, nil
	}
	return e.Value.value, true, nil
}

// fullPeek is Peek in full-backend mode.
func (c *Cache[T]) fullPeek(id string) (v T, found bool) {
	if e := c.full.cur.Load().find(c, maphash.String(c.seed, id), id); e != nil {
		return e.Value.value, true
	}
	return v, false
}

// ensureSet returns a complete set: the current one, or the one a whole load (started now,
// or running) returns.
func (c *Cache[T]) ensureSet(ctx context.Context) (*fullGen[T], error) {
	f := c.full
	if g := f.cur.Load(); g.complete {
		return g, nil
	}
	g, _, err, _ := f.loads.Do(ctx, struct{}{}, func(ctx context.Context) (*fullGen[T], bool, error) {
		// A load that finished between the caller's look and here answers it: loading
		// again would be a second whole load for the same readers.
		if g := f.cur.Load(); g.complete {
			return g, true, nil
		}
		return c.loadSet(ctx)
	})
	if f.markedReload.Load() {
		c.startSetRefresh(ctx, nil)
	}
	switch {
	case err != nil && c.closed.Load():
		return nil, errors.ErrClosed
	case err != nil:
		return nil, err
	}
	return g, nil
}

// loadSet loads the whole set and publishes it, or on error extends the set it had. It
// runs on full.loads.
func (c *Cache[T]) loadSet(ctx context.Context) (*fullGen[T], bool, error) {
	f := c.full
	f.mu.Lock()
	// The load reads what the source holds from now on: it answers the marks made so far.
	f.marked.Store(false)
	f.markedReload.Store(false)
	f.loading, f.log = true, nil
	f.mu.Unlock()

	list, err := c.loadAll(ctx)
	now := c.now()
	if err != nil {
		c.counters.fullLoads.errors.Add(1)
		c.extendSet(now, err)
		return nil, false, err
	}
	c.counters.fullLoads.found.Add(1)
	c.succeeded()
	g := c.newGen(true, now)
	for _, it := range list {
		h := maphash.String(c.seed, it.ID)
		s := g.shard(c, h)
		if _, dup := s.lookup(h, it.ID); dup == nil {
			s.insert(newEntry(h, it.ID, it.Value, now))
		}
	}
	if c.lifeStale > 0 {
		g.staleAt = addClock(now, c.lifeStale)
	}
	if c.lifeMax > 0 {
		g.expireAt = addClock(now, c.lifeMax)
	}

	f.mu.Lock()
	for _, w := range f.log { // writes made while it loaded win over what it read
		if !negative(w) {
			// A copy: w is linked into the set being replaced, which readers may still walk,
			// and an entry has one chain link.
			w = newEntry(w.Hash(), w.Key(), w.Value.value, w.Value.loadedAt)
		}
		c.writeGen(g, w)
	}
	f.loading, f.log = false, nil
	// Marked while it loaded: the answer may predate the change, so the set starts stale.
	g.stale.Store(f.marked.Load())
	replaced := f.cur.Load().complete
	c.publish(g)
	due := g.nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	c.kickJanitor(due)
	if replaced {
		c.counters.refreshUpdated.Add(1)
		if c.onEvent != nil {
			c.emit(Event{Kind: EventRefreshUpdated})
		}
	}
	return g, true, nil
}

// publish makes g the set. The caller holds full.mu.
func (c *Cache[T]) publish(g *fullGen[T]) {
	c.full.cur.Store(g)
	c.full.published.Add(1)
}

// writeGen applies one write (an entry, or a deletion) to g. The caller holds full.mu.
func (c *Cache[T]) writeGen(g *fullGen[T], w *entry[T]) {
	s := g.shard(c, w.Hash())
	s.mu.Lock()
	link, old := s.lookup(w.Hash(), w.Key())
	switch {
	case negative(w):
		if old != nil {
			s.remove(link, old)
		}
	case old != nil:
		s.replace(link, old, w)
	default:
		s.insert(w)
	}
	s.mu.Unlock()
}

// fullWrite is Set (e an entry) or Delete (e a deletion) in full-backend mode: the set is
// changed in place and stays as complete as it was.
func (c *Cache[T]) fullWrite(e *entry[T]) {
	f := c.full
	f.mu.Lock()
	c.writeGen(f.cur.Load(), e)
	if f.loading {
		f.log = append(f.log, e)
	}
	f.mu.Unlock()
}

// extendSet keeps the set past a failed whole load at now, as extend does for an entry;
// a set that Expire asked to go is dropped instead.
func (c *Cache[T]) extendSet(now int64, cause error) {
	f := c.full
	f.mu.Lock()
	f.loading, f.log = false, nil
	g := f.cur.Load()
	if !g.complete {
		f.mu.Unlock()
		return // a first load failed: there is nothing to keep
	}
	age := time.Duration(now - g.loadedAt)
	c.counters.refreshErrors.Add(1)
	dropped := g.expiring
	if !dropped {
		g.staleAt, g.expireAt = c.extension(g.loadedAt, now)
		if !g.extended.Load() {
			g.extendedAt = now
		}
		g.extended.Store(true)
		g.stale.Store(false)
		dropped = g.expireAt <= now
	}
	if dropped {
		c.dropSetLocked()
	}
	due := f.cur.Load().nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	c.kickJanitor(due)
	if c.onEvent != nil {
		c.emit(Event{Kind: EventRefreshError, Age: age, Err: cause})
		if dropped {
			c.emit(Event{Kind: EventExpired, Age: age})
		}
	}
}

// dropSetLocked publishes an empty, incomplete set in place of a complete one. The caller
// holds full.mu.
func (c *Cache[T]) dropSetLocked() {
	c.publish(c.newGen(false, 0))
	c.counters.expired.Add(1)
}

// markSetStale marks the set stale, so the next read starts its refresh, and marks the
// whole load running, if one is, so that its answer is published stale (and, with reload,
// loaded again at once).
func (c *Cache[T]) markSetStale(reload bool) {
	f := c.full
	f.mu.Lock()
	f.marked.Store(true)
	if reload {
		f.markedReload.Store(true)
	}
	if g := f.cur.Load(); g.complete {
		g.stale.Store(true)
		f.due.Store(g.nextDue())
	}
	f.mu.Unlock()
}

// expireSetNow is Expire and ExpireAll in full-backend mode. A complete set is kept and
// served until the reload started here answers: readers never see a set missing while the
// source is healthy. If the reload fails, the set is dropped, as asked.
func (c *Cache[T]) expireSetNow() {
	f := c.full
	f.mu.Lock()
	f.marked.Store(true)
	f.markedReload.Store(true)
	g := f.cur.Load()
	if g.complete {
		g.expiring = true
		g.stale.Store(true)
		f.due.Store(g.nextDue())
	} else {
		c.publish(c.newGen(false, 0)) // objects pushed into an incomplete set go with it
	}
	f.mu.Unlock()
	if g.complete {
		c.counters.expired.Add(1)
		if c.onEvent != nil {
			c.emit(Event{Kind: EventExpired, Age: time.Duration(c.now() - g.loadedAt)})
		}
	}
	c.startSetRefresh(context.Background(), nil)
}

// expireSet applies the set's deadline if it passed by now and returns the next one.
func (c *Cache[T]) expireSet(now int64, events *[]Event) int64 {
	f := c.full
	if f.due.Load() > now {
		return f.due.Load()
	}
	f.mu.Lock()
	if g := f.cur.Load(); g.complete {
		switch {
		case g.expireAt <= now && f.refreshing.Load() && c.serveLimit(g.loadedAt) > now:
			// A refresh of the set is queued or running: its answer decides, not the clock.
			g.expireAt = c.serveLimit(g.loadedAt)
		case g.expireAt <= now:
			c.dropSetLocked()
			if c.onEvent != nil {
				*events = append(*events, Event{Kind: EventExpired, Age: time.Duration(now - g.loadedAt)})
			}
		case !g.stale.Load() && g.staleAt <= now:
			g.stale.Store(true)
		}
	}
	due := f.cur.Load().nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	return due
}

// fullDelete is Delete in full-backend mode: the id leaves the set, and the writes log of
// a whole load that is running.
func (c *Cache[T]) fullDelete(id string) {
	var zero T
	del := newEntry(maphash.String(c.seed, id), id, zero, 0)
	del.Value.staleAt, del.Value.expireAt = 0, 0
	del.StoreFlags(flagNegative)
	c.fullWrite(del)
}

// startSetRefresh queues a refresh of the whole set, which a reader found stale in g,
// unless one is queued or running, or g is no longer the stale set (a refresh answered
// since the reader looked). A nil g asks for a refresh whatever the set's state.
func (c *Cache[T]) startSetRefresh(ctx context.Context, g *fullGen[T]) {
	f := c.full
	due := func() bool { return g == nil || f.cur.Load() == g && g.stale.Load() }
	if !due() || f.refreshing.Load() {
		return
	}
	if f.beforeSwap != nil {
		f.beforeSwap()
	}
	if !f.refreshing.CompareAndSwap(false, true) {
		return
	}
	// Checked again once the flag is ours: a refresh that answered between the first check
	// and the swap published a new set, or cleared the stale flag, before it let go of it.
	if !due() || !c.enqueueRefresh(refreshJob[T]{ctx: ctx}) {
		f.refreshing.Store(false)
	}
}

// refreshSet reloads the whole set in the background, and once more if it was marked for
// reload while it loaded.
func (c *Cache[T]) refreshSet(ctx context.Context) {
	f := c.full
	f.loads.Do(ctx, struct{}{}, c.loadSet) // loadSet applies the outcome
	f.refreshing.Store(false)
	if f.markedReload.Load() {
		c.startSetRefresh(ctx, nil)
	}
}

// populateSet is Populate in full-backend mode: a whole load now, coalesced with any
// running.
func (c *Cache[T]) populateSet(ctx context.Context) error {
	_, _, err, _ := c.full.loads.Do(ctx, struct{}{}, c.loadSet)
	if c.full.markedReload.Load() {
		c.startSetRefresh(ctx, nil)
	}
	if err != nil && c.closed.Load() {
		err = errors.ErrClosed
	}
	return err
}

// All returns every object of a full-backend cache, sorted by id, loading the whole set
// first if it is not loaded; it returns the load's error rather than a partial set. Like a
// Get, it starts the set's background refresh when the set is stale. Without full-backend
// mode it returns an error matching [errors.ErrUnsupported].
func (c *Cache[T]) All(ctx context.Context) ([]Entry[T], error) {
	if c.full == nil {
		return nil, errors.Errorf("cache %q: All needs full_backend_cache: %w", c.name, errors.ErrUnsupported)
	}
	if c.closed.Load() {
		return nil, errors.ErrClosed
	}
	g, err := c.ensureSet(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry[T], 0, g.objects())
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.Lock()
		for e := range s.walk {
			out = append(out, Entry[T]{ID: e.Key(), Value: e.Value.value})
		}
		s.mu.Unlock()
	}
	if g.stale.Load() {
		c.startSetRefresh(ctx, g)
	}
	slices.SortFunc(out, func(a, b Entry[T]) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// closeSet empties the set, after Close stopped everything that could load it.
func (c *Cache[T]) closeSet() {
	f := c.full
	f.mu.Lock()
	c.publish(c.newGen(false, 0))
	f.due.Store(never)
	f.loading, f.log = false, nil
	f.mu.Unlock()
}
