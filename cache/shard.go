package cache

import (
	"sync"
	"sync/atomic"

	"github.com/gosorcery/gosorcery/internal/cachetable"
	"github.com/gosorcery/gosorcery/internal/flight"
)

// never is the deadline of something that does not happen.
const never = cachetable.Never

// Entry flags, read by Get without a lock. cachetable.Referenced is the eviction policy's.
const (
	flagStale        uint32 = 1 << iota // past its stale point: a read starts a refresh
	flagExtended                        // kept past a failed refresh (or found degraded)
	flagNegative                        // a remembered "not found"; value is the zero value
	flagRefreshing                      // a refresh is queued or running
	flagMarked                          // marked stale since its last refresh began to load
	flagMarkedReload                    // marked stale with reload since its last refresh began to load

	// flagRef says that the entry was read since the eviction policy last looked (bounded
	// caches).
	flagRef = cachetable.Referenced

	// slowFlags send a hit off the fast path.
	slowFlags = flagStale | flagExtended | flagNegative
)

// entry is one cached id: a [cachetable.Entry] holding an item. Entries are immutable once
// published except for flags (atomic) and the item's deadlines, guarded by their shard's
// mu; a new value is a new entry, so a reader that found an entry reads a consistent value
// without a lock.
type entry[T any] = cachetable.Entry[item[T]]

// item is what the cache keeps in an entry besides what the table keeps.
type item[T any] struct {
	value    T     // immutable
	loadedAt int64 // clock reading of the last successful load; immutable
	staleAt  int64 // guarded by shard.mu (full-backend entries: unused)
	expireAt int64 // guarded by shard.mu (full-backend entries: unused)
	// extendedAt is the clock reading at which the entry began to live on an extension (its
	// first failed refresh, or its degraded load); guarded by shard.mu, 0 when not extended.
	extendedAt int64
}

// newEntry returns an unpublished entry for id, whose hash is h, without deadlines.
func newEntry[T any](h uint64, id string, v T, loadedAt int64) *entry[T] {
	return cachetable.NewEntry(h, id, item[T]{value: v, loadedAt: loadedAt, staleAt: never, expireAt: never})
}

func negative[T any](e *entry[T]) bool { return e.Flags()&flagNegative != 0 }

// due returns e's next transition: its stale point while fresh, then its expiry. The
// caller holds the shard's mu.
func due[T any](e *entry[T]) int64 {
	if e.Flags()&flagStale == 0 && e.Value.staleAt < e.Value.expireAt {
		return e.Value.staleAt
	}
	return e.Value.expireAt
}

// link points at an entry of a shard's table.
type link[T any] = cachetable.Link[item[T]]

// shard is one part of the cache's key space: a table, the deadlines of its entries, and
// what the cache counts about them.
type shard[T any] struct {
	table cachetable.Table[item[T]] // read by every Get; padded apart from the fields below

	mu    sync.Mutex                    // guards table writes, heap, epoch, marks, reloads and entries' deadlines
	heap  cachetable.Deadlines[item[T]] // entries with a deadline
	epoch uint64                        // bumped by removals by hand: a load that raced with one is not cached
	marks uint64                        // bumped by MarkStale of an absent id and by MarkAllStale: a load that raced with one is cached stale
	// reloads is bumped by MarkStale with reload of an absent id: a load that raced with one
	// is refreshed at once.
	reloads uint64

	// Gauges, written under mu, read by Stats and Len without it.
	objects   atomic.Int64
	negatives atomic.Int64
	extended  atomic.Int64
	gen       atomic.Uint64 // bumped by every insertion, replacement and removal: the snapshot writer skips a cache that did not change

	loads flight.Group[string, T] // coalesces loads of this shard's ids
}

func (s *shard[T]) init() {
	s.table.Init()
	s.heap.Init()
}

// lookup finds id and the link that points at it. The caller holds mu.
func (s *shard[T]) lookup(h uint64, id string) (link[T], *entry[T]) {
	return s.table.Lookup(h, id)
}

// account adds d (1 or -1) times e to the gauges. The caller holds mu.
func (s *shard[T]) account(e *entry[T], d int64) {
	f := e.Flags()
	switch {
	case f&flagNegative != 0:
		s.negatives.Add(d)
	case f&flagExtended != 0:
		s.objects.Add(d)
		s.extended.Add(d)
	default:
		s.objects.Add(d)
	}
}

// insert adds e, whose key is absent. The caller holds mu.
func (s *shard[T]) insert(e *entry[T]) {
	s.table.Insert(e)
	s.gen.Add(1)
	s.account(e, 1)
	s.heap.Schedule(e, due(e))
}

// replace puts n in old's place; l points at old. The caller holds mu.
func (s *shard[T]) replace(l link[T], old, n *entry[T]) {
	s.table.Replace(l, old, n) // readers now find n; one already on old still walks on through it
	s.gen.Add(1)
	s.account(old, -1)
	s.account(n, 1)
	s.heap.Unschedule(old)
	s.heap.Schedule(n, due(n))
}

// remove unlinks e; l points at it. The caller holds mu.
func (s *shard[T]) remove(l link[T], e *entry[T]) {
	s.table.Remove(l, e)
	s.gen.Add(1)
	s.account(e, -1)
	s.heap.Unschedule(e)
}

// reschedule moves e to its new due time. The caller holds mu.
func (s *shard[T]) reschedule(e *entry[T]) { s.heap.Reschedule(e, due(e)) }

// minDue returns the shard's earliest deadline, or never, without the lock.
func (s *shard[T]) minDue() int64 { return s.heap.MinDue() }

// clear empties the shard and returns what it held. The caller holds mu.
func (s *shard[T]) clear(collect bool) []*entry[T] {
	var out []*entry[T]
	if collect {
		out = s.entries(out)
	}
	s.table.Init()
	s.heap.Init()
	s.epoch++
	s.gen.Add(1)
	s.objects.Store(0)
	s.negatives.Store(0)
	s.extended.Store(0)
	return out
}

// entries appends every entry to dst. The caller holds mu.
func (s *shard[T]) entries(dst []*entry[T]) []*entry[T] {
	for e := range s.table.All {
		dst = append(dst, e)
	}
	return dst
}

// walk yields every entry of the shard. The caller holds mu.
func (s *shard[T]) walk(yield func(*entry[T]) bool) { s.table.All(yield) }
