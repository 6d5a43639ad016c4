package cache

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/flight"
)

// fullSet is the state of a full-backend cache's whole set. Its entries live in the shards
// like any others (so Get is the same), without deadlines of their own: the set has them.
type fullSet[T any] struct {
	// mu guards loadedAt, staleAt, expireAt and extended, and the writing of stale,
	// complete and due. It is held for writing while the whole set is replaced, dropped,
	// marked stale or extended, and for reading by Set, Delete and All, so that they never
	// see half of a replacement. It is taken before any shard's mu.
	mu       sync.RWMutex
	loadedAt int64 // clock reading of the last successful whole load
	staleAt  int64
	expireAt int64
	extended bool

	stale      atomic.Bool  // past the stale point: a read starts a refresh; written under mu
	complete   atomic.Bool  // a whole set is loaded; written under mu
	refreshing atomic.Bool  // a set refresh is queued or running
	due        atomic.Int64 // the set's next deadline, or never; written under mu

	// marked says that the set was marked stale, or changed by Set, Delete or ExpireAll,
	// since the last whole load began: that load may have read the source before the change,
	// so its answer is installed stale. markedReload (MarkStale with reload, ExpireAll) asks,
	// in addition, for another load as soon as it ends. Both are cleared as a whole load
	// begins.
	marked, markedReload atomic.Bool

	loads flight.Group[struct{}, struct{}] // coalesces whole-set loads
}

// nextDue returns the set's next deadline. The caller holds mu.
func (f *fullSet[T]) nextDue() int64 {
	if !f.complete.Load() {
		return never
	}
	if !f.stale.Load() && f.staleAt < f.expireAt {
		return f.staleAt
	}
	return f.expireAt
}

// fullMiss answers a Get for an id absent from a full-backend cache.
func (c *Cache[T]) fullMiss(ctx context.Context, s *shard[T], h uint64, id string) (v T, found bool, err error) {
	f := c.full
	hc := &c.hits[stripeHint()&c.hitMask]
	if f.complete.Load() {
		hc.negativeHits.Add(1)
		if f.stale.Load() {
			c.startSetRefresh(ctx)
		}
		if c.onEvent != nil {
			c.emit(Event{Kind: EventNegativeHit, ID: id})
		}
		return v, false, nil
	}
	hc.misses.Add(1)
	if c.onEvent != nil {
		c.emit(Event{Kind: EventMiss, ID: id})
	}
	if err := c.ensureSet(ctx); err != nil {
		return v, false, err
	}
	s.mu.Lock()
	_, e := s.lookup(h, id)
	s.mu.Unlock()
	if e == nil || e.negative() {
		return v, false, nil
	}
	return e.value, true, nil
}

// ensureSet loads the whole set unless it is complete.
func (c *Cache[T]) ensureSet(ctx context.Context) error {
	f := c.full
	if f.complete.Load() {
		return nil
	}
	err := c.doLoadSet(ctx)
	if f.complete.Load() {
		return nil
	}
	if c.closed.Load() {
		return errors.ErrClosed
	}
	if err == nil {
		err = fmt.Errorf("sorcery: cache %q: the whole set expired as it loaded: %w", c.name, errors.ErrUnavailable)
	}
	return err
}

// doLoadSet loads the whole set now, or joins the load of it that is running, and starts
// another in the background if the set was marked for reload while it loaded.
func (c *Cache[T]) doLoadSet(ctx context.Context) error {
	_, _, err, _ := c.full.loads.Do(ctx, struct{}{}, c.loadSet)
	if c.full.markedReload.Load() {
		c.startSetRefresh(ctx)
	}
	return err
}

// loadSet loads the whole set for the callers waiting on full.loads, and installs it, or
// on error extends the set it had.
func (c *Cache[T]) loadSet(ctx context.Context) (struct{}, bool, error) {
	// The load reads what the source holds from now on: it answers the marks made so far.
	c.full.marked.Store(false)
	c.full.markedReload.Store(false)
	list, err := c.loadAll(ctx)
	now := c.now()
	if err != nil {
		c.counters.fullLoads.errors.Add(1)
		c.extendSet(now, err)
		return struct{}{}, false, err
	}
	c.counters.fullLoads.found.Add(1)
	c.succeeded()
	if c.installSet(list, now) {
		c.counters.refreshUpdated.Add(1)
		if c.onEvent != nil {
			c.emit(Event{Kind: EventRefreshUpdated})
		}
	}
	return struct{}{}, true, nil
}

// installSet replaces the set with list, loaded at now, and reports whether it replaced a
// complete set.
func (c *Cache[T]) installSet(list []Entry[T], now int64) (replaced bool) {
	per := make([][]*entry[T], len(c.shards))
	for _, it := range list {
		h := maphash.String(c.seed, it.ID)
		i := h >> c.shardShift
		per[i] = append(per[i], c.fresh(h, it.ID, it.Value, now))
	}
	f := c.full
	f.mu.Lock()
	replaced = f.complete.Load()
	// Marked while it loaded: the answer may predate the change, so the set starts stale.
	stale := f.marked.Load()
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		if stale {
			for _, n := range per[i] {
				n.flags.Store(flagStale)
			}
		}
		s.clear(false)
		s.table.Store(newTable[T](len(per[i])))
		for _, n := range per[i] {
			if _, dup := s.lookup(n.hash, n.key); dup == nil {
				s.insert(n)
			}
		}
		s.mu.Unlock()
	}
	f.loadedAt = now
	f.staleAt, f.expireAt = never, never
	if c.lifeStale > 0 {
		f.staleAt = addClock(now, c.lifeStale)
	}
	if c.lifeMax > 0 {
		f.expireAt = addClock(now, c.lifeMax)
	}
	f.stale.Store(stale)
	f.extended = false
	f.complete.Store(true)
	due := f.nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	c.kickJanitor(due)
	return replaced
}

// extendSet keeps the set past a failed whole load at now, as extend does for an entry.
func (c *Cache[T]) extendSet(now int64, cause error) {
	f := c.full
	f.mu.Lock()
	if !f.complete.Load() {
		f.mu.Unlock()
		return // a first load failed: there is nothing to keep
	}
	age := time.Duration(now - f.loadedAt)
	c.counters.refreshErrors.Add(1)
	f.staleAt, f.expireAt = c.extension(f.loadedAt, now)
	f.stale.Store(false)
	f.extended = true
	var expired Event
	dropped := false
	if f.expireAt <= now {
		expired, dropped = c.dropSetLocked(now)
	} else {
		c.setFlagsAll(flagStale|flagRefreshing, flagExtended)
	}
	due := f.nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	c.kickJanitor(due)
	if c.onEvent != nil {
		c.emit(Event{Kind: EventRefreshError, Age: age, Err: cause})
		if dropped {
			c.emit(expired)
		}
	}
}

// setFlagsAll changes the flags of every object in the set, keeping the extended gauges
// right. The caller holds full.mu for writing.
func (c *Cache[T]) setFlagsAll(clear, set uint32) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for e := range s.walk {
			if e.negative() {
				continue
			}
			was := e.flags.Load()&flagExtended != 0
			setFlags(e, clear, set)
			is := e.flags.Load()&flagExtended != 0
			switch {
			case is && !was:
				s.extended.Add(1)
			case was && !is:
				s.extended.Add(-1)
			}
		}
		s.mu.Unlock()
	}
}

// markSetStale marks the whole set stale, so the next read starts its refresh, and marks
// the whole load running, if one is, so that its answer is installed stale (and, with
// reload, loaded again at once).
func (c *Cache[T]) markSetStale(reload bool) {
	f := c.full
	f.mu.Lock()
	f.marked.Store(true)
	if reload {
		f.markedReload.Store(true)
	}
	if f.complete.Load() {
		f.stale.Store(true)
		c.setFlagsAll(0, flagStale)
		f.due.Store(f.nextDue())
	}
	f.mu.Unlock()
}

// dropSetLocked empties the set, which makes it incomplete, and returns the event for it.
// The caller holds full.mu for writing.
func (c *Cache[T]) dropSetLocked(now int64) (ev Event, dropped bool) {
	f := c.full
	dropped = f.complete.Load()
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.clear(false)
		s.mu.Unlock()
	}
	f.complete.Store(false)
	f.stale.Store(false)
	f.extended = false
	f.due.Store(never)
	if dropped {
		c.counters.expired.Add(1)
	}
	return Event{Kind: EventExpired, Age: time.Duration(now - f.loadedAt)}, dropped
}

// expireSet applies the set's deadline if it passed by now and returns the next one.
func (c *Cache[T]) expireSet(now int64, events *[]Event) int64 {
	f := c.full
	if f.due.Load() > now {
		return f.due.Load()
	}
	f.mu.Lock()
	if f.complete.Load() {
		switch {
		case f.expireAt <= now && f.refreshing.Load() && c.serveLimit(f.loadedAt) > now:
			// A refresh of the set is queued or running: its answer decides, not the clock.
			f.expireAt = c.serveLimit(f.loadedAt)
		case f.expireAt <= now:
			if ev, dropped := c.dropSetLocked(now); dropped && c.onEvent != nil {
				*events = append(*events, ev)
			}
		case !f.stale.Load() && f.staleAt <= now:
			f.stale.Store(true)
			c.setFlagsAll(0, flagStale)
		}
	}
	due := f.nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	return due
}

// startSetRefresh queues a refresh of the whole set unless one is queued or running.
func (c *Cache[T]) startSetRefresh(ctx context.Context) {
	f := c.full
	if f.refreshing.Load() || !f.refreshing.CompareAndSwap(false, true) {
		return
	}
	if !c.enqueueRefresh(refreshJob[T]{ctx: ctx}) {
		f.refreshing.Store(false)
	}
}

// refreshSet reloads the whole set in the background, and once more if it was marked for
// reload while it loaded.
func (c *Cache[T]) refreshSet(ctx context.Context) {
	c.full.loads.Do(ctx, struct{}{}, c.loadSet) // loadSet applies the outcome
	c.full.refreshing.Store(false)
	if c.full.markedReload.Load() {
		c.startSetRefresh(ctx)
	}
}

// All returns every object of a full-backend cache, sorted by id, loading the whole set
// first if it is not loaded; it returns the load's error rather than a partial set. Like a
// Get, it starts the set's background refresh when the set is stale. Without full-backend
// mode it returns an error matching [errors.ErrUnsupported].
func (c *Cache[T]) All(ctx context.Context) ([]Entry[T], error) {
	if c.full == nil {
		return nil, fmt.Errorf("sorcery: cache %q: All needs full_backend_cache: %w", c.name, errors.ErrUnsupported)
	}
	if c.closed.Load() {
		return nil, errors.ErrClosed
	}
	f := c.full
	for range 3 {
		if err := c.ensureSet(ctx); err != nil {
			return nil, err
		}
		f.mu.RLock()
		if !f.complete.Load() { // dropped between the load and here
			f.mu.RUnlock()
			continue
		}
		stale := f.stale.Load()
		var out []Entry[T]
		for i := range c.shards {
			s := &c.shards[i]
			s.mu.Lock()
			for e := range s.walk {
				if !e.negative() {
					out = append(out, Entry[T]{ID: e.key, Value: e.value})
				}
			}
			s.mu.Unlock()
		}
		f.mu.RUnlock()
		if stale {
			c.startSetRefresh(ctx)
		}
		slices.SortFunc(out, func(a, b Entry[T]) int { return cmp.Compare(a.ID, b.ID) })
		return out, nil
	}
	return nil, fmt.Errorf("sorcery: cache %q: the whole set keeps expiring as it loads: %w", c.name, errors.ErrUnavailable)
}
