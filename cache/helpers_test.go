package cache_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// newCache makes a cache over src and closes it when the test ends. Inside a synctest
// bubble it must be called from the bubble's goroutine.
func newCache(t *testing.T, src *cachetest.Source, opts *cache.Options) *cache.Cache[string] {
	t.Helper()
	c, err := cache.NewFull(src.Load, src.LoadAll, opts)
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
