package cache_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// errDown is what the fake source answers while it is down.
var errDown = fmt.Errorf("test source down: %w", errors.ErrUnavailable)

// source is a fake backend: a map of objects that can be changed, taken down, slowed
// down, and that records every call.
type source struct {
	mu       sync.Mutex
	objs     map[string]string
	down     bool
	degraded bool          // answer found objects with errDown too: a fallback found them
	delay    time.Duration // every call takes this long (or until ctx ends)
	calls    map[string][]time.Time
	allCalls int
	running  int // calls in progress
	peak     int // most calls in progress at once
}

func newSource(objs map[string]string) *source {
	if objs == nil {
		objs = map[string]string{}
	}
	return &source{objs: objs, calls: map[string][]time.Time{}}
}

func (s *source) load(ctx context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	s.calls[id] = append(s.calls[id], time.Now())
	s.running++
	s.peak = max(s.peak, s.running)
	delay := s.delay
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.objs[id]
	switch {
	case s.down && s.degraded && ok:
		return v, true, errDown
	case s.down:
		return "", false, errDown
	}
	return v, ok, nil
}

func (s *source) loadAll(ctx context.Context) ([]cache.Entry[string], error) {
	s.mu.Lock()
	s.allCalls++
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errDown
	}
	var out []cache.Entry[string]
	for _, id := range slices.Sorted(maps.Keys(s.objs)) {
		out = append(out, cache.Entry[string]{ID: id, Value: s.objs[id]})
	}
	return out, nil
}

func (s *source) set(id, v string) {
	s.mu.Lock()
	s.objs[id] = v
	s.mu.Unlock()
}

func (s *source) del(id string) {
	s.mu.Lock()
	delete(s.objs, id)
	s.mu.Unlock()
}

func (s *source) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *source) setDegraded(degraded bool) {
	s.mu.Lock()
	s.down, s.degraded = degraded, degraded
	s.mu.Unlock()
}

func (s *source) setDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

func (s *source) callsFor(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[id])
}

func (s *source) callTimes(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls[id])
}

func (s *source) wholeCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allCalls
}

func (s *source) peakRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// newCache makes a cache over src and closes it when the test ends. Inside a synctest
// bubble it must be called from the bubble's goroutine.
func newCache(t *testing.T, src *source, opts *cache.Options) *cache.Cache[string] {
	t.Helper()
	c, err := cache.NewFull(src.load, src.loadAll, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// get is Get that fails the test on an error.
func get(t *testing.T, c *cache.Cache[string], id string) (string, bool) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), id)
	require.NoError(t, err, "Get(%q)", id)
	return v, ok
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []cache.Event
}

func (r *recorder) record(ev cache.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) kinds(id string) []cache.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cache.EventKind
	for _, ev := range r.events {
		if ev.ID == id {
			out = append(out, ev.Kind)
		}
	}
	return out
}

func (r *recorder) count(kind cache.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func (r *recorder) all() []cache.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}
