package cache

import (
	"sync/atomic"
	"time"
)

// janitor is the cache's one background goroutine for time: it sleeps until the earliest
// deadline of any entry (or of the full-backend set), then marks what went stale and
// removes what expired. Reads never look at the clock: they read the flags the janitor
// sets. A write that schedules a deadline earlier than the one the janitor sleeps for
// kicks it.
type janitor struct {
	kick    chan struct{} // buffered 1: an earlier deadline was scheduled
	stop    chan struct{} // closed by Close
	wakeAt  atomic.Int64  // the deadline the janitor sleeps for; never while it works
	running bool          // set by the constructor
}

func (c *Cache[T]) startJanitor() {
	c.janitor.kick = make(chan struct{}, 1)
	c.janitor.stop = make(chan struct{})
	c.janitor.wakeAt.Store(never)
	c.janitor.running = true
	c.wg.Add(1)
	go c.runJanitor()
}

func (c *Cache[T]) stopJanitor() {
	if c.janitor.running {
		close(c.janitor.stop)
	}
}

// kickJanitor wakes the janitor if due is earlier than the deadline it sleeps for.
func (c *Cache[T]) kickJanitor(due int64) {
	if !c.janitor.running || due >= c.janitor.wakeAt.Load() {
		return
	}
	select {
	case c.janitor.kick <- struct{}{}:
	default:
	}
}

func (c *Cache[T]) runJanitor() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var events []Event
	for {
		// While it works, wakeAt is never, so that every write that schedules a deadline
		// kicks it: the kick makes it look again before it sleeps.
		c.janitor.wakeAt.Store(never)
		now := c.now()
		next := never
		for i := range c.shards {
			next = min(next, c.expireShard(&c.shards[i], now, &events))
		}
		if c.full != nil {
			next = min(next, c.expireSet(now, &events))
		}
		c.janitor.wakeAt.Store(next)
		for i := range events {
			c.emit(events[i])
			events[i] = Event{}
		}
		events = events[:0]

		var fire <-chan time.Time
		if next != never {
			timer.Reset(time.Duration(next - c.now()))
			fire = timer.C
		}
		select {
		case <-fire:
		case <-c.janitor.kick:
			timer.Stop()
		case <-c.janitor.stop:
			timer.Stop()
			return
		}
	}
}

// expireShard applies the deadlines of s that passed by now and returns its next one.
func (c *Cache[T]) expireShard(s *shard[T], now int64, events *[]Event) int64 {
	if s.minDue() > now {
		return s.minDue()
	}
	c.lock(s)
	for {
		e, due := s.heap.First()
		if due > now {
			break
		}
		if e.Value.expireAt > now {
			e.SetFlags(flagStale)
			s.reschedule(e)
			continue
		}
		if e.Flags()&flagRefreshing != 0 {
			// A refresh of e is queued or running: its answer decides, not the clock (a
			// failure extends e). Only the StaleIfError cap ends it sooner.
			if limit := c.serveLimit(e.Value.loadedAt); limit > now {
				e.Value.expireAt = limit
				s.reschedule(e)
				continue
			}
		}
		if link, cur := s.lookup(e.Hash(), e.Key()); cur == e {
			c.drop(s, link, e)
		} else {
			s.heap.Unschedule(e) // not reachable: an entry leaves the heap as it leaves the table
		}
		if !negative(e) {
			c.counters.expired.Add(1)
			if c.onEvent != nil {
				*events = append(*events, Event{Kind: EventExpired, ID: e.Key(), Age: time.Duration(now - e.Value.loadedAt)})
			}
		}
	}
	next := s.minDue()
	evicted := c.release(s)
	c.emitEvicted(evicted)
	return next
}
