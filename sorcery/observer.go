package sorcery

import (
	"sync"

	"github.com/gosorcery/gosorcery/internal/workq"
)

// Observer is told about changes to the objects of a type made through it, and about reloads.
// Nil fields are skipped. Calls arrive asynchronously, on a goroutine of the type's own, in
// the order the changes were made, and never with a lock of the library held.
type Observer[T any] struct {
	Created func(T)
	Updated func(T)
	Deleted func(T)
	Loaded  func() // after Sorcery.Reload
}

// dispatcher delivers observer calls of one type in order, on the single worker of a
// [workq.Queue], which runs while there is something to deliver.
type dispatcher[T any] struct {
	mu        sync.Mutex // guards observers, order, nextID, q
	observers map[uint64]*Observer[T]
	order     []uint64 // observer ids in registration order
	nextID    uint64
	q         *workq.Queue[func(*Observer[T])] // made by the first notify
}

func (d *dispatcher[T]) add(o Observer[T]) (cancel func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.observers == nil {
		d.observers = make(map[uint64]*Observer[T])
	}
	d.nextID++
	id := d.nextID
	d.observers[id] = &o
	d.order = append(d.order, id)
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		delete(d.observers, id)
		for i, x := range d.order {
			if x == id {
				d.order = append(d.order[:i:i], d.order[i+1:]...)
				break
			}
		}
	}
}

// notify queues call for every observer present now.
func (d *dispatcher[T]) notify(call func(*Observer[T])) {
	d.mu.Lock()
	if len(d.observers) == 0 {
		d.mu.Unlock()
		return
	}
	if d.q == nil {
		d.q = workq.New(1, d.deliver)
	}
	q := d.q
	d.mu.Unlock()
	q.Push(call) // false once closed: the call is dropped
}

// deliver runs call for every observer registered when it runs.
func (d *dispatcher[T]) deliver(call func(*Observer[T])) {
	d.mu.Lock()
	obs := make([]*Observer[T], 0, len(d.order))
	for _, id := range d.order {
		obs = append(obs, d.observers[id])
	}
	d.mu.Unlock()
	for _, o := range obs {
		call(o)
	}
}

// queue returns the delivery queue, nil when nothing was ever queued.
func (d *dispatcher[T]) queue() *workq.Queue[func(*Observer[T])] {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.q
}

// flush waits until every queued call has been delivered.
func (d *dispatcher[T]) flush() {
	if q := d.queue(); q != nil {
		q.Flush()
	}
}

// close delivers what is queued, then stops accepting calls and waits for the delivery
// goroutine to return. Later calls do nothing more.
func (d *dispatcher[T]) close() {
	d.mu.Lock()
	if d.q == nil {
		d.q = workq.New(1, d.deliver) // so that a later notify finds it stopped
	}
	q := d.q
	d.mu.Unlock()
	q.Flush()
	q.Stop()
	q.Wait()
}
