package snapshot_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
)

// errDown is what the fake source answers while it is down.
var errDown = fmt.Errorf("test source down: %w", errors.ErrUnavailable)

// source is a fake backend: a map of objects that can be changed and taken down, and that
// records every call.
type source struct {
	mu       sync.Mutex
	objs     map[string]string
	down     bool
	hang     bool // whole loads wait until their context ends
	calls    map[string]int
	allCalls int
}

func newSource(objs map[string]string) *source {
	if objs == nil {
		objs = map[string]string{}
	}
	return &source{objs: objs, calls: map[string]int{}}
}

func (s *source) load(ctx context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[id]++
	if s.down {
		return "", false, errDown
	}
	v, ok := s.objs[id]
	return v, ok, nil
}

func (s *source) loadAll(ctx context.Context) ([]cache.Entry[string], error) {
	s.mu.Lock()
	s.allCalls++
	hang := s.hang
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
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

func (s *source) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *source) callsFor(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *source) wholeCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allCalls
}

// open makes a cache over src with a snapshot at path, restores it, and closes both (the
// snapshot first) when the test ends. Inside a synctest bubble it must be called from the
// bubble's goroutine.
func open(t *testing.T, src *source, path string, o cache.Options, so *snapshot.Options[string]) (*cache.Cache[string], *snapshot.Snapshot[string]) {
	t.Helper()
	c, err := cache.NewFull(src.load, src.loadAll, &o)
	require.NoError(t, err)
	s, err := snapshot.New(c, path, so)
	require.NoError(t, err)
	t.Cleanup(func() {
		s.Close()
		c.Close()
	})
	s.Restore(context.Background())
	return c, s
}

// closeBoth closes s then c, failing the test on an error of the snapshot's last write.
func closeBoth(t *testing.T, c *cache.Cache[string], s *snapshot.Snapshot[string]) {
	t.Helper()
	require.NoError(t, s.Close())
	require.NoError(t, c.Close())
}

// get is Get that fails the test on an error.
func get(t *testing.T, c *cache.Cache[string], id string) (string, bool) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), id)
	require.NoError(t, err, "Get(%q)", id)
	return v, ok
}

func ids(entries []cache.Entry[string]) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

// advance moves a synctest bubble's clock on by d and lets everything settle.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// snapshotGoroutines returns the stacks of the goroutines of package snapshot.
func snapshotGoroutines(t *testing.T) []string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 2))
	var out []string
	for g := range bytes.SplitSeq(buf.Bytes(), []byte("\n\n")) {
		if bytes.Contains(g, []byte("gosorcery/cache/snapshot.(*Snapshot")) {
			out = append(out, string(g))
		}
	}
	return out
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

// snapshotEvents returns the snapshot events recorded, in order.
func (r *recorder) snapshotEvents() []cache.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cache.Event
	for _, ev := range r.events {
		if ev.Kind == cache.EventSnapshotRestored || ev.Kind == cache.EventSnapshotError {
			out = append(out, ev)
		}
	}
	return out
}
