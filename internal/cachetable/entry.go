package cachetable

import (
	"math"
	"sync/atomic"
)

// Never is the due time of something that does not happen.
const Never int64 = math.MaxInt64

// Referenced is the flag bit of an entry that the [Policy] owns: set by [Policy.Touch] when
// the entry is read, cleared when the policy takes the read into account. The other 31 bits
// of the flags word are the owner's.
const Referenced uint32 = 1 << 31

// Entry is one key of a [Table], with the owner's payload Value.
//
// An entry is immutable once published, except for its flags, which are atomic, and what
// the owner's lock guards: the links (written by Table, Deadlines and Policy methods) and
// the parts of Value the owner changes after publishing it.
type Entry[V any] struct {
	// What a hit reads comes first, so that a small Value shares its cache line.
	hash    uint64
	key     string
	flags   atomic.Uint32
	heapIdx int32 // index in a Deadlines heap, -1 when not in one; guarded by the owner's lock

	// Value is the owner's payload, written before the entry is published.
	Value V

	next atomic.Pointer[Entry[V]] // chain link; written under the owner's lock

	// The recency list of a Policy; guarded by the Policy's lock.
	lruPrev, lruNext *Entry[V]
}

// NewEntry returns an unpublished entry for key, whose hash is h, holding v.
func NewEntry[V any](h uint64, key string, v V) *Entry[V] {
	return &Entry[V]{hash: h, key: key, heapIdx: -1, Value: v}
}

// Hash returns the hash the entry was made with.
func (e *Entry[V]) Hash() uint64 { return e.hash }

// Key returns the entry's key.
func (e *Entry[V]) Key() string { return e.key }

// Flags returns the entry's flags word.
func (e *Entry[V]) Flags() uint32 { return e.flags.Load() }

// StoreFlags sets the flags word to f. It is meant for an entry not yet published; on a
// published one it would overwrite what others set concurrently.
func (e *Entry[V]) StoreFlags(f uint32) { e.flags.Store(f) }

// SetFlags sets the bits of f.
func (e *Entry[V]) SetFlags(f uint32) { e.flags.Or(f) }

// ClearFlags clears the bits of f.
func (e *Entry[V]) ClearFlags(f uint32) { e.flags.And(^f) }

// UpdateFlags clears the bits of clear, then sets those of set, in one atomic step.
func (e *Entry[V]) UpdateFlags(clear, set uint32) {
	for {
		f := e.flags.Load()
		if e.flags.CompareAndSwap(f, f&^clear|set) {
			return
		}
	}
}

// CompareAndSwapFlags sets the flags word to n if it is old, and reports whether it did.
func (e *Entry[V]) CompareAndSwapFlags(old, n uint32) bool {
	return e.flags.CompareAndSwap(old, n)
}
