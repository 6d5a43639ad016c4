package sorcery

import "sync"

// Observer is told about changes to the objects of a type made through it, and about reloads.
// Nil fields are skipped. Calls arrive asynchronously, on a goroutine of the type's own, in
// the order the changes were made, and never with a lock of the library held.
type Observer[T any] struct {
	Created func(T)
	Updated func(T)
	Deleted func(T)
	Loaded  func() // after Sorcery.Reload
}

// dispatcher delivers observer calls of one type in order, on one goroutine that runs while
// there is something to deliver.
type dispatcher[T any] struct {
	mu        sync.Mutex // guards observers, nextID, queue, running, closed
	observers map[uint64]*Observer[T]
	order     []uint64 // observer ids in registration order
	nextID    uint64
	queue     []func(*Observer[T])
	running   bool
	closed    bool
	done      chan struct{} // closed when the running delivery goroutine stops
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
	defer d.mu.Unlock()
	if d.closed || len(d.observers) == 0 {
		return
	}
	d.queue = append(d.queue, call)
	if !d.running {
		d.running = true
		d.done = make(chan struct{})
		go d.deliver(d.done)
	}
}

func (d *dispatcher[T]) deliver(done chan struct{}) {
	defer close(done)
	for {
		d.mu.Lock()
		if len(d.queue) == 0 || d.closed {
			d.queue = nil
			d.running = false
			d.mu.Unlock()
			return
		}
		call := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		obs := make([]*Observer[T], 0, len(d.order))
		for _, id := range d.order {
			obs = append(obs, d.observers[id])
		}
		d.mu.Unlock()
		for _, o := range obs {
			call(o)
		}
	}
}

// flush waits until every queued call has been delivered.
func (d *dispatcher[T]) flush() {
	for {
		d.mu.Lock()
		running, done := d.running, d.done
		d.mu.Unlock()
		if !running {
			return
		}
		<-done
	}
}

// close delivers what is queued, then stops accepting calls.
func (d *dispatcher[T]) close() {
	d.flush()
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.flush()
}
