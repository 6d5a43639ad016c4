package cache

import (
	"context"
	"hash/maphash"
)

// This file holds what a caller that walks a chain of sources itself needs of a cache: a
// look-up that never calls the LoadFunc, and the storing of the answer the caller got from
// the sources behind the cache. sorcery's Type uses them: its walk visits a cache layer,
// and a miss there continues the same walk instead of a second one run by the cache.
//
// The cache's own lifetimes, background refreshes and events apply to what is stored
// this way exactly as to what Get loads.

// Miss is what [Cache.Lookup] says about an id it could not answer for: the state of the
// cache when it looked, which [Cache.Store] needs to tell whether the id was deleted,
// expired or marked stale while the caller asked its sources. The zero Miss is a look-up
// that answered; it makes Store do nothing.
type Miss struct {
	epoch, marks, reloads uint64 // the id's shard counters when Lookup missed
	missed                bool
}

// Missed reports whether the look-up found nothing to answer with: the caller asks its
// sources and hands their answer to [Cache.Store] with this Miss.
func (m Miss) Missed() bool { return m.missed }

// Lookup answers for id from memory, without calling the LoadFunc:
//
//   - an object cached (fresh, stale or extended): (v, true, Miss{}). A stale entry's
//     background refresh is queued, once, as by Get: the LoadFunc runs on a refresh
//     worker, never in the caller.
//   - a remembered absence (a negative entry, or an id absent from a complete full-backend
//     set): (zero, false, Miss{}).
//   - nothing usable: (zero, false, m) with m.Missed(). The caller asks its sources, then
//     calls [Cache.Store] with their answer and m.
//
// Lookup is counted and reported (Options.OnEvent) exactly as a Get: a hit of one of the
// four kinds, or a miss. A hit takes no lock and allocates nothing, as Get's.
//
// A full-backend cache whose whole set is not loaded yet loads it first, through the
// whole-set loader, coalesced with any load of it already running, as Get does: the set
// is the cache's own. When that load fails, Lookup misses (the failure is counted in
// Stats.FullLoads and reported as Get reports it); the caller's own sources decide. After
// Close, Lookup misses and Store does nothing.
func (c *Cache[T]) Lookup(ctx context.Context, id string) (v T, found bool, m Miss) {
	if c.full != nil {
		// Get counts and reports the look-up, and loads the set if it is not complete.
		v, found, err := c.fullGet(ctx, id)
		if err != nil {
			return v, false, Miss{missed: true}
		}
		return v, found, Miss{}
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
			return e.Value.value, true, Miss{}
		}
		v, found, _ = c.serve(ctx, e, f)
		return v, found, Miss{}
	}
	return c.lookupMiss(ctx, s, h, id)
}

// lookupMiss handles a Lookup that found nothing without the lock.
func (c *Cache[T]) lookupMiss(ctx context.Context, s *shard[T], h uint64, id string) (v T, found bool, m Miss) {
	if c.closed.Load() {
		return v, false, Miss{missed: true}
	}
	// A lock-free lookup can miss an entry while the shard grows: confirm under the lock,
	// and note the counters Store compares with.
	s.mu.Lock()
	_, e := s.lookup(h, id)
	m = Miss{epoch: s.epoch, marks: s.marks, reloads: s.reloads, missed: true}
	s.mu.Unlock()
	if e != nil {
		v, found, _ = c.serve(ctx, e, e.Flags())
		return v, found, Miss{}
	}
	c.hits.Add(hitMiss)
	if c.onRead != nil {
		c.emit(Event{Kind: EventMiss, ID: id})
	}
	return v, false, m
}

// Store caches the answer the caller's sources gave for id after [Cache.Lookup] missed
// with m, with the rules Get applies to a load:
//
//   - (v, true, nil), found: cached fresh.
//   - (v, true, err), degraded (found by a fallback source while a preferred one failed
//     with err): cached living on an extension, as after a failed refresh: it goes stale
//     after ErrorRecheck, so the preferred source is asked again then, and expires
//     LifetimeMaximum later (both capped by StaleIfError).
//   - (zero, false, nil), not found: a negative entry when NegativeLifetime is set,
//     nothing otherwise.
//   - (zero, false, err): nothing; what the cache holds is left as it is.
//
// The cache's state wins over the answer, as over a load's: an entry stored for id since
// the look-up (by Set, SetDegraded or another Store) is kept; an id deleted or expired by
// hand since then is not cached (the answer may predate the deletion); an id marked stale
// since then is cached stale (and refreshed at once if marked with reload). The answer is
// counted in Stats.Loads as a load's. A full-backend cache, whose entries have no
// lifetimes of their own, takes a found object as Set does and nothing else.
//
// ctx is the caller's: a refresh Store starts keeps its values, not its deadline. Store
// does nothing with the zero Miss or after Close.
func (c *Cache[T]) Store(ctx context.Context, id string, v T, found bool, err error, m Miss) {
	if !m.missed || c.closed.Load() {
		return
	}
	c.countLoad(found, err)
	if c.full != nil {
		if found {
			c.Set(id, v)
		}
		return
	}
	h := maphash.String(c.seed, id)
	c.install(ctx, c.shardFor(h), h, id, v, found, err, m.epoch, m.marks, m.reloads)
}

// SetDegraded caches v for id as an object that was found while a preferred source
// failed, pushed by a caller that found it without looking the cache up (another layer of
// a chain answered). It leaves the cache as a degraded answer to a refresh would:
//
//   - an object cached for id wins and lives on an extension: it goes stale after
//     ErrorRecheck and expires LifetimeMaximum from now, both capped by StaleIfError (and
//     is removed if that cap has passed);
//   - otherwise v is cached living on an extension from now, as [Cache.Store] caches a
//     degraded answer.
//
// A full-backend cache takes v as Set does. SetDegraded does nothing after Close.
func (c *Cache[T]) SetDegraded(id string, v T) {
	if c.closed.Load() {
		return
	}
	if c.full != nil {
		c.Set(id, v)
		return
	}
	h := maphash.String(c.seed, id)
	s := c.shardFor(h)
	now := c.now()
	c.lock(s)
	link, cur := s.lookup(h, id)
	expired := false
	if cur != nil && !negative(cur) {
		// A refresh queued or running stays so: extend clears the flag it holds.
		refreshing := cur.Flags() & flagRefreshing
		if expired = c.extend(s, link, cur, now); !expired {
			cur.SetFlags(refreshing)
		}
	} else {
		n := c.fresh(h, id, v, now)
		n.StoreFlags(flagExtended)
		n.Value.staleAt, n.Value.expireAt = c.extension(now, now)
		c.put(s, n)
	}
	evicted := c.unlock(s)
	if expired && c.onEvent != nil {
		c.emitEntry(EventExpired, cur)
	}
	c.emitEvicted(evicted)
}
