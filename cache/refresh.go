package cache

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/internal/workq"
)

// refreshJob asks a worker to refresh one entry, or the whole set when e is nil. ctx is the
// context of the read that found the entry stale; the refresh keeps its values, not its
// deadline or cancellation.
type refreshJob[T any] struct {
	ctx context.Context
	e   *entry[T]
}

// refresher runs background refreshes on at most RefreshWorkers goroutines of a
// [workq.Queue]. The queue holds each entry at most once (its flagRefreshing, or
// fullSet.refreshing, says it is queued).
type refresher[T any] struct {
	q       *workq.Queue[refreshJob[T]]
	pending atomic.Int64 // jobs queued or running, for Stats
}

// startRefresh queues a refresh of e, which a reader found stale, unless one is queued or
// running already.
func (c *Cache[T]) startRefresh(ctx context.Context, e *entry[T]) {
	for {
		f := e.Flags()
		if f&(flagStale|flagRefreshing) != flagStale {
			return
		}
		if e.CompareAndSwapFlags(f, f|flagRefreshing) {
			break
		}
	}
	if !c.enqueueRefresh(refreshJob[T]{ctx: ctx, e: e}) {
		e.ClearFlags(flagRefreshing)
	}
}

func (c *Cache[T]) enqueueRefresh(j refreshJob[T]) bool {
	c.refresh.pending.Add(1)
	if !c.refresh.q.Push(j) {
		c.refresh.pending.Add(-1)
		return false
	}
	return true
}

// runRefresh runs one queued refresh on a worker of the queue.
func (c *Cache[T]) runRefresh(j refreshJob[T]) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(j.ctx), c.opts.RefreshTimeout)
	stop := context.AfterFunc(c.closeCtx, cancel)
	if j.e == nil {
		c.refreshSet(ctx)
	} else {
		c.refreshEntry(ctx, j.e)
	}
	stop()
	cancel()
	c.refresh.pending.Add(-1)
}

// closeRefresh stops the queue, dropping the queued refreshes; running ones are cancelled
// by Close, which waits for them with waitRefresh.
func (c *Cache[T]) closeRefresh() {
	c.refresh.pending.Add(-int64(c.refresh.q.Stop()))
}

// waitRefresh waits until the refresh workers have returned, after closeRefresh.
func (c *Cache[T]) waitRefresh() { c.refresh.q.Wait() }

// refreshEntry reloads e and applies the answer: found replaces it, not found removes it,
// an error (or a degraded answer) keeps it and extends its life.
func (c *Cache[T]) refreshEntry(ctx context.Context, e *entry[T]) {
	s := c.shardFor(e.Hash())
	s.mu.Lock()
	_, cur := s.lookup(e.Hash(), e.Key())
	s.mu.Unlock()
	if cur != e {
		return // replaced or removed while queued: nothing to refresh
	}

	// From here on the load reads what the source holds now: the marks made so far are
	// answered by this refresh. A mark made while it loads asks for another.
	e.ClearFlags(flagMarked | flagMarkedReload)
	v, found, err := c.callLoad(ctx, e.Key())
	now := c.now()
	ev := Event{ID: e.Key(), Age: time.Duration(now - e.Value.loadedAt)}
	expired := false

	c.lock(s)
	link, cur := s.lookup(e.Hash(), e.Key())
	if cur != e {
		// Replaced (Set, a newer load) or removed (Delete, expiry) while loading: the newer
		// state of the cache wins over this answer.
		c.emitEvicted(c.unlock(s))
		return
	}
	marks := e.Flags()
	var again *entry[T]
	switch {
	case found && err == nil:
		n := c.fresh(e.Hash(), e.Key(), v, now)
		if marks&flagMarked != 0 {
			// Marked stale while loading: the answer may predate the change announced.
			n.StoreFlags(flagStale)
			if marks&flagMarkedReload != 0 {
				again = n
			}
		}
		c.put(s, n)
		ev.Kind = EventRefreshUpdated
		c.counters.refreshUpdated.Add(1)
	case err == nil:
		if c.negLife > 0 && marks&flagMarked == 0 {
			c.put(s, c.negativeEntry(e.Hash(), e.Key(), now))
		} else {
			c.drop(s, link, e)
		}
		ev.Kind = EventRefreshRemoved
		c.counters.refreshRemoved.Add(1)
	default:
		// The marks stay on e: the source failed, so the next refresh, after ErrorRecheck,
		// answers them.
		ev.Kind, ev.Err = EventRefreshError, err
		c.counters.refreshErrors.Add(1)
		expired = c.extend(s, link, e, now)
	}
	evicted := c.unlock(s)
	if c.onEvent != nil {
		c.emit(ev)
		if expired {
			c.emit(Event{Kind: EventExpired, ID: e.Key(), Age: ev.Age})
		}
	}
	c.emitEvicted(evicted)
	if again != nil {
		c.startRefresh(ctx, again)
	}
}

// extend keeps e past a failed refresh at now: it goes stale again after ErrorRecheck and
// expires LifetimeMaximum from now, both capped by StaleIfError. It reports whether the cap
// has passed, in which case e was removed. The caller holds c.lock(s); link points at e.
func (c *Cache[T]) extend(s *shard[T], link link[T], e *entry[T], now int64) (expired bool) {
	if e.Flags()&flagExtended == 0 {
		s.extended.Add(1)
		e.Value.extendedAt = now
	}
	e.UpdateFlags(flagStale|flagRefreshing, flagExtended)
	e.Value.staleAt, e.Value.expireAt = c.extension(e.Value.loadedAt, now)
	if e.Value.expireAt <= now {
		c.drop(s, link, e)
		c.counters.expired.Add(1)
		return true
	}
	s.reschedule(e)
	return false
}
