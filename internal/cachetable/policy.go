package cachetable

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// accessSlots is the size of one stripe of the access buffer.
const accessSlots = 64

// Policy keeps a bounded cache within a maximum number of entries, evicting the least
// recently used entry.
//
// The recency order is a doubly linked list threaded through the entries themselves
// (lruPrev, lruNext), guarded by mu, which only writers take. Reads never touch it. An
// intrusive list costs 16 bytes per entry where a separate index (a map entry and a list
// element per entry, as golang-lru's simplelru keeps) costs about 90.
//
// A read of an entry not yet marked sets the entry's reference bit and records the entry,
// with a sequence number, in a striped, lossy access buffer (a stripe chosen per
// goroutine). Writers apply the buffered accesses in sequence order
// (moving those entries to the front) before they add an entry, and evict from the back,
// giving a referenced entry whose access was lost to a full buffer a second chance
// (CLOCK) instead of evicting it. Every eviction therefore takes an entry that was not read
// since the policy last looked at it, the least recently inserted or promoted first.
//
// The sequence keeps one goroutine's reads in order even when its stack moves (the stripe
// follows the stack) between two of them. It costs an atomic add on a shared counter, but
// only on an entry's first read after the policy looked at it, never on a steady hit.
type Policy[V any] struct {
	mu   sync.Mutex // guards the list (head, tail, n, entries' lru fields), scratch and the draining of bufs; taken before any shard's lock
	head *Entry[V]  // most recently used
	tail *Entry[V]  // least recently used: the next victim
	n    int        // entries in the list
	max  int

	bufs    []accessBuf[V]
	bufMask uint64
	scratch []access[V] // drain's sorting space

	_   [64]byte
	seq atomic.Uint64 // numbers the recorded reads
	_   [56]byte
}

type accessBuf[V any] struct {
	_     [64]byte
	n     atomic.Uint32
	slots [accessSlots]accessSlot[V]
}

type accessSlot[V any] struct {
	seq atomic.Uint64
	e   atomic.Pointer[Entry[V]] // stored after seq: a drain that takes e sees its seq
}

type access[V any] struct {
	seq uint64
	e   *Entry[V]
}

// NewPolicy returns a policy that keeps at most max entries.
func NewPolicy[V any](max int) *Policy[V] {
	p := &Policy[V]{max: max}
	stripes := 16
	for stripes < 8*runtime.GOMAXPROCS(0) && stripes < 256 {
		stripes <<= 1
	}
	p.bufs = make([]accessBuf[V], stripes)
	p.bufMask = uint64(stripes - 1)
	return p
}

// Touch records a read of e, whose [Referenced] bit was clear. It takes no lock; it drops
// the record when the stripe is full (the reference bit still protects e).
func (p *Policy[V]) Touch(e *Entry[V]) {
	e.flags.Or(Referenced)
	b := &p.bufs[StripeHint()&p.bufMask]
	i := b.n.Load()
	if i < accessSlots && b.n.CompareAndSwap(i, i+1) {
		b.slots[i].seq.Store(p.seq.Add(1))
		b.slots[i].e.Store(e)
	}
}

// Add makes e the most recently used, adding it to the list if it is not in it. The reads
// buffered so far happened before, so they are applied first. The caller holds the
// policy's lock.
func (p *Policy[V]) Add(e *Entry[V]) {
	p.drain()
	p.Remove(e) // in case it is in the list already: add moves it to the front
	p.pushFront(e)
}

// Lock takes the policy's lock, which guards the recency list: take it before any shard's
// lock, and release it after.
func (p *Policy[V]) Lock() { p.mu.Lock() }

// Unlock releases the policy's lock.
func (p *Policy[V]) Unlock() { p.mu.Unlock() }

// Len returns the number of entries in the list. The caller holds the policy's lock.
func (p *Policy[V]) Len() int { return p.n }

// contains reports whether e is in the list: only the head has no predecessor. The caller
// holds the policy's lock.
func (p *Policy[V]) contains(e *Entry[V]) bool { return e.lruPrev != nil || p.head == e }

// pushFront puts e, which is not in the list, at its front. The caller holds the policy's lock.
func (p *Policy[V]) pushFront(e *Entry[V]) {
	e.lruPrev, e.lruNext = nil, p.head
	if p.head != nil {
		p.head.lruPrev = e
	} else {
		p.tail = e
	}
	p.head = e
	p.n++
}

// Remove takes e out of the list; an entry not in it is left alone. The caller holds the
// policy's lock.
func (p *Policy[V]) Remove(e *Entry[V]) {
	if !p.contains(e) {
		return
	}
	if e.lruPrev != nil {
		e.lruPrev.lruNext = e.lruNext
	} else {
		p.head = e.lruNext
	}
	if e.lruNext != nil {
		e.lruNext.lruPrev = e.lruPrev
	} else {
		p.tail = e.lruPrev
	}
	e.lruPrev, e.lruNext = nil, nil
	p.n--
}

// toFront makes e, which is in the list, the most recently used. The caller holds the policy's lock.
func (p *Policy[V]) toFront(e *Entry[V]) {
	if p.head != e {
		p.Remove(e)
		p.pushFront(e)
	}
}

// drain applies the buffered reads in the order they were recorded. The caller holds the policy's lock.
func (p *Policy[V]) drain() {
	out := p.scratch[:0]
	for i := range p.bufs {
		b := &p.bufs[i]
		done := uint32(0)
		for {
			n := min(b.n.Load(), accessSlots)
			for ; done < n; done++ {
				sl := &b.slots[done]
				if e := sl.e.Swap(nil); e != nil {
					out = append(out, access[V]{seq: sl.seq.Load(), e: e})
				} // else reserved but not yet stored: the entry's reference bit stands in
			}
			if b.n.CompareAndSwap(n, 0) {
				break
			}
		}
	}
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b access[V]) int { return cmp.Compare(a.seq, b.seq) })
	}
	for i, a := range out {
		if p.contains(a.e) { // else replaced or removed since its read
			p.toFront(a.e)
		}
		a.e.flags.And(^Referenced)
		out[i] = access[V]{}
	}
	p.scratch = out[:0]
}

// Victims returns the entries to evict so that the list fits the maximum, removing them
// from the list. The caller holds the policy's lock and no shard's lock, and removes the
// victims from their tables.
func (p *Policy[V]) Victims() []*Entry[V] {
	if p.n <= p.max {
		return nil
	}
	var out []*Entry[V]
	p.drain()
	chances := p.n
	for p.n > p.max {
		e := p.tail
		if chances > 0 && e.flags.Load()&Referenced != 0 {
			chances--
			e.flags.And(^Referenced)
			p.toFront(e) // second chance
			continue
		}
		p.Remove(e)
		out = append(out, e)
	}
	return out
}

// Reset forgets every entry, after the owner emptied its tables. It takes the policy's
// lock.
func (p *Policy[V]) Reset() {
	p.mu.Lock()
	// Unlink every entry, so that a late remove of one (a refresh finishing after Close)
	// finds it out of the list instead of following stale links.
	for e := p.head; e != nil; {
		next := e.lruNext
		e.lruPrev, e.lruNext = nil, nil
		e = next
	}
	p.head, p.tail, p.n = nil, nil, 0
	for i := range p.bufs {
		b := &p.bufs[i]
		for j := range b.slots {
			b.slots[j].e.Store(nil)
		}
		b.n.Store(0)
	}
	p.mu.Unlock()
}
