package cachetable

import "sync/atomic"

// Deadlines is one shard's intrusive binary min-heap of entries by due time: each entry
// knows its index in it. The owner decides what a due time means; [Never] means none.
//
// Every method but [Deadlines.MinDue] needs the owner's lock, the one that guards the
// shard's [Table]. A Deadlines must be initialised with [Deadlines.Init] and not copied
// after.
type Deadlines[V any] struct {
	heap   []slot[V]    // earliest first
	minDue atomic.Int64 // heap[0].due, or Never: read without the lock
}

// slot is one due time in the heap.
type slot[V any] struct {
	due int64
	e   *Entry[V]
}

// Init empties d, making it ready for use. The caller holds the owner's lock (or has not
// published d yet).
func (d *Deadlines[V]) Init() {
	for _, sl := range d.heap {
		sl.e.heapIdx = -1
	}
	clear(d.heap)
	d.heap = d.heap[:0]
	d.minDue.Store(Never)
}

// MinDue returns the earliest due time, or Never. It takes no lock.
func (d *Deadlines[V]) MinDue() int64 { return d.minDue.Load() }

// Len returns the number of entries in d.
func (d *Deadlines[V]) Len() int { return len(d.heap) }

// First returns the entry with the earliest due time, and that time; nil and Never when d
// is empty.
func (d *Deadlines[V]) First() (*Entry[V], int64) {
	if len(d.heap) == 0 {
		return nil, Never
	}
	return d.heap[0].e, d.heap[0].due
}

// Schedule puts e, which is not in d, in it at due; with due Never it leaves it out.
func (d *Deadlines[V]) Schedule(e *Entry[V], due int64) {
	e.heapIdx = -1
	if due == Never {
		return
	}
	e.heapIdx = int32(len(d.heap))
	d.heap = append(d.heap, slot[V]{due: due, e: e})
	d.up(int(e.heapIdx))
	d.minDue.Store(d.heap[0].due)
}

// Reschedule moves e, in d or not, to due; with due Never it takes it out.
func (d *Deadlines[V]) Reschedule(e *Entry[V], due int64) {
	if e.heapIdx < 0 {
		d.Schedule(e, due)
		return
	}
	if due == Never {
		d.Unschedule(e)
		return
	}
	i := int(e.heapIdx)
	d.heap[i].due = due
	if !d.up(i) {
		d.down(i)
	}
	d.minDue.Store(d.heap[0].due)
}

// Unschedule takes e out of d; an entry not in it is left alone.
func (d *Deadlines[V]) Unschedule(e *Entry[V]) {
	i := int(e.heapIdx)
	if i < 0 {
		return
	}
	e.heapIdx = -1
	last := len(d.heap) - 1
	if i != last {
		d.heap[i] = d.heap[last]
		d.heap[i].e.heapIdx = int32(i)
	}
	d.heap[last] = slot[V]{}
	d.heap = d.heap[:last]
	if i != last {
		if !d.up(i) {
			d.down(i)
		}
	}
	d.storeMin()
}

// Refigure gives every entry of d the due time due returns for it (which must not be
// Never), after many changed at once, and rebuilds the heap.
func (d *Deadlines[V]) Refigure(due func(*Entry[V]) int64) {
	for i := range d.heap {
		d.heap[i].due = due(d.heap[i].e)
	}
	n := len(d.heap)
	for i := n/2 - 1; i >= 0; i-- {
		d.down(i)
	}
	d.storeMin()
}

func (d *Deadlines[V]) storeMin() {
	if len(d.heap) > 0 {
		d.minDue.Store(d.heap[0].due)
	} else {
		d.minDue.Store(Never)
	}
}

func (d *Deadlines[V]) up(i int) bool {
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if d.heap[p].due <= d.heap[i].due {
			break
		}
		d.swap(i, p)
		i = p
		moved = true
	}
	return moved
}

func (d *Deadlines[V]) down(i int) {
	n := len(d.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && d.heap[r].due < d.heap[l].due {
			m = r
		}
		if d.heap[i].due <= d.heap[m].due {
			return
		}
		d.swap(i, m)
		i = m
	}
}

func (d *Deadlines[V]) swap(i, j int) {
	d.heap[i], d.heap[j] = d.heap[j], d.heap[i]
	d.heap[i].e.heapIdx = int32(i)
	d.heap[j].e.heapIdx = int32(j)
}
