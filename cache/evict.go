package cache

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// accessSlots is the size of one stripe of the access buffer.
const accessSlots = 64

// policy keeps a bounded cache within MaxObjects, evicting the least recently used entry.
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
type policy[T any] struct {
	mu   sync.Mutex // guards the list (head, tail, n, entries' lru fields), scratch and the draining of bufs; taken before any shard's mu
	head *entry[T]  // most recently used
	tail *entry[T]  // least recently used: the next victim
	n    int        // entries in the list
	max  int

	bufs    []accessBuf[T]
	bufMask uint64
	scratch []access[T] // drain's sorting space

	_   [64]byte
	seq atomic.Uint64 // numbers the recorded reads
	_   [56]byte
}

type accessBuf[T any] struct {
	_     [64]byte
	n     atomic.Uint32
	slots [accessSlots]accessSlot[T]
}

type accessSlot[T any] struct {
	seq atomic.Uint64
	e   atomic.Pointer[entry[T]] // stored after seq: a drain that takes e sees its seq
}

type access[T any] struct {
	seq uint64
	e   *entry[T]
}

func newPolicy[T any](max int) *policy[T] {
	p := &policy[T]{max: max}
	stripes := 16
	for stripes < 8*runtime.GOMAXPROCS(0) && stripes < 256 {
		stripes <<= 1
	}
	p.bufs = make([]accessBuf[T], stripes)
	p.bufMask = uint64(stripes - 1)
	return p
}

// touch records a read of e, whose reference bit was clear. Lock-free; it drops the
// record when the stripe is full (the reference bit still protects e).
func (p *policy[T]) touch(e *entry[T]) {
	e.flags.Or(flagRef)
	b := &p.bufs[stripeHint()&p.bufMask]
	i := b.n.Load()
	if i < accessSlots && b.n.CompareAndSwap(i, i+1) {
		b.slots[i].seq.Store(p.seq.Add(1))
		b.slots[i].e.Store(e)
	}
}

// add makes e the most recently used. The reads buffered so far happened before, so they
// are applied first. The caller holds mu.
func (p *policy[T]) add(e *entry[T]) {
	p.drain()
	p.remove(e) // in case it is in the list already: add moves it to the front
	p.pushFront(e)
}

// contains reports whether e is in the list: only the head has no predecessor. The caller
// holds mu.
func (p *policy[T]) contains(e *entry[T]) bool { return e.lruPrev != nil || p.head == e }

// pushFront puts e, which is not in the list, at its front. The caller holds mu.
func (p *policy[T]) pushFront(e *entry[T]) {
	e.lruPrev, e.lruNext = nil, p.head
	if p.head != nil {
		p.head.lruPrev = e
	} else {
		p.tail = e
	}
	p.head = e
	p.n++
}

// remove takes e out of the list; an entry not in it is left alone. The caller holds mu.
func (p *policy[T]) remove(e *entry[T]) {
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

// toFront makes e, which is in the list, the most recently used. The caller holds mu.
func (p *policy[T]) toFront(e *entry[T]) {
	if p.head != e {
		p.remove(e)
		p.pushFront(e)
	}
}

// drain applies the buffered reads in the order they were recorded. The caller holds mu.
func (p *policy[T]) drain() {
	out := p.scratch[:0]
	for i := range p.bufs {
		b := &p.bufs[i]
		done := uint32(0)
		for {
			n := min(b.n.Load(), accessSlots)
			for ; done < n; done++ {
				sl := &b.slots[done]
				if e := sl.e.Swap(nil); e != nil {
					out = append(out, access[T]{seq: sl.seq.Load(), e: e})
				} // else reserved but not yet stored: the entry's reference bit stands in
			}
			if b.n.CompareAndSwap(n, 0) {
				break
			}
		}
	}
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b access[T]) int { return cmp.Compare(a.seq, b.seq) })
	}
	for i, a := range out {
		if p.contains(a.e) { // else replaced or removed since its read
			p.toFront(a.e)
		}
		a.e.flags.And(^flagRef)
		out[i] = access[T]{}
	}
	p.scratch = out[:0]
}

// victims returns the entries to evict so that the list fits max, removing them from the
// list. The caller holds mu and no shard's mu, and removes the victims from their shards.
func (p *policy[T]) victims() []*entry[T] {
	if p.n <= p.max {
		return nil
	}
	var out []*entry[T]
	p.drain()
	chances := p.n
	for p.n > p.max {
		e := p.tail
		if chances > 0 && e.flags.Load()&flagRef != 0 {
			chances--
			e.flags.And(^flagRef)
			p.toFront(e) // second chance
			continue
		}
		p.remove(e)
		out = append(out, e)
	}
	return out
}

// reset forgets every entry, after Close emptied the shards.
func (p *policy[T]) reset() {
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
