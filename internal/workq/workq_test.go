package workq_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosorcery/gosorcery/internal/workq"
)

// One worker runs the jobs in the order they were pushed, from many pushes racing with the
// worker's coming and going.
func TestOneWorkerKeepsOrder(t *testing.T) {
	var mu sync.Mutex
	var got []int
	q := workq.New(1, func(j int) {
		mu.Lock()
		got = append(got, j)
		mu.Unlock()
	})
	const n = 2000
	for i := range n {
		if !q.Push(i) {
			t.Fatalf("Push(%d) refused before Stop", i)
		}
		if i%100 == 0 {
			q.Flush() // the worker leaves; the next push starts another
		}
	}
	q.Flush()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("ran %d jobs, want %d", len(got), n)
	}
	for i, j := range got {
		if i != j {
			t.Fatalf("job %d ran at position %d", j, i)
		}
	}
	q.Stop()
	q.Wait()
}

// At most workers jobs run at once, and every pushed job runs.
func TestWorkersBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers = 3
		var running, peak, done atomic.Int64
		q := workq.New(workers, func(int) {
			r := running.Add(1)
			for {
				p := peak.Load()
				if r <= p || peak.CompareAndSwap(p, r) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			done.Add(1)
		})
		for i := range 50 {
			q.Push(i)
		}
		q.Flush()
		if done.Load() != 50 {
			t.Errorf("ran %d jobs, want 50", done.Load())
		}
		if p := peak.Load(); p != workers {
			t.Errorf("at most %d jobs ran at once, want %d", p, workers)
		}
		q.Stop()
		q.Wait()
	})
}

// Stop drops the queued jobs and refuses new ones; the running job finishes, and Wait waits
// for it. Stop and Wait may be called again.
func TestStopDropsQueuedAndWaitsRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var ran atomic.Int64
		q := workq.New(1, func(int) {
			<-release
			ran.Add(1)
		})
		for i := range 5 {
			q.Push(i)
		}
		synctest.Wait() // the first job is running, four are queued
		if d := q.Stop(); d != 4 {
			t.Errorf("Stop dropped %d jobs, want 4", d)
		}
		if q.Push(9) {
			t.Error("Push accepted a job after Stop")
		}
		waited := make(chan struct{})
		go func() { q.Wait(); close(waited) }()
		synctest.Wait()
		select {
		case <-waited:
			t.Fatal("Wait returned while a job was running")
		default:
		}
		close(release)
		<-waited
		if ran.Load() != 1 {
			t.Errorf("%d jobs ran, want 1", ran.Load())
		}
		if d := q.Stop(); d != 0 {
			t.Errorf("second Stop dropped %d", d)
		}
		q.Wait()
	})
}

// Flush waits for the jobs pushed while it waits too.
func TestFlushWaitsForLaterJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var q *workq.Queue[int]
		var ran atomic.Int64
		q = workq.New(2, func(j int) {
			time.Sleep(time.Millisecond)
			if j < 10 {
				q.Push(j + 1)
			}
			ran.Add(1)
		})
		q.Push(0)
		q.Flush()
		if ran.Load() != 11 {
			t.Errorf("Flush returned after %d jobs, want 11", ran.Load())
		}
		q.Stop()
		q.Wait()
	})
}
