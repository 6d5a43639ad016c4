// Package workq runs queued jobs in order on a bounded number of goroutines, started on
// demand and gone when the queue is empty. It serves the cache's background refreshes (many
// workers) and the observer delivery of each type (one worker: jobs run in the order they
// were pushed).
package workq

import (
	"sync"

	"golang.org/x/sync/errgroup"
)

// Queue holds jobs of type J for run. Its zero value is not usable: see [New].
type Queue[J any] struct {
	run func(J)
	max int

	mu      sync.Mutex // guards jobs, head, running, stopped, idle; taken around g.Go
	jobs    []J
	head    int
	running int
	stopped bool
	idle    chan struct{} // closed when running drops to 0; nil while idle
	g       errgroup.Group
}

// New returns a queue running each job with run on at most workers goroutines (at least one).
func New[J any](workers int, run func(J)) *Queue[J] {
	workers = max(workers, 1)
	q := &Queue[J]{run: run, max: workers}
	q.g.SetLimit(workers)
	return q
}

// Push queues j and reports true, or reports false when the queue is stopped.
func (q *Queue[J]) Push(j J) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return false
	}
	q.jobs = append(q.jobs, j)
	if q.running < q.max {
		if q.running == 0 {
			q.idle = make(chan struct{})
		}
		q.running++
		// A worker that has just left may not have returned its slot yet: Go waits the
		// moment it takes to return. Under mu with stopped false: never after Stop, so never
		// concurrent with Stop's Wait.
		q.g.Go(q.work)
	}
	return true
}

// work runs queued jobs until the queue is empty or stopped.
func (q *Queue[J]) work() error {
	var zero J
	for {
		q.mu.Lock()
		if q.stopped || q.head == len(q.jobs) {
			q.running--
			if q.running == 0 {
				close(q.idle)
				q.idle = nil
			}
			q.mu.Unlock()
			return nil
		}
		j := q.jobs[q.head]
		q.jobs[q.head] = zero
		q.head++
		switch {
		case q.head == len(q.jobs):
			q.jobs, q.head = q.jobs[:0], 0
		case q.head >= 64 && 2*q.head >= len(q.jobs):
			n := copy(q.jobs, q.jobs[q.head:])
			clear(q.jobs[n:])
			q.jobs, q.head = q.jobs[:n], 0
		}
		q.mu.Unlock()
		q.run(j)
	}
}

// Flush waits until the queue is empty and no job runs, the jobs pushed meanwhile included.
func (q *Queue[J]) Flush() {
	for {
		q.mu.Lock()
		idle := q.idle
		q.mu.Unlock()
		if idle == nil {
			return
		}
		<-idle
	}
}

// Stop refuses further jobs and drops the queued ones, returning how many it dropped; the
// running jobs finish (Wait waits for them). Later calls drop nothing.
func (q *Queue[J]) Stop() (dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return 0
	}
	q.stopped = true
	dropped = len(q.jobs) - q.head
	clear(q.jobs)
	q.jobs, q.head = nil, 0
	return dropped
}

// Wait waits until the running jobs have returned; after Stop, every goroutine of the queue
// has then returned. Wait may be called any number of times.
func (q *Queue[J]) Wait() {
	q.mu.Lock()
	stopped := q.stopped
	q.mu.Unlock()
	if stopped {
		_ = q.g.Wait() // work never fails
		return
	}
	q.Flush()
}
