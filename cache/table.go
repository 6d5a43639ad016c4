package cache

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/gosorcery/gosorcery/internal/flight"
)

// never is the deadline of something that does not happen.
const never int64 = math.MaxInt64

// Entry flags, read by Get without a lock.
const (
	flagStale        uint32 = 1 << iota // past its stale point: a read starts a refresh
	flagExtended                        // kept past a failed refresh (or found degraded)
	flagNegative                        // a remembered "not found"; value is the zero value
	flagRefreshing                      // a refresh is queued or running
	flagRef                             // read since the eviction policy last looked (bounded caches)
	flagMarked                          // marked stale since its last refresh began to load
	flagMarkedReload                    // marked stale with reload since its last refresh began to load

	// slowFlags send a hit off the fast path.
	slowFlags = flagStale | flagExtended | flagNegative
)

// entry is one cached id. Entries are immutable once published except for flags (atomic)
// and the fields guarded by their shard's mu; a new value is a new entry, so a reader that
// found an entry reads a consistent value without a lock.
type entry[T any] struct {
	// What a hit reads comes first, so that for a small T it shares a cache line.
	hash    uint64
	key     string
	flags   atomic.Uint32
	heapIdx int32 // index in the shard's deadline heap, -1 when not in it; guarded by shard.mu
	value   T
	next    atomic.Pointer[entry[T]] // chain link; written under shard.mu

	loadedAt int64 // clock reading of the last successful load; immutable
	staleAt  int64 // guarded by shard.mu (full-backend entries: unused)
	expireAt int64 // guarded by shard.mu (full-backend entries: unused)
	// extendedAt is the clock reading at which the entry began to live on an extension (its
	// first failed refresh, or its degraded load); guarded by shard.mu, 0 when not extended.
	extendedAt int64

	// The recency list of a bounded cache (policy); guarded by policy.mu, unused otherwise.
	lruPrev, lruNext *entry[T]
}

func (e *entry[T]) negative() bool { return e.flags.Load()&flagNegative != 0 }

// due is the entry's next transition: its stale point while fresh, then its expiry.
// The caller holds the shard's mu.
func (e *entry[T]) due() int64 {
	if e.flags.Load()&flagStale == 0 && e.staleAt < e.expireAt {
		return e.staleAt
	}
	return e.expireAt
}

// table is a shard's bucket array. Readers walk it without a lock; writers hold the
// shard's mu. Growing relinks entries in place: a reader racing with it may miss an entry
// (never find a wrong one), and every miss is confirmed under the lock.
type table[T any] struct {
	buckets []atomic.Pointer[entry[T]]
}

func newTable[T any](n int) *table[T] {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return &table[T]{buckets: make([]atomic.Pointer[entry[T]], size)}
}

func (t *table[T]) bucket(h uint64) *atomic.Pointer[entry[T]] {
	return &t.buckets[h&uint64(len(t.buckets)-1)]
}

// find looks id up without a lock.
func (t *table[T]) find(h uint64, id string) *entry[T] {
	for e := t.bucket(h).Load(); e != nil; e = e.next.Load() {
		if e.hash == h && e.key == id {
			return e
		}
	}
	return nil
}

// slot is one deadline in a shard's heap.
type slot[T any] struct {
	due int64
	e   *entry[T]
}

// shard is one part of the cache's key space.
type shard[T any] struct {
	_     [64]byte                 // keeps table off the previous shard's written fields
	table atomic.Pointer[table[T]] // read by every Get
	_     [56]byte

	mu    sync.Mutex // guards table writes, count, heap, epoch, marks, reloads and entries' deadlines and heapIdx
	count int        // entries in table, negative ones included
	heap  []slot[T]  // entries with a deadline, earliest first
	epoch uint64     // bumped by removals by hand: a load that raced with one is not cached
	marks uint64     // bumped by MarkStale of an absent id and by MarkAllStale: a load that raced with one is cached stale
	// reloads is bumped by MarkStale with reload of an absent id: a load that raced with one
	// is refreshed at once.
	reloads uint64

	// Gauges, written under mu, read by Stats and Len without it.
	objects   atomic.Int64
	negatives atomic.Int64
	extended  atomic.Int64
	minDue    atomic.Int64  // heap[0].due, or never
	gen       atomic.Uint64 // bumped by every insertion, replacement and removal: the snapshot writer skips a cache that did not change

	loads flight.Group[string, T] // coalesces loads of this shard's ids
}

func (s *shard[T]) init() {
	s.table.Store(newTable[T](0))
	s.minDue.Store(never)
}

// lookup finds id and the link that points at it. The caller holds mu.
func (s *shard[T]) lookup(h uint64, id string) (link *atomic.Pointer[entry[T]], e *entry[T]) {
	link = s.table.Load().bucket(h)
	for e = link.Load(); e != nil; e = link.Load() {
		if e.hash == h && e.key == id {
			return link, e
		}
		link = &e.next
	}
	return nil, nil
}

// account adds d (1 or -1) times e to the gauges. The caller holds mu.
func (s *shard[T]) account(e *entry[T], d int64) {
	f := e.flags.Load()
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
	t := s.table.Load()
	if 2*s.count >= len(t.buckets) { // at most one entry per two buckets: short chains
		t = s.grow(t)
	}
	b := t.bucket(e.hash)
	e.next.Store(b.Load())
	b.Store(e)
	s.count++
	s.gen.Add(1)
	s.account(e, 1)
	s.schedule(e)
}

// replace puts n in old's place; link points at old. The caller holds mu.
func (s *shard[T]) replace(link *atomic.Pointer[entry[T]], old, n *entry[T]) {
	n.next.Store(old.next.Load())
	link.Store(n) // readers now find n; one already on old still walks on through old.next
	s.gen.Add(1)
	s.account(old, -1)
	s.account(n, 1)
	s.unschedule(old)
	s.schedule(n)
}

// remove unlinks e; link points at it. The caller holds mu.
func (s *shard[T]) remove(link *atomic.Pointer[entry[T]], e *entry[T]) {
	link.Store(e.next.Load()) // e.next is kept: a reader standing on e walks on
	s.count--
	s.gen.Add(1)
	s.account(e, -1)
	s.unschedule(e)
}

// grow doubles the bucket array, relinking entries in place. The caller holds mu.
func (s *shard[T]) grow(old *table[T]) *table[T] {
	t := newTable[T](2 * len(old.buckets))
	for i := range old.buckets {
		for e := old.buckets[i].Load(); e != nil; {
			next := e.next.Load()
			b := t.bucket(e.hash)
			e.next.Store(b.Load())
			b.Store(e)
			e = next
		}
	}
	s.table.Store(t)
	return t
}

// clear empties the shard and returns what it held. The caller holds mu.
func (s *shard[T]) clear(collect bool) []*entry[T] {
	var out []*entry[T]
	if collect {
		out = s.entries(out)
	}
	s.table.Store(newTable[T](0))
	clear(s.heap)
	s.heap = s.heap[:0]
	s.count = 0
	s.epoch++
	s.gen.Add(1)
	s.objects.Store(0)
	s.negatives.Store(0)
	s.extended.Store(0)
	s.minDue.Store(never)
	return out
}

// entries appends every entry to dst. The caller holds mu.
func (s *shard[T]) entries(dst []*entry[T]) []*entry[T] {
	for e := range s.walk {
		dst = append(dst, e)
	}
	return dst
}

// The deadline heap: a binary min-heap of slots, each entry knowing its index.

// schedule puts e in the heap at its due time, if it has one. The caller holds mu.
func (s *shard[T]) schedule(e *entry[T]) {
	e.heapIdx = -1
	d := e.due()
	if d == never {
		return
	}
	e.heapIdx = int32(len(s.heap))
	s.heap = append(s.heap, slot[T]{due: d, e: e})
	s.up(int(e.heapIdx))
	s.minDue.Store(s.heap[0].due)
}

// reschedule moves e to its new due time. The caller holds mu.
func (s *shard[T]) reschedule(e *entry[T]) {
	if e.heapIdx < 0 {
		s.schedule(e)
		return
	}
	d := e.due()
	if d == never {
		s.unschedule(e)
		return
	}
	i := int(e.heapIdx)
	s.heap[i].due = d
	if !s.up(i) {
		s.down(i)
	}
	s.minDue.Store(s.heap[0].due)
}

// unschedule takes e out of the heap. The caller holds mu.
func (s *shard[T]) unschedule(e *entry[T]) {
	i := int(e.heapIdx)
	if i < 0 {
		return
	}
	e.heapIdx = -1
	last := len(s.heap) - 1
	if i != last {
		s.heap[i] = s.heap[last]
		s.heap[i].e.heapIdx = int32(i)
	}
	s.heap[last] = slot[T]{}
	s.heap = s.heap[:last]
	if i != last {
		if !s.up(i) {
			s.down(i)
		}
	}
	if len(s.heap) > 0 {
		s.minDue.Store(s.heap[0].due)
	} else {
		s.minDue.Store(never)
	}
}

// heapify rebuilds the heap after many due times changed. The caller holds mu.
func (s *shard[T]) heapify() {
	n := len(s.heap)
	for i := n/2 - 1; i >= 0; i-- {
		s.down(i)
	}
	if n > 0 {
		s.minDue.Store(s.heap[0].due)
	} else {
		s.minDue.Store(never)
	}
}

func (s *shard[T]) up(i int) bool {
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if s.heap[p].due <= s.heap[i].due {
			break
		}
		s.swap(i, p)
		i = p
		moved = true
	}
	return moved
}

func (s *shard[T]) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.heap[r].due < s.heap[l].due {
			m = r
		}
		if s.heap[i].due <= s.heap[m].due {
			return
		}
		s.swap(i, m)
		i = m
	}
}

func (s *shard[T]) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.heap[i].e.heapIdx = int32(i)
	s.heap[j].e.heapIdx = int32(j)
}

// walk yields every entry of the shard. The caller holds mu.
func (s *shard[T]) walk(yield func(*entry[T]) bool) {
	t := s.table.Load()
	for i := range t.buckets {
		for e := t.buckets[i].Load(); e != nil; e = e.next.Load() {
			if !yield(e) {
				return
			}
		}
	}
}
