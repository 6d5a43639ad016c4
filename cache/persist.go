package cache

import (
	"hash/maphash"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// The methods of this file let a persistence layer save a cache and restore it in another
// process without reaching into it: package cache/snapshot is built on them alone. They are
// not needed otherwise.

// Version returns a number that changes whenever an entry is added, replaced or removed (and,
// in full-backend mode, whenever a set is published). A persistence layer compares it with
// the one it saved at to skip a write when nothing changed. Only equality means something.
func (c *Cache[T]) Version() uint64 {
	var v uint64
	shards := c.shards
	if c.full != nil {
		v = c.full.published.Load() << 40
		shards = c.full.cur.Load().shards
	}
	for i := range shards {
		v += shards[i].gen.Load()
	}
	return v
}

// Export calls fn with every object the cache holds, its value and the time of its last
// successful load, so that a persistence layer can save them; negative entries, and entries
// past their expiry that the janitor has not removed yet, are left out. The entries are
// gathered one shard at a time under that shard's lock (in full-backend mode under the set's
// lock as well, so that the set is not replaced halfway); fn is called afterwards, with no
// lock held.
//
// In full-backend mode, set is the time of the last whole load of the set when the cache
// holds a complete one that has not expired, and zero otherwise: what [Cache.RestoreSet]
// needs to restore it complete. After Close, Export calls fn for nothing and returns
// [errors.ErrClosed].
func (c *Cache[T]) Export(fn func(id string, v T, loaded time.Time)) (set time.Time, err error) {
	if c.closed.Load() {
		return set, errors.ErrClosed
	}
	entries, setLoaded := c.gather()
	// Close empties the cache after it set closed: a gathering it overlapped may be partial.
	if c.closed.Load() {
		return time.Time{}, errors.ErrClosed
	}
	for _, e := range entries {
		fn(e.Key(), e.Value.value, c.wallTime(e.Value.loadedAt))
	}
	if setLoaded != nil {
		set = c.wallTime(*setLoaded)
	}
	return set, nil
}

// gather collects the entries Export reports and, for a complete full-backend set, the
// clock reading of its whole load.
func (c *Cache[T]) gather() (entries []*entry[T], setLoaded *int64) {
	now := c.now()
	shards := c.shards
	if f := c.full; f != nil {
		f.mu.Lock() // the set's deadlines, and no write into it while it is gathered
		defer f.mu.Unlock()
		g := f.cur.Load()
		shards = g.shards
		if g.complete && g.expireAt > now {
			setLoaded = &g.loadedAt
		}
	}
	n := 0
	for i := range shards {
		n += int(shards[i].objects.Load())
	}
	entries = make([]*entry[T], 0, n)
	for i := range shards {
		s := &shards[i]
		s.mu.Lock()
		for e := range s.walk {
			if negative(e) || (c.full == nil && e.Value.expireAt <= now) {
				continue
			}
			entries = append(entries, e)
		}
		s.mu.Unlock()
	}
	return entries, setLoaded
}

// Restore installs v for id as an earlier process saved it, loaded being the time of its
// last successful load, so that a cache restarted while its source is down serves what it
// served before. The entry is stale: served at once and refreshed on its first read. It
// expires as if a refresh had just failed: LifetimeMaximum from now, and never past loaded
// + LifetimeMaximum + StaleIfError. Nothing is installed, and Restore returns false, when
// the cache holds id already (an answer of the source since, a remembered absence
// included, is newer), when that cap has passed, or after Close.
//
// In full-backend mode v joins the set only while no whole load has answered, as an object
// pushed with Set would: it is served, and absent ids are not answered from it. A complete
// set is restored with [Cache.RestoreSet].
//
// A Delete of id made before the restore is not remembered: the restored entry is stale,
// and its first read asks the source, which answers that it is gone.
func (c *Cache[T]) Restore(id string, v T, loaded time.Time) bool {
	if c.closed.Load() {
		return false
	}
	now := c.now()
	at := c.clockOf(loaded, now)
	h := maphash.String(c.seed, id)
	e := newEntry(h, id, v, at)
	if f := c.full; f != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		g := f.cur.Load()
		if g.complete || g.find(c, h, id) != nil {
			return false
		}
		c.writeGen(g, e)
		return true
	}
	_, expireAt := c.extension(at, now)
	if expireAt <= now {
		return false // past its StaleIfError cap: it would not be served
	}
	e.Value.staleAt, e.Value.expireAt = now, expireAt
	e.StoreFlags(flagStale)
	s := c.shardFor(h)
	c.lock(s)
	_, cur := s.lookup(h, id)
	if cur == nil {
		c.put(s, e)
	}
	c.emitEvicted(c.unlock(s))
	return cur == nil
}

// RestoreSet installs, in a full-backend cache, a complete set that an earlier process
// saved: set is the time of its last whole load, as [Cache.Export] returned it, and objs
// yields its objects with the times of their last successful loads. The set is stale,
// answering at once (absent ids included) and refreshed on its first read, and expires as
// if a refresh of it had just failed (see [Cache.Restore]). Objects pushed into the cache
// since it was made (Set) are kept over the restored ones. A whole load running meanwhile
// (a first read while the source hangs) is not waited for: its answer, if it comes,
// replaces the restored set, and its failure extends it. RestoreSet returns the number of
// objects installed: 0, and nothing installed, without full-backend mode, once a whole load
// has answered (its answer is newer), when the set is past its StaleIfError cap, or after
// Close.
func (c *Cache[T]) RestoreSet(set time.Time, objs func(yield func(id string, v T, loaded time.Time) bool)) int {
	f := c.full
	if f == nil || c.closed.Load() {
		return 0
	}
	now := c.now()
	g := c.newGen(true, c.clockOf(set, now))
	_, g.expireAt = c.extension(g.loadedAt, now)
	if g.expireAt <= now {
		return 0 // past its StaleIfError cap
	}
	g.staleAt = now
	g.stale.Store(true)
	objs(func(id string, v T, loaded time.Time) bool {
		h := maphash.String(c.seed, id)
		s := g.shard(c, h)
		if _, dup := s.lookup(h, id); dup == nil {
			s.insert(newEntry(h, id, v, c.clockOf(loaded, now)))
		}
		return true
	})

	f.mu.Lock()
	old := f.cur.Load()
	if old.complete || c.closed.Load() {
		f.mu.Unlock()
		return 0
	}
	for i := range old.shards { // pushed since the cache was made: newer than the file
		s := &old.shards[i]
		s.mu.Lock()
		for e := range s.walk { // copied: an entry links into one table only
			c.writeGen(g, newEntry(e.Hash(), e.Key(), e.Value.value, e.Value.loadedAt))
		}
		s.mu.Unlock()
	}
	c.publish(g)
	due := g.nextDue()
	f.due.Store(due)
	f.mu.Unlock()
	c.kickJanitor(due)
	return g.objects()
}

// wallTime converts a reading of the cache's clock to a time without a monotonic reading.
func (c *Cache[T]) wallTime(t int64) time.Time { return c.base.Add(time.Duration(t)).Round(0) }

// maxRestoredAge bounds the age of a restored time, so that ages computed from it cannot
// overflow: about 36 years.
const maxRestoredAge = 1 << 60

// clockOf converts a wall-clock time saved by an earlier process to a reading of the
// cache's clock, no later than now (a clock that went back) and no earlier than
// maxRestoredAge before it.
func (c *Cache[T]) clockOf(t time.Time, now int64) int64 {
	d := int64(t.Round(0).Sub(c.base))
	return min(max(d, now-maxRestoredAge), now)
}
