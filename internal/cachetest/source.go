package cachetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// ErrDown is what a [Source] answers while it is down. It matches errors.ErrUnavailable.
var ErrDown = fmt.Errorf("test source down: %w", errors.ErrUnavailable)

// Source is a fake backend: a map of objects that can be changed, taken down, slowed down or
// made to hang, and that records every call. [Source.Load] and [Source.LoadAll] are the
// loaders to give cache.New and cache.NewFull.
type Source struct {
	mu        sync.Mutex // guards all below
	objs      map[string]string
	down      bool
	degraded  bool          // answer found objects with ErrDown too: a fallback found them
	delay     time.Duration // every call takes this long (or until ctx ends)
	readFirst bool          // calls take their answer before the delay, not after it
	hang      bool          // whole loads wait until their context ends
	calls     map[string][]time.Time
	allCalls  int
	running   int // calls of Load in progress
	peak      int // most calls of Load in progress at once
}

// NewSource returns a source holding objs (which it keeps and changes); nil means none.
func NewSource(objs map[string]string) *Source {
	return &Source{objs: objs}
}

// Load is the per-id loader: it answers the object id, ErrDown while the source is down
// (with the object too while it is degraded), and ctx's error when ctx ends during the delay.
func (s *Source) Load(ctx context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string][]time.Time{}
	}
	s.calls[id] = append(s.calls[id], time.Now())
	s.running++
	s.peak = max(s.peak, s.running)
	delay, readFirst := s.delay, s.readFirst
	var (
		v   string
		ok  bool
		err error
	)
	if readFirst {
		v, ok, err = s.answer(id)
	}
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
	if !readFirst {
		s.mu.Lock()
		v, ok, err = s.answer(id)
		s.mu.Unlock()
	}
	return v, ok, err
}

// answer is Load's answer for id as the source stands. s.mu must be held.
func (s *Source) answer(id string) (string, bool, error) {
	v, ok := s.objs[id]
	switch {
	case s.down && s.degraded && ok:
		return v, true, ErrDown
	case s.down:
		return "", false, ErrDown
	}
	return v, ok, nil
}

// LoadAll is the whole-set loader: it answers every object, sorted by id, or ErrDown while
// the source is down. While the source hangs, it waits for ctx to end and answers its error;
// otherwise it answers ctx's error when ctx ends during the delay.
func (s *Source) LoadAll(ctx context.Context) ([]cache.Entry[string], error) {
	s.mu.Lock()
	s.allCalls++
	delay, hang, readFirst := s.delay, s.hang, s.readFirst
	var (
		out []cache.Entry[string]
		err error
	)
	if readFirst {
		out, err = s.all()
	}
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !readFirst {
		s.mu.Lock()
		out, err = s.all()
		s.mu.Unlock()
	}
	return out, err
}

// all is LoadAll's answer as the source stands. s.mu must be held.
func (s *Source) all() ([]cache.Entry[string], error) {
	if s.down {
		return nil, ErrDown
	}
	var out []cache.Entry[string]
	for _, id := range slices.Sorted(maps.Keys(s.objs)) {
		out = append(out, cache.Entry[string]{ID: id, Value: s.objs[id]})
	}
	return out, nil
}

// Set stores v as the object id.
func (s *Source) Set(id, v string) {
	s.mu.Lock()
	if s.objs == nil {
		s.objs = map[string]string{}
	}
	s.objs[id] = v
	s.mu.Unlock()
}

// Delete removes the object id.
func (s *Source) Delete(id string) {
	s.mu.Lock()
	delete(s.objs, id)
	s.mu.Unlock()
}

// SetDown takes the source down (every call answers ErrDown) or brings it back.
func (s *Source) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetDegraded takes the source down but lets Load answer the objects it has along with
// ErrDown, as a backend whose fallback found them does; false brings it back up.
func (s *Source) SetDegraded(degraded bool) {
	s.mu.Lock()
	s.down, s.degraded = degraded, degraded
	s.mu.Unlock()
}

// SetDelay makes every later call take d before it answers; 0 removes the delay.
func (s *Source) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// SetReadFirst makes later calls take their answer (the objects, and whether the source is
// down) when they are made, before their delay, so that a load still running may answer a
// value that has changed since; false makes them take it after the delay again.
func (s *Source) SetReadFirst(readFirst bool) {
	s.mu.Lock()
	s.readFirst = readFirst
	s.mu.Unlock()
}

// SetHang makes later calls of LoadAll wait until their context ends, or stops that.
func (s *Source) SetHang(hang bool) {
	s.mu.Lock()
	s.hang = hang
	s.mu.Unlock()
}

// Calls returns how many times Load was asked for id.
func (s *Source) Calls(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[id])
}

// CallTimes returns when Load was asked for id, oldest first.
func (s *Source) CallTimes(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls[id])
}

// WholeCalls returns how many times LoadAll was called.
func (s *Source) WholeCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allCalls
}

// PeakRunning returns the most calls of Load that were in progress at once.
func (s *Source) PeakRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
