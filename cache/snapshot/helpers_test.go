package snapshot_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// newBoth makes a cache over src (with cache.NewFull) and a snapshot of it at path, without
// restoring it, and closes both (the snapshot first) when the test ends. Inside a synctest
// bubble it must be called from the bubble's goroutine.
func newBoth(t *testing.T, src *cachetest.Source, path string, o cache.Options, so *snapshot.Options[string]) (*cache.Cache[string], *snapshot.Snapshot[string]) {
	t.Helper()
	c, err := cache.NewFull(src.Load, src.LoadAll, &o)
	require.NoError(t, err)
	s, err := snapshot.New(c, path, so)
	require.NoError(t, err)
	t.Cleanup(func() {
		s.Close()
		c.Close()
	})
	return c, s
}

// open is newBoth that then restores the snapshot.
func open(t *testing.T, src *cachetest.Source, path string, o cache.Options, so *snapshot.Options[string]) (*cache.Cache[string], *snapshot.Snapshot[string]) {
	t.Helper()
	c, s := newBoth(t, src, path, o, so)
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
