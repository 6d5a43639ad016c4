package cache_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// cacheGoroutines returns the stacks of goroutines running code of the cache package or
// of its load coalescing.
func cacheGoroutines(t *testing.T) []string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 2))
	var out []string
	for g := range bytes.SplitSeq(buf.Bytes(), []byte("\n\n")) {
		if bytes.Contains(g, []byte("gosorcery/cache.(*Cache")) || bytes.Contains(g, []byte("gosorcery/internal/flight")) {
			out = append(out, string(g))
		}
	}
	return out
}

func TestCloseLeavesNoGoroutineBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v1"})
		c, err := cache.NewFull(src.Load, src.LoadAll, &cache.Options{
			LifetimeStale: time.Second, LifetimeMaximum: time.Hour, MaxObjects: 100, RefreshWorkers: 2,
		})
		require.NoError(t, err)
		get(t, c, "alice")
		src.SetDelay(time.Hour) // loads and refreshes now hang until cancelled
		cachetest.Advance(time.Second)
		get(t, c, "alice") // a background refresh, running
		var wg sync.WaitGroup
		wg.Go(func() { // a foreground load, running
			_, _, err := c.Get(context.Background(), "bob")
			assert.ErrorIs(t, err, errors.ErrClosed)
		})
		synctest.Wait()
		require.NotEmpty(t, cacheGoroutines(t), "the test should have the cache busy")

		require.NoError(t, c.Close())
		wg.Wait()
		synctest.Wait() // goroutines that returned have exited
		assert.Empty(t, cacheGoroutines(t), "goroutines left behind by Close")
	})
}

func TestCloseIsIdempotentAndLaterCallsFail(t *testing.T) {
	src := cachetest.NewSource(map[string]string{"alice": "v1"})
	c, err := cache.NewFull(src.Load, src.LoadAll, &cache.Options{LifetimeStale: time.Minute})
	require.NoError(t, err)
	get(t, c, "alice")
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Close(), errors.ErrClosed)

	_, _, err = c.Get(context.Background(), "alice")
	assert.ErrorIs(t, err, errors.ErrClosed, "Get after Close")
	assert.ErrorIs(t, c.Populate(context.Background()), errors.ErrClosed, "Populate after Close")
	c.Set("bob", "v")
	_, ok := c.Peek("bob")
	assert.False(t, ok, "Set after Close cached something")
	assert.Equal(t, 0, c.Len())
	c.Delete("alice")
	c.Expire("alice")
	c.ExpireAll()
	c.MarkStale("alice", true)
	c.MarkAllStale()
	assert.Equal(t, 0, c.Stats().Objects)

	full, err := cache.NewFull(src.Load, src.LoadAll, &cache.Options{FullBackend: true})
	require.NoError(t, err)
	require.NoError(t, full.Close())
	_, err = full.All(context.Background())
	assert.ErrorIs(t, err, errors.ErrClosed, "All after Close")
}
