package testbus

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Recorder is an invalidation target (invalidate.Target) that records what it is told, for
// tests of the engines without caches. Its zero value knows every type and is ready to use.
type Recorder struct {
	// Known, when set before use, are the types the recorder accepts; others are refused with
	// errors.ErrInvalid, as *sorcery.Sorcery refuses unregistered types.
	Known []string

	mu     sync.Mutex // guards invs, stales and wake
	invs   []sorcery.Invalidation
	stales []string
	wake   chan struct{} // closed and replaced on every record
}

// Invalidate records inv.
func (r *Recorder) Invalidate(inv sorcery.Invalidation) error {
	if r.Known != nil && !slices.Contains(r.Known, inv.Type) {
		return errors.Errorf("unknown object type %q: %w", inv.Type, errors.ErrInvalid)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invs = append(r.invs, inv)
	r.signal()
	return nil
}

// MarkStale records typeName.
func (r *Recorder) MarkStale(typeName string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stales = append(r.stales, typeName)
	r.signal()
	return nil
}

func (r *Recorder) signal() {
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
}

// Invalidations returns the invalidations recorded so far.
func (r *Recorder) Invalidations() []sorcery.Invalidation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.invs)
}

// Stales returns the MarkStale calls recorded so far.
func (r *Recorder) Stales() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.stales)
}

// WaitInvalidations waits until at least n invalidations are recorded and returns them all;
// it fails the test after timeout.
func (r *Recorder) WaitInvalidations(t testing.TB, n int, timeout time.Duration) []sorcery.Invalidation {
	t.Helper()
	r.wait(t, timeout, func() bool { return len(r.invs) >= n }, "%d invalidations", n)
	return r.Invalidations()
}

// WaitStales waits until at least n MarkStale calls are recorded and returns them all; it
// fails the test after timeout.
func (r *Recorder) WaitStales(t testing.TB, n int, timeout time.Duration) []string {
	t.Helper()
	r.wait(t, timeout, func() bool { return len(r.stales) >= n }, "%d stale markings", n)
	return r.Stales()
}

func (r *Recorder) wait(t testing.TB, timeout time.Duration, done func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if done() {
			r.mu.Unlock()
			return
		}
		if r.wake == nil {
			r.wake = make(chan struct{})
		}
		wake := r.wake
		r.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("after %v, still waiting for "+what+"; got invalidations %v and stale markings %q",
				append([]any{timeout}, append(args, r.invs, r.stales)...)...)
		}
	}
}
