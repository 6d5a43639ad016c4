package cache_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// noLoad is a LoadFunc for caches whose callers walk the source themselves.
func noLoad(t *testing.T) cache.LoadFunc[string] {
	return func(ctx context.Context, id string) (string, bool, error) {
		t.Errorf("the LoadFunc was called for %q", id)
		return "", false, errors.ErrUnavailable
	}
}

func TestLookupNeverLoadsAndStoreAppliesTheLoadRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := cache.New(noLoad(t), &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour,
			ErrorRecheck: time.Minute, NegativeLifetime: time.Minute})
		require.NoError(t, err)
		defer c.Close()
		ctx := t.Context()

		_, _, m := c.Lookup(ctx, "alice")
		require.True(t, m.Missed())
		c.Store(ctx, "alice", "v1", true, nil, m)
		v, found, m := c.Lookup(ctx, "alice")
		assert.False(t, m.Missed())
		assert.True(t, found)
		assert.Equal(t, "v1", v)

		_, _, m = c.Lookup(ctx, "bob")
		c.Store(ctx, "bob", "b", true, errors.ErrUnavailable, m) // degraded
		st := c.Stats()
		assert.Equal(t, 2, st.Objects)
		assert.Equal(t, 1, st.Extended, "a degraded answer lives on an extension")

		_, _, m = c.Lookup(ctx, "ghost")
		c.Store(ctx, "ghost", "", false, nil, m)
		_, found, m = c.Lookup(ctx, "ghost")
		assert.False(t, found)
		assert.False(t, m.Missed(), "a remembered absence answers")

		_, _, m = c.Lookup(ctx, "carol")
		c.Store(ctx, "carol", "", false, errors.ErrUnavailable, m)
		_, _, m = c.Lookup(ctx, "carol")
		assert.True(t, m.Missed(), "an error caches nothing")

		// An id deleted between the look-up and the answer is not cached.
		_, _, m = c.Lookup(ctx, "dave")
		c.Delete("dave")
		c.Store(ctx, "dave", "d", true, nil, m)
		_, _, m = c.Lookup(ctx, "dave")
		assert.True(t, m.Missed(), "the answer may predate the deletion")

		// An entry set meanwhile wins.
		_, _, m = c.Lookup(ctx, "erin")
		c.Set("erin", "set")
		c.Store(ctx, "erin", "stored", true, nil, m)
		v, _ = c.Peek("erin")
		assert.Equal(t, "set", v)

		// The zero Miss stores nothing.
		c.Store(ctx, "frank", "f", true, nil, cache.Miss{})
		_, ok := c.Peek("frank")
		assert.False(t, ok)

		st = c.Stats()
		assert.EqualValues(t, 8, st.Misses, "every look-up that missed is counted")
		assert.Equal(t, cache.LoadStats{Found: 3, NotFound: 1, Errors: 1, Degraded: 1}, st.Loads)
	})
}

func TestLookupOfAStaleEntryQueuesItsRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loads := 0
		c, err := cache.New(func(ctx context.Context, id string) (string, bool, error) {
			loads++
			return "v2", true, nil
		}, &cache.Options{LifetimeStale: time.Minute})
		require.NoError(t, err)
		defer c.Close()
		ctx := t.Context()
		_, _, m := c.Lookup(ctx, "alice")
		c.Store(ctx, "alice", "v1", true, nil, m)
		time.Sleep(time.Minute + time.Second)
		v, found, m := c.Lookup(ctx, "alice")
		assert.False(t, m.Missed())
		assert.True(t, found)
		assert.Equal(t, "v1", v, "served stale at once")
		synctest.Wait()
		assert.Equal(t, 1, loads, "one background refresh")
		v, _ = c.Peek("alice")
		assert.Equal(t, "v2", v)
	})
}

func TestSetDegradedKeepsTheEntryCachedAndExtendsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := cache.New(noLoad(t), &cache.Options{LifetimeStale: time.Hour, ErrorRecheck: time.Minute})
		require.NoError(t, err)
		defer c.Close()
		c.Set("alice", "v1")
		c.SetDegraded("alice", "fallback")
		v, _ := c.Peek("alice")
		assert.Equal(t, "v1", v, "the cached object wins over a fallback's")
		assert.Equal(t, 1, c.Stats().Extended)
		c.SetDegraded("bob", "fallback")
		v, _ = c.Peek("bob")
		assert.Equal(t, "fallback", v)
		assert.Equal(t, 2, c.Stats().Extended)
	})
}
