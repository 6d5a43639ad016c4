package cache_test

import (
	"context"
	"fmt"
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

func fullOpts(o cache.Options) *cache.Options {
	o.FullBackend = true
	return &o
}

func TestFullBackendRefreshFailureKeepsWholeSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		rec := &cachetest.Recorder{}
		c := newCache(t, src, fullOpts(cache.Options{
			LifetimeStale: time.Minute, LifetimeMaximum: 10 * time.Minute, OnEvent: rec.Record,
		}))
		all, err := c.All(context.Background())
		require.NoError(t, err)
		require.Len(t, all, 4)

		src.SetDown(true)
		cachetest.Advance(time.Minute)
		get(t, c, "obj1") // stale: starts the set refresh, which fails
		synctest.Wait()
		st := c.Stats()
		assert.True(t, st.Complete, "a failed set refresh made the set incomplete")
		assert.Equal(t, 4, st.Objects, "a failed set refresh dropped objects (Asterisk empties the set)")
		assert.Equal(t, 4, st.Extended)
		assert.Equal(t, uint64(1), st.RefreshErrors)
		assert.Equal(t, 1, rec.Count(cache.EventRefreshError))

		// Extended: served past the original expiry at 10 min, as long as reads come.
		for range 20 {
			cachetest.Advance(time.Minute)
			for i := 1; i <= 4; i++ {
				_, ok := get(t, c, fmt.Sprintf("obj%d", i))
				require.True(t, ok)
			}
			_, ok := get(t, c, "obj9")
			require.False(t, ok, "an absent id is still known absent")
		}
		assert.Equal(t, 0, src.Calls("obj1"), "a full-backend cache loaded one id")
		assert.LessOrEqual(t, src.WholeCalls(), 1+21, "more than one set refresh per recheck")
		assert.Positive(t, rec.Count(cache.EventServedExtended))

		src.SetDown(false)
		grow(src)
		cachetest.Advance(time.Minute)
		get(t, c, "obj1")
		synctest.Wait()
		st = c.Stats()
		assert.Equal(t, 8, st.Objects)
		assert.Equal(t, 0, st.Extended, "the set still counts as extended after a successful refresh")
	})
}

func TestFullBackendIsNeverPartial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		src.SetDown(true)
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Minute}))
		c.Set("obj1", "pushed") // a push before the set is loaded

		_, _, err := c.Get(context.Background(), "obj2")
		assert.ErrorIs(t, err, errors.ErrUnavailable, "an absent id answered before the set was loaded")
		_, err = c.All(context.Background())
		assert.ErrorIs(t, err, errors.ErrUnavailable, "All answered with a partial set")
		assert.False(t, c.Stats().Complete)
		v, ok := get(t, c, "obj1")
		assert.True(t, ok, "a pushed object is a fact even before the set is complete")
		assert.Equal(t, "pushed", v)

		src.SetDown(false)
		all, err := c.All(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []string{"obj1", "obj2", "obj3", "obj4"}, cachetest.IDs(all), "sorted by id")
		assert.Equal(t, "v", all[0].Value, "the whole load replaced the pushed object")
		assert.True(t, c.Stats().Complete)
	})
}

func TestFullBackendLoadIsCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		src.SetDelay(time.Second)
		c := newCache(t, src, fullOpts(cache.Options{}))
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				id := fmt.Sprintf("obj%d", i%10)
				_, ok, err := c.Get(context.Background(), id)
				if err != nil || ok != (i%10 >= 1 && i%10 <= 4) {
					t.Errorf("Get(%s) = %v, %v", id, ok, err)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 1, src.WholeCalls())
	})
}

func TestFullBackendWritesKeepSetComplete(t *testing.T) {
	src := growingSource()
	c := newCache(t, src, fullOpts(cache.Options{}))
	_, err := c.All(context.Background())
	require.NoError(t, err)
	c.Set("obj9", "new")
	c.Delete("obj1")
	all, err := c.All(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"obj2", "obj3", "obj4", "obj9"}, cachetest.IDs(all))
	_, ok := get(t, c, "obj1")
	assert.False(t, ok, "a deleted id is absent without a load")
	assert.Equal(t, 1, src.WholeCalls())
}

func TestFullBackendExpireAndPopulateReloadTheSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		rec := &cachetest.Recorder{}
		c := newCache(t, src, fullOpts(cache.Options{OnEvent: rec.Record}))
		get(t, c, "obj1")
		grow(src)
		src.SetDelay(time.Second)

		c.Expire("obj1") // the set is loaded as one: this expires it all, and reloads it now
		assert.True(t, c.Stats().Complete, "the expired set must be served until its reload answers")
		assert.Equal(t, 4, c.Len())
		_, found := get(t, c, "obj5")
		assert.False(t, found, "answered from the old set while the new one loads")
		cachetest.Advance(time.Second)
		assert.Equal(t, 8, c.Len(), "the reload that Expire started did not replace the set")
		assert.Equal(t, 2, src.WholeCalls())
		assert.Equal(t, 1, rec.Count(cache.EventExpired))

		src.SetDelay(0)
		require.NoError(t, c.Populate(context.Background()))
		assert.Equal(t, 3, src.WholeCalls())

		src.Delete("obj8")
		c.ExpireAll()
		synctest.Wait()
		all, err := c.All(context.Background())
		require.NoError(t, err)
		assert.Len(t, all, 7)
	})
}

func TestFullBackendExpireWhileTheSourceFailsDropsTheSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		c := newCache(t, src, fullOpts(cache.Options{}))
		get(t, c, "obj1")
		src.SetDown(true)
		c.ExpireAll() // the reload fails: the set goes, as asked
		synctest.Wait()
		assert.False(t, c.Stats().Complete)
		_, _, err := c.Get(context.Background(), "obj1")
		assert.ErrorIs(t, err, cachetest.ErrDown, "an expired set whose reload failed must not answer")
	})
}

func TestFullBackendMarkStaleReloadRefreshesTheSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		c := newCache(t, src, fullOpts(cache.Options{}))
		_, err := c.All(context.Background())
		require.NoError(t, err)
		grow(src)
		c.MarkStale("obj1", true)
		synctest.Wait()
		assert.Equal(t, 8, c.Len())
		assert.Equal(t, uint64(1), c.Stats().RefreshUpdated)

		src.Delete("obj8")
		c.MarkAllStale()
		all, err := c.All(context.Background()) // served stale, starts the refresh
		require.NoError(t, err)
		assert.Len(t, all, 8)
		synctest.Wait()
		all, err = c.All(context.Background())
		require.NoError(t, err)
		assert.Len(t, all, 7)
	})
}

func TestFullBackendStaleIfErrorDropsSetAtCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		c := newCache(t, src, fullOpts(cache.Options{
			LifetimeStale: time.Second, LifetimeMaximum: 5 * time.Second, StaleIfError: 5 * time.Second,
		}))
		get(t, c, "obj1")
		src.SetDown(true)
		for range 9 {
			cachetest.Advance(time.Second)
			_, ok := get(t, c, "obj1")
			require.True(t, ok)
		}
		cachetest.Advance(time.Second) // t=10: last success + 5 s + 5 s
		assert.False(t, c.Stats().Complete)
		_, _, err := c.Get(context.Background(), "obj1")
		assert.ErrorIs(t, err, errors.ErrUnavailable)
	})
}

func TestFullBackendAbsentReadOfStaleSetStartsRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Minute}))
		_, ok := get(t, c, "obj5")
		require.False(t, ok)
		grow(src)
		cachetest.Advance(time.Minute)
		_, ok = get(t, c, "obj5") // absent from the stale set: answered, and the set refreshed
		assert.False(t, ok)
		synctest.Wait()
		_, ok = get(t, c, "obj5")
		assert.True(t, ok, "a read of an absent id did not refresh the stale set")
		st := c.Stats()
		assert.Equal(t, uint64(1), st.Misses, "the first read loaded the set")
		assert.Equal(t, uint64(1), st.NegativeHits)
	})
}
