package cachetable

import (
	"iter"
	"sync/atomic"
)

// Table is one shard's bucket table: chains of entries linked by atomic pointers.
//
// Readers look keys up with [Table.Find] without a lock; every other method needs the
// owner's lock of the shard. A table holds at most one entry per two buckets, so chains
// stay short: [Table.Insert] doubles the bucket array when it would hold more, relinking
// the entries in place. A reader racing with that growth may miss an entry (it never finds
// a wrong one), so the owner confirms every miss under the lock with [Table.Lookup].
//
// A Table must be initialised with [Table.Init] and not copied after.
type Table[V any] struct {
	_     [64]byte                   // keeps root off the previous fields' written cache line
	root  atomic.Pointer[buckets[V]] // read by every Find
	_     [56]byte                   // and off count's
	count int                        // entries in the table; guarded by the owner's lock
}

// buckets is a table's bucket array, replaced as a whole when it grows.
type buckets[V any] struct {
	b []atomic.Pointer[Entry[V]]
}

// newBuckets returns a bucket array for n entries: at least 2n buckets, and at least 8.
func newBuckets[V any](n int) *buckets[V] {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return &buckets[V]{b: make([]atomic.Pointer[Entry[V]], size)}
}

func (b *buckets[V]) bucket(h uint64) *atomic.Pointer[Entry[V]] {
	return &b.b[h&uint64(len(b.b)-1)]
}

// Link points at an entry of a table: the chain link [Table.Lookup] found it through.
// It stays valid while the owner holds its lock.
type Link[V any] struct {
	p *atomic.Pointer[Entry[V]]
}

// Init empties t, making it ready for use. The caller holds the owner's lock (or has not
// published t yet).
func (t *Table[V]) Init() {
	t.root.Store(newBuckets[V](0))
	t.count = 0
}

// Find returns the entry for key, whose hash is h, or nil. It takes no lock, and may miss
// an entry while the table grows: confirm a miss with Lookup under the owner's lock.
func (t *Table[V]) Find(h uint64, key string) *Entry[V] {
	for e := t.root.Load().bucket(h).Load(); e != nil; e = e.next.Load() {
		if e.hash == h && e.key == key {
			return e
		}
	}
	return nil
}

// Lookup returns the entry for key, whose hash is h, and the link that points at it, or a
// nil entry. The caller holds the owner's lock.
func (t *Table[V]) Lookup(h uint64, key string) (Link[V], *Entry[V]) {
	link := t.root.Load().bucket(h)
	for e := link.Load(); e != nil; e = link.Load() {
		if e.hash == h && e.key == key {
			return Link[V]{link}, e
		}
		link = &e.next
	}
	return Link[V]{}, nil
}

// Insert publishes e, whose key is not in t. The caller holds the owner's lock.
func (t *Table[V]) Insert(e *Entry[V]) {
	b := t.root.Load()
	if 2*t.count >= len(b.b) { // at most one entry per two buckets: short chains
		b = t.grow(b)
	}
	head := b.bucket(e.hash)
	e.next.Store(head.Load())
	head.Store(e)
	t.count++
}

// Replace publishes n in the place of old, the entry link points at; n has old's key. A
// reader already standing on old walks on through old's chain. The caller holds the
// owner's lock.
func (t *Table[V]) Replace(link Link[V], old, n *Entry[V]) {
	n.next.Store(old.next.Load())
	link.p.Store(n)
}

// Remove unlinks e, the entry link points at. A reader standing on e walks on: e keeps its
// link to the rest of the chain. The caller holds the owner's lock.
func (t *Table[V]) Remove(link Link[V], e *Entry[V]) {
	link.p.Store(e.next.Load())
	t.count--
}

// grow replaces the bucket array with one four times larger (newBuckets of twice as many
// entries as old has buckets), relinking entries in place.
func (t *Table[V]) grow(old *buckets[V]) *buckets[V] {
	b := newBuckets[V](2 * len(old.b))
	for i := range old.b {
		for e := old.b[i].Load(); e != nil; {
			next := e.next.Load()
			head := b.bucket(e.hash)
			e.next.Store(head.Load())
			head.Store(e)
			e = next
		}
	}
	t.root.Store(b)
	return b
}

// Len returns the number of entries in t. The caller holds the owner's lock.
func (t *Table[V]) Len() int { return t.count }

// All yields every entry of t. The caller holds the owner's lock and changes nothing in
// t while it runs.
func (t *Table[V]) All(yield func(*Entry[V]) bool) {
	b := t.root.Load()
	for i := range b.b {
		for e := b.b[i].Load(); e != nil; e = e.next.Load() {
			if !yield(e) {
				return
			}
		}
	}
}

// Mask returns the number of buckets of t minus one: a power of two minus one. The caller
// holds the owner's lock.
func (t *Table[V]) Mask() uint64 { return uint64(len(t.root.Load().b) - 1) }

// Bucket yields the entries of bucket i&t.Mask(), for walks that resume from a bucket
// cursor. The caller holds the owner's lock.
func (t *Table[V]) Bucket(i uint64) iter.Seq[*Entry[V]] {
	return func(yield func(*Entry[V]) bool) {
		b := t.root.Load()
		for e := b.b[i&uint64(len(b.b)-1)].Load(); e != nil; e = e.next.Load() {
			if !yield(e) {
				return
			}
		}
	}
}
