package cache

import (
	"context"
	"hash/maphash"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/cachetable"
	"github.com/gosorcery/gosorcery/internal/workq"
)

// LoadFunc loads one object from the source behind the cache. It answers with a tri-state:
//
//	(v, true, nil)      the object exists: it is cached fresh
//	(zero, false, nil)  the source is sure it does not exist: a cached entry is removed
//	                    (or a negative entry remembers the answer, see NegativeLifetime)
//	(zero, false, err)  the source could not answer: on a miss the error is returned; on a
//	                    background refresh the cached entry is kept and its life extended
//
// and a fourth, degraded answer:
//
//	(v, true, err)      v was found by a fallback source while a preferred source failed
//	                    with err. On a miss v is cached, already living on an extension:
//	                    it goes stale after ErrorRecheck, not LifetimeStale, so the preferred
//	                    source is asked again soon, but not sooner. On a refresh the existing
//	                    entry wins and is extended as for an error. Get returns (v, true, nil):
//	                    the object is served.
//
// ctx is the caller's context for foreground loads, with its deadline removed and cancelled
// when every waiting caller has given up; for background refreshes it is detached from the
// reader that started them and bounded by RefreshTimeout. A LoadFunc must honour ctx: Close
// waits for running loads to return. It is called without any lock of the cache held.
type LoadFunc[T any] func(ctx context.Context, id string) (T, bool, error)

// LoadAllFunc loads every object of the source at once, for full-backend mode and
// [Cache.Populate]. An error means the source could not answer; a partial answer must be
// an error, never a shorter list. Duplicate ids keep the first.
type LoadAllFunc[T any] func(ctx context.Context) ([]Entry[T], error)

// Entry is one object of a whole set.
type Entry[T any] struct {
	ID    string
	Value T
}

// Cache is a concurrent read-through cache of objects of type T by string id, with the
// lifetimes of Asterisk's sorcery memory cache and stale-if-error serving. See the package
// documentation. A Cache must be created with [New] or [NewFull] and is safe for
// concurrent use; Close it to stop its goroutines.
type Cache[T any] struct {
	// Read by every Get. Set by the constructor and never changed, and padded so that no
	// write elsewhere shares their cache lines.
	_          [64]byte
	shards     []shard[T]
	shardShift uint8
	seed       maphash.Seed
	hits       cachetable.Counters         // by hitFresh, hitStale, ...
	onRead     func(Event)                 // OnEvent if it takes a kind of read, else nil
	policy     *cachetable.Policy[item[T]] // nil unless MaxObjects > 0
	full       *fullSet[T]                 // nil unless FullBackend
	_          [64]byte

	opts Options // as given, defaults applied

	onEvent func(Event) // Options.OnEvent
	events  uint32      // the kinds OnEvent takes, as bits (Options.EventKinds)
	name    string
	load    LoadFunc[T]
	loadAll LoadAllFunc[T]

	// Lifetimes in clock units (nanoseconds); 0 means off.
	lifeStale, lifeMax, staleIfError, recheck, negLife int64

	base time.Time // origin of the cache's clock; carries a monotonic reading

	closed      atomic.Bool
	closeCtx    context.Context // cancelled by Close: ends the running background refreshes
	cancelClose context.CancelFunc

	counters counters
	refresh  refresher[T]
	janitor  janitor
	wg       sync.WaitGroup // the janitor and the refresh workers
}

// New returns a cache in front of load. A nil opts means the zero [Options]. It is an error
// matching [errors.ErrInvalid] to pass a nil load, invalid options, or FullBackend (which
// needs a whole-set loader: use [NewFull]).
func New[T any](load LoadFunc[T], opts *Options) (*Cache[T], error) {
	return newCache(load, nil, opts)
}

// NewFull returns a cache with a whole-set loader as well as a per-id one.
//
// With opts.FullBackend, the cache holds the whole set: the first Get (or All, or Populate)
// loads it through loadAll, coalesced, and from then on every Get is answered from memory,
// an absent id included, without calling load. The set is refreshed as one, in the
// background, once stale; a failed refresh keeps the whole previous set and extends it as
// a failed refresh extends an entry. Until a whole load has succeeded, Get and All return
// the load's error, never an answer from a partial set. load may be nil in this mode.
//
// Each whole load builds its set apart and publishes it in one step: a reader answers from
// one set, the previous complete one or the next, never a mix. Expire and ExpireAll keep
// the set answering until the reload they start has published the next one. However many
// readers find the set stale at once, it is loaded once per LifetimeStale while the source
// answers and once per ErrorRecheck while it fails. docs/semantics.md has the details.
//
// Without FullBackend, the cache works as with [New] and loadAll serves [Cache.Populate].
func NewFull[T any](load LoadFunc[T], loadAll LoadAllFunc[T], opts *Options) (*Cache[T], error) {
	return newCache(load, loadAll, opts)
}

func newCache[T any](load LoadFunc[T], loadAll LoadAllFunc[T], opts *Options) (*Cache[T], error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	switch {
	case o.FullBackend && loadAll == nil:
		return nil, invalidf("cache %q: full_backend_cache needs a whole-set loader (NewFull)", o.Name)
	case !o.FullBackend && load == nil:
		return nil, invalidf("cache %q: nil LoadFunc", o.Name)
	}
	if o.RefreshTimeout == 0 {
		o.RefreshTimeout = DefaultRefreshTimeout
	}
	if o.RefreshWorkers == 0 {
		o.RefreshWorkers = DefaultRefreshWorkers
	}
	if o.Snapshot != nil {
		sn := *o.Snapshot // the caller's stays as it was
		o.Snapshot = &sn
	}

	procs := runtime.GOMAXPROCS(0)
	nShards := 8
	for nShards < 8*procs && nShards < 64 {
		nShards <<= 1
	}
	c := &Cache[T]{
		shards:       make([]shard[T], nShards),
		shardShift:   uint8(64 - bits.TrailingZeros(uint(nShards))),
		seed:         maphash.MakeSeed(),
		hits:         cachetable.NewCounters(),
		onEvent:      o.OnEvent,
		events:       o.eventMask(),
		opts:         o,
		name:         o.Name,
		load:         load,
		loadAll:      loadAll,
		lifeStale:    int64(o.LifetimeStale),
		lifeMax:      int64(o.LifetimeMaximum),
		staleIfError: int64(o.StaleIfError),
		negLife:      int64(o.NegativeLifetime),
		base:         time.Now(),
	}
	c.opts.EventKinds = slices.Clone(o.EventKinds)
	if c.events&readEvents != 0 {
		c.onRead = o.OnEvent
	}
	c.recheck = int64(o.ErrorRecheck)
	if c.recheck == 0 {
		c.recheck = c.lifeStale
	}
	for i := range c.shards {
		c.shards[i].init()
	}
	if o.MaxObjects > 0 {
		c.policy = cachetable.NewPolicy[item[T]](o.MaxObjects)
	}
	if o.FullBackend {
		c.full = c.newFullSet()
		c.negLife = 0
	}
	c.closeCtx, c.cancelClose = context.WithCancel(context.Background())
	c.refresh.q = workq.New(o.RefreshWorkers, c.runRefresh)
	if c.lifeStale > 0 || c.lifeMax > 0 || c.recheck > 0 || c.negLife > 0 {
		c.startJanitor()
	}
	return c, nil
}

// Options returns the cache's options, with the defaults it applied.
func (c *Cache[T]) Options() Options { return c.opts }

// now reads the cache's clock: nanoseconds since the cache was made. It is monotonic, and
// follows the fake clock of a testing/synctest bubble the cache was made in.
func (c *Cache[T]) now() int64 { return int64(time.Since(c.base)) }

func (c *Cache[T]) shardFor(h uint64) *shard[T] { return &c.shards[h>>c.shardShift] }

// Get returns the object for id: from memory when cached (stale and extended entries
// included, starting a background refresh when one is due), otherwise through the
// LoadFunc, with concurrent loads of one id coalesced into one. found is false when the
// object does not exist. err is set only when nothing could be served: the loader failed
// on a miss, ctx ended while waiting for a load, or the cache is closed ([errors.ErrClosed]).
//
// A hit takes no lock and allocates nothing.
func (c *Cache[T]) Get(ctx context.Context, id string) (v T, found bool, err error) {
	if c.full != nil {
		return c.fullGet(ctx, id)
	}
	h := maphash.String(c.seed, id)
	s := &c.shards[h>>c.shardShift]
	if e := s.table.Find(h, id); e != nil {
		f := e.Flags()
		if f&slowFlags == 0 {
			if f&flagRef == 0 && c.policy != nil {
				c.policy.Touch(e)
			}
			c.hits.Add(hitFresh)
			if c.onRead != nil {
				c.emitEntry(EventHit, e)
			}
			return e.Value.value, true, nil
		}
		return c.serve(ctx, e, f)
	}
	return c.miss(ctx, s, h, id)
}

// serve answers Get from e, an entry off the fast path (or found under the lock).
func (c *Cache[T]) serve(ctx context.Context, e *entry[T], f uint32) (v T, found bool, err error) {
	if f&flagRef == 0 && c.policy != nil {
		c.policy.Touch(e)
	}
	kind := EventHit
	switch {
	case f&flagNegative != 0:
		c.hits.Add(hitNegative)
		if c.onRead != nil {
			c.emitEntry(EventNegativeHit, e)
		}
		return v, false, nil
	case f&flagExtended != 0:
		c.hits.Add(hitExtended)
		kind = EventServedExtended
	case f&flagStale != 0:
		c.hits.Add(hitStale)
		kind = EventStaleHit
	default:
		c.hits.Add(hitFresh)
	}
	if c.onRead != nil { // before the refresh starts: its events follow this one
		c.emitEntry(kind, e)
	}
	if f&flagStale != 0 {
		c.startRefresh(ctx, e)
	}
	return e.Value.value, true, nil
}

// miss handles a Get that found nothing without the lock.
func (c *Cache[T]) miss(ctx context.Context, s *shard[T], h uint64, id string) (v T, found bool, err error) {
	if c.closed.Load() {
		return v, false, errors.ErrClosed
	}
	// A lock-free lookup can miss an entry while the shard grows: confirm under the lock.
	s.mu.Lock()
	_, e := s.lookup(h, id)
	s.mu.Unlock()
	if e != nil {
		return c.serve(ctx, e, e.Flags())
	}
	c.hits.Add(hitMiss)
	if c.onRead != nil {
		c.emit(Event{Kind: EventMiss, ID: id})
	}
	v, found, err, _ = s.loads.Do(ctx, id, func(ctx context.Context) (T, bool, error) {
		return c.loadMiss(ctx, s, h, id)
	})
	if found {
		return v, true, nil // a degraded answer is served
	}
	if err != nil && c.closed.Load() {
		err = errors.ErrClosed
	}
	return v, false, err
}

// loadMiss loads id for the callers of Get waiting on s.loads and caches the answer.
func (c *Cache[T]) loadMiss(ctx context.Context, s *shard[T], h uint64, id string) (v T, found bool, err error) {
	s.mu.Lock()
	_, e := s.lookup(h, id)
	epoch, marks, reloads := s.epoch, s.marks, s.reloads
	s.mu.Unlock()
	if e != nil { // cached by a load that finished as this one was being started
		if negative(e) {
			return v, false, nil
		}
		return e.Value.value, true, nil
	}

	v, found, err = c.callLoad(ctx, id)
	c.install(ctx, s, h, id, v, found, err, epoch, marks, reloads)
	return v, found, err
}

// install caches the answer of a load of id begun when s's epoch, marks and reloads were
// as given: found fresh, degraded (found with err) extended, "not found" as a negative
// entry when NegativeLifetime is set; an error alone caches nothing.
func (c *Cache[T]) install(ctx context.Context, s *shard[T], h uint64, id string, v T, found bool, err error, epoch, marks, reloads uint64) {
	now := c.now()
	var n *entry[T]
	switch {
	case found:
		n = c.fresh(h, id, v, now)
		if err != nil { // degraded: served, re-checked after ErrorRecheck
			n.StoreFlags(flagExtended)
			n.Value.staleAt, n.Value.expireAt = c.extension(now, now)
			n.Value.extendedAt = now
		}
	case err != nil:
		return
	case c.negLife > 0:
		n = c.negativeEntry(h, id, now)
	default:
		return
	}
	var again *entry[T]
	c.lock(s)
	// An id deleted or expired by hand while it loaded is not cached: the answer may predate
	// the deletion. One marked stale meanwhile is cached stale, or not at all if the answer
	// was "not found", for the same reason. An entry pushed by Set meanwhile wins over the
	// load.
	if s.epoch == epoch {
		if _, cur := s.lookup(h, id); cur == nil || negative(cur) {
			switch {
			case s.marks == marks:
				c.put(s, n)
			case !negative(n):
				n.SetFlags(flagStale)
				c.put(s, n)
				if s.reloads != reloads {
					again = n
				}
			}
		}
	}
	c.emitEvicted(c.unlock(s))
	if again != nil {
		c.startRefresh(ctx, again)
	}
}

// callLoad calls the LoadFunc and counts its answer.
func (c *Cache[T]) callLoad(ctx context.Context, id string) (v T, found bool, err error) {
	v, found, err = c.load(ctx, id)
	c.countLoad(found, err)
	return v, found, err
}

// countLoad counts one answer of the source for an id.
func (c *Cache[T]) countLoad(found bool, err error) {
	l := &c.counters.loads
	switch {
	case found && err == nil:
		l.found.Add(1)
		c.succeeded()
	case found:
		l.degraded.Add(1)
	case err != nil:
		l.errors.Add(1)
	default:
		l.notFound.Add(1)
		c.succeeded()
	}
}

func (c *Cache[T]) succeeded() { c.counters.lastSuccess.Store(c.now() + 1) }

// fresh returns a new entry for a value just loaded or pushed, with its deadlines. (The
// members of a full-backend set have none: the set has them.)
func (c *Cache[T]) fresh(h uint64, id string, v T, now int64) *entry[T] {
	e := newEntry(h, id, v, now)
	if c.lifeStale > 0 {
		e.Value.staleAt = addClock(now, c.lifeStale)
	}
	if c.lifeMax > 0 {
		e.Value.expireAt = addClock(now, c.lifeMax)
	}
	return e
}

func (c *Cache[T]) negativeEntry(h uint64, id string, now int64) *entry[T] {
	var zero T
	e := newEntry(h, id, zero, now)
	e.Value.expireAt = addClock(now, c.negLife)
	e.StoreFlags(flagNegative)
	return e
}

// extension returns the deadlines of an entry kept past a failed refresh at now, whose
// last successful load was at loadedAt.
func (c *Cache[T]) extension(loadedAt, now int64) (staleAt, expireAt int64) {
	staleAt, expireAt = never, never
	if c.recheck > 0 {
		staleAt = addClock(now, c.recheck)
	}
	if c.lifeMax > 0 {
		expireAt = addClock(now, c.lifeMax)
		if c.staleIfError > 0 {
			limit := addClock(addClock(loadedAt, c.lifeMax), c.staleIfError)
			staleAt = min(staleAt, limit)
			expireAt = min(expireAt, limit)
		}
	}
	return staleAt, expireAt
}

// serveLimit returns the StaleIfError cap of an entry (or of the whole set) last loaded
// at loadedAt: when it is served no longer, whatever its refreshes answer. never without a
// cap.
func (c *Cache[T]) serveLimit(loadedAt int64) int64 {
	if c.staleIfError == 0 || c.lifeMax == 0 {
		return never
	}
	return addClock(addClock(loadedAt, c.lifeMax), c.staleIfError)
}

// addClock adds without overflowing past never.
func addClock(t, d int64) int64 {
	if t > never-d {
		return never
	}
	return t + d
}

// lock takes what a structural change of s needs: the eviction policy's lock, then s.mu.
func (c *Cache[T]) lock(s *shard[T]) {
	if c.policy != nil {
		c.policy.Lock()
	}
	s.mu.Lock()
}

// unlock releases s, then evicts what no longer fits and releases the policy, and wakes
// the janitor if s now has an earlier deadline than the one it sleeps for. It returns the
// evicted entries, for events.
func (c *Cache[T]) unlock(s *shard[T]) (evicted []*entry[T]) {
	evicted = c.release(s)
	c.kickJanitor(s.minDue())
	return evicted
}

// release is unlock without waking the janitor.
func (c *Cache[T]) release(s *shard[T]) (evicted []*entry[T]) {
	s.mu.Unlock()
	p := c.policy
	if p == nil {
		return nil
	}
	evicted = p.Victims()
	for _, e := range evicted {
		vs := c.shardFor(e.Hash())
		vs.mu.Lock()
		if link, cur := vs.lookup(e.Hash(), e.Key()); cur == e {
			vs.remove(link, e)
		}
		vs.mu.Unlock()
		if !negative(e) {
			c.counters.evicted.Add(1)
		}
	}
	p.Unlock()
	return evicted
}

// put installs n, replacing the entry of its id if there is one. The caller holds
// c.lock(s).
func (c *Cache[T]) put(s *shard[T], n *entry[T]) {
	link, old := s.lookup(n.Hash(), n.Key())
	if old != nil {
		s.replace(link, old, n)
		if c.policy != nil {
			c.policy.Remove(old)
		}
	} else {
		s.insert(n)
	}
	if c.policy != nil {
		c.policy.Add(n)
	}
}

// drop removes e; link points at it. The caller holds c.lock(s).
func (c *Cache[T]) drop(s *shard[T], link link[T], e *entry[T]) {
	s.remove(link, e)
	if c.policy != nil {
		c.policy.Remove(e)
	}
}

// Peek returns the cached object for id without loading it, counting it or changing its
// recency. Stale and extended entries are returned; a negative entry is not found.
func (c *Cache[T]) Peek(id string) (v T, found bool) {
	if c.full != nil {
		return c.fullPeek(id)
	}
	h := maphash.String(c.seed, id)
	s := c.shardFor(h)
	e := s.table.Find(h, id)
	if e == nil {
		s.mu.Lock()
		_, e = s.lookup(h, id)
		s.mu.Unlock()
	}
	if e == nil || negative(e) {
		return v, false
	}
	return e.Value.value, true
}

// Set caches v for id as a fresh entry, replacing any entry for id, like Asterisk's push of
// an object into its memory cache after a wizard found or wrote it. It does nothing after
// Close.
func (c *Cache[T]) Set(id string, v T) {
	if c.closed.Load() {
		return
	}
	h := maphash.String(c.seed, id)
	if c.full != nil {
		c.fullWrite(newEntry(h, id, v, c.now()))
		return
	}
	n := c.fresh(h, id, v, c.now())
	s := c.shardFor(h)
	c.lock(s)
	c.put(s, n)
	c.emitEvicted(c.unlock(s))
}

// Delete removes id from the cache, like Asterisk's memory cache on an object's deletion.
// A load of id that was running is not cached when it finishes. No event is emitted.
func (c *Cache[T]) Delete(id string) {
	if c.full != nil {
		c.fullDelete(id)
		return
	}
	c.remove(id, false)
}

// Expire removes id from the cache, so the next Get loads it (Asterisk: "sorcery memory
// cache expire <cache> <object>"). In full-backend mode the set is loaded and refreshed as
// one, so Expire expires the whole set, as ExpireAll does.
func (c *Cache[T]) Expire(id string) {
	if c.full != nil {
		c.expireSetNow()
		return
	}
	c.remove(id, true)
}

// remove removes id's entry, counting and reporting it as expired if expire is set.
func (c *Cache[T]) remove(id string, expire bool) {
	h := maphash.String(c.seed, id)
	s := c.shardFor(h)
	c.lock(s)
	link, e := s.lookup(h, id)
	if e != nil {
		c.drop(s, link, e)
	}
	s.epoch++
	c.emitEvicted(c.unlock(s))
	if expire && e != nil && !negative(e) {
		c.counters.expired.Add(1)
		if c.onEvent != nil {
			c.emitEntry(EventExpired, e)
		}
	}
}

// ExpireAll empties the cache (Asterisk: "sorcery memory cache expire <cache>"), as the
// owner does on reload when Options.ExpireOnReload is set. In full-backend mode a whole
// reload starts at once and the expired set keeps answering until the new one replaces it,
// so readers never find it missing; if the reload fails, the set is dropped and reads
// return the load's error until a whole load succeeds.
func (c *Cache[T]) ExpireAll() {
	if c.full != nil {
		c.expireSetNow()
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		c.lock(s)
		removed := s.clear(true)
		if c.policy != nil {
			for _, e := range removed {
				c.policy.Remove(e)
			}
		}
		c.release(s)
		c.countExpired(removed)
	}
}

// countExpired counts and reports the objects among removed.
func (c *Cache[T]) countExpired(removed []*entry[T]) {
	var now int64
	if c.onEvent != nil {
		now = c.now()
	}
	for _, e := range removed {
		if negative(e) {
			continue
		}
		c.counters.expired.Add(1)
		if c.onEvent != nil {
			c.emit(Event{Kind: EventExpired, ID: e.Key(), Age: time.Duration(now - e.Value.loadedAt)})
		}
	}
}

// MarkStale marks id stale (Asterisk: "sorcery memory cache stale <cache> <object>"): it is
// still served, and the next Get starts its refresh; with reload, the refresh starts now.
// In full-backend mode the whole set is marked stale (and reloaded with reload). A
// remembered "not found" (NegativeLifetime) for id is forgotten: the next Get asks the
// source.
//
// A change announced while id is being loaded is not lost: a refresh of id that is queued
// or running (one that may have read the value before the change) is followed by another:
// its answer is cached already stale and, with reload, refreshed again at once. A load of
// an id that was not cached yet, running when MarkStale comes, is cached stale (and, with
// reload, refreshed at once) rather than fresh. The same holds for whole-set loads in
// full-backend mode.
func (c *Cache[T]) MarkStale(id string, reload bool) {
	if c.closed.Load() {
		return
	}
	if c.full != nil {
		c.markSetStale(reload)
		if reload {
			c.startSetRefresh(context.Background(), nil)
		}
		return
	}
	h := maphash.String(c.seed, id)
	s := c.shardFor(h)
	c.lock(s)
	link, e := s.lookup(h, id)
	if e != nil && negative(e) {
		// A remembered "not found" is forgotten: the object may have been created, and the
		// next read asks the source.
		c.drop(s, link, e)
		e = nil
	}
	switch {
	case e == nil:
		// A load of id may be running, having read the value before the change: it will
		// cache its answer stale.
		s.marks++
		if reload {
			s.reloads++
		}
	default:
		// A refresh that has begun to load will see the marks when it ends, and not take
		// its answer for fresh; one that has not begun yet clears them as it begins.
		set := flagStale | flagMarked
		if reload {
			set |= flagMarkedReload
		}
		e.SetFlags(set)
		s.reschedule(e)
	}
	c.emitEvicted(c.unlock(s))
	if e != nil && reload {
		c.startRefresh(context.Background(), e)
	}
}

// MarkAllStale marks every cached object stale (Asterisk: "sorcery memory cache stale
// <cache>"): each is still served, and its next Get starts its refresh. Remembered "not
// found" answers are forgotten, so that an object created meanwhile is found at the next
// Get. As with MarkStale, the answer of a load or refresh that is running then is cached
// stale.
func (c *Cache[T]) MarkAllStale() {
	if c.closed.Load() {
		return
	}
	if c.full != nil {
		c.markSetStale(false)
		return
	}
	var negatives []*entry[T]
	for i := range c.shards {
		s := &c.shards[i]
		c.lock(s)
		s.marks++ // loads running now are cached stale
		for e := range s.walk {
			if negative(e) {
				negatives = append(negatives, e)
			} else {
				e.SetFlags(flagStale | flagMarked)
			}
		}
		// Remembered "not found" answers are forgotten: the objects may have been created
		// meanwhile (a bus catch-up calls this after announcements were lost).
		for _, e := range negatives {
			link, _ := s.lookup(e.Hash(), e.Key())
			c.drop(s, link, e)
		}
		clear(negatives)
		negatives = negatives[:0]
		s.heap.Refigure(due[T])
		c.release(s)
	}
}

// Populate loads every object through the whole-set loader and makes the cache hold
// exactly that set (Asterisk: "sorcery memory cache populate"): ids the source no longer
// has are removed. On error the cache is left as it was. In full-backend mode it reloads
// the set now, coalesced with any load of it already running. Without a whole-set loader
// it returns an error matching [errors.ErrUnsupported].
func (c *Cache[T]) Populate(ctx context.Context) error {
	if c.closed.Load() {
		return errors.ErrClosed
	}
	if c.loadAll == nil {
		return errors.Errorf("cache %q: populate needs a whole-set loader (NewFull): %w", c.name, errors.ErrUnsupported)
	}
	if c.full != nil {
		return c.populateSet(ctx)
	}
	list, err := c.loadAll(ctx)
	if err != nil {
		c.counters.fullLoads.errors.Add(1)
		return err
	}
	c.counters.fullLoads.found.Add(1)
	c.succeeded()
	now := c.now()
	keep := make(map[string]struct{}, len(list))
	for _, it := range list {
		if _, dup := keep[it.ID]; dup {
			continue
		}
		keep[it.ID] = struct{}{}
		h := maphash.String(c.seed, it.ID)
		s := c.shardFor(h)
		c.lock(s)
		c.put(s, c.fresh(h, it.ID, it.Value, now))
		c.emitEvicted(c.unlock(s))
	}
	for i := range c.shards {
		s := &c.shards[i]
		c.lock(s)
		var gone []*entry[T]
		for e := range s.walk {
			if _, ok := keep[e.Key()]; !ok {
				gone = append(gone, e)
			}
		}
		for _, e := range gone {
			link, _ := s.lookup(e.Hash(), e.Key())
			c.drop(s, link, e)
		}
		s.epoch++
		c.release(s)
		c.countExpired(gone)
	}
	return nil
}

// Len returns the number of cached objects, negative entries not included.
func (c *Cache[T]) Len() int {
	if c.full != nil {
		return c.full.cur.Load().objects()
	}
	n := int64(0)
	for i := range c.shards {
		n += c.shards[i].objects.Load()
	}
	return int(n)
}

// Stats returns a snapshot of the cache's counters and gauges. It walks the entries to
// find the oldest, one shard at a time.
func (c *Cache[T]) Stats() Stats {
	st := Stats{Name: c.name}
	st.Hits = c.hits.Sum(hitFresh)
	st.StaleHits = c.hits.Sum(hitStale)
	st.ServedExtended = c.hits.Sum(hitExtended)
	st.NegativeHits = c.hits.Sum(hitNegative)
	st.Misses = c.hits.Sum(hitMiss)
	k := &c.counters
	st.Loads = k.loads.snapshot()
	st.FullLoads = k.fullLoads.snapshot()
	st.RefreshUpdated = k.refreshUpdated.Load()
	st.RefreshRemoved = k.refreshRemoved.Load()
	st.RefreshErrors = k.refreshErrors.Load()
	st.Expired = k.expired.Load()
	st.Evicted = k.evicted.Load()
	st.RefreshesInFlight = int(c.refresh.pending.Load())
	if ls := k.lastSuccess.Load(); ls != 0 {
		st.LastSuccess = c.base.Add(time.Duration(ls - 1))
	}
	oldest := never
	shards := c.shards
	if c.full != nil {
		g := c.full.cur.Load()
		shards = g.shards
		st.Complete = g.complete
		if g.extended.Load() {
			st.Extended = g.objects()
		}
	}
	for i := range shards {
		s := &shards[i]
		st.Objects += int(s.objects.Load())
		st.NegativeObjects += int(s.negatives.Load())
		st.Extended += int(s.extended.Load())
		s.mu.Lock()
		for e := range s.walk {
			if e.Value.loadedAt < oldest && !negative(e) {
				oldest = e.Value.loadedAt
			}
		}
		s.mu.Unlock()
	}
	if oldest != never {
		st.OldestAge = time.Duration(c.now() - oldest)
	}
	return st
}

// Close stops the cache: it cancels running loads and refreshes, waits for every goroutine
// of the cache to return, and empties it. Later calls of Get, Populate and All return
// [errors.ErrClosed]; Set, Delete and the other writes do nothing. The first Close returns
// nil; later ones return [errors.ErrClosed]. A snapshot of the cache (package
// cache/snapshot) must be closed first, so that it writes what the cache held. Close waits
// for the cache's own goroutines, so it must not be called from a LoadFunc or from
// Options.OnEvent.
func (c *Cache[T]) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return errors.ErrClosed
	}
	c.closeRefresh()
	c.cancelClose()
	for i := range c.shards {
		c.shards[i].loads.Close()
	}
	if c.full != nil {
		c.full.loads.Close()
	}
	c.stopJanitor()
	c.wg.Wait()
	c.waitRefresh()
	if c.full != nil {
		c.closeSet()
	}
	for i := range c.shards {
		s := &c.shards[i]
		c.lock(s)
		s.clear(false)
		c.release(s)
	}
	if c.policy != nil {
		c.policy.Reset()
	}
	return nil
}

// emit delivers ev to OnEvent, which the caller checked is set, if it takes its kind.
func (c *Cache[T]) emit(ev Event) {
	if c.events&(1<<ev.Kind) != 0 {
		c.deliver(ev)
	}
}

// emitEntry emits an event of kind about e; it reads the clock for its age only if
// OnEvent takes the kind.
func (c *Cache[T]) emitEntry(kind EventKind, e *entry[T]) {
	if c.events&(1<<kind) != 0 {
		c.deliver(Event{Kind: kind, ID: e.Key(), Age: time.Duration(c.now() - e.Value.loadedAt)})
	}
}

// deliver calls OnEvent with ev, which it takes.
func (c *Cache[T]) deliver(ev Event) {
	ev.Cache = c.name
	c.onEvent(ev)
}

func (c *Cache[T]) emitEvicted(evicted []*entry[T]) {
	if c.onEvent == nil || len(evicted) == 0 {
		return
	}
	for _, e := range evicted {
		if !negative(e) {
			c.emitEntry(EventEvicted, e)
		}
	}
}
