package cache_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// hangingOptions are lifetimes with a short gap between stale and expiry, shorter than one
// refresh's timeout: a refresh that hangs on the source outlives the entry's expiry.
func hangingOptions() *cache.Options {
	return &cache.Options{
		LifetimeStale:   time.Second,
		LifetimeMaximum: 1150 * time.Millisecond,
		RefreshTimeout:  10 * time.Second,
		RefreshWorkers:  8,
	}
}

func TestRefreshHangingAcrossExpiryKeepsItsEntryServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		rec := &cachetest.Recorder{}
		opts := hangingOptions()
		opts.OnEvent = rec.Record
		c := newCache(t, src, opts)
		get(t, c, "alice")
		src.SetDown(true)
		src.SetDelay(time.Hour) // every call hangs until its context ends

		cachetest.Advance(1100 * time.Millisecond) // stale; the read starts a refresh that hangs 10 s
		v, ok := get(t, c, "alice")
		require.True(t, ok)
		require.Equal(t, "v1", v)
		for range 99 { // across the expiry at 1.15 s, until the refresh times out at 11.1 s
			cachetest.Advance(100 * time.Millisecond)
			v, ok := get(t, c, "alice")
			require.True(t, ok, "an entry whose refresh was running was dropped at its expiry")
			assert.Equal(t, "v1", v)
		}
		cachetest.Advance(100 * time.Millisecond) // the refresh timed out: the entry is extended
		v, ok = get(t, c, "alice")
		require.True(t, ok, "a refresh that failed after the expiry did not extend the entry")
		assert.Equal(t, "v1", v)
		st := c.Stats()
		assert.Equal(t, uint64(0), st.Expired)
		assert.Equal(t, uint64(1), st.RefreshErrors)
		assert.Equal(t, 1, src.Calls("alice")-1, "one refresh, however often the entry was read")
		assert.Equal(t, 0, rec.Count(cache.EventExpired))
	})
}

func TestThousandStaleEntriesWithHungRefreshesLoseNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 1000
		objs := make(map[string]string, n)
		for i := range n {
			objs[fmt.Sprint("id", i)] = fmt.Sprint("v", i)
		}
		src := cachetest.NewSource(objs)
		c := newCache(t, src, hangingOptions())
		for i := range n {
			get(t, c, fmt.Sprint("id", i))
		}
		src.SetDown(true)
		src.SetDelay(time.Hour)

		// 1,000 refreshes on 8 workers, each hanging 10 s: the last answers after 1,250 s.
		// Every read in between is served: a refresh queued or running holds its entry,
		// and a failed one extends it (a read every 500 ms keeps it inside its extension).
		cachetest.Advance(1100 * time.Millisecond)
		failed, rounds := 0, 0
		for ; rounds < 3000 && c.Stats().RefreshErrors < n; rounds++ {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			for i := range n {
				_, ok, err := c.Get(ctx, fmt.Sprint("id", i))
				if !ok || err != nil {
					failed++
				}
			}
			cancel()
			cachetest.Advance(500 * time.Millisecond)
		}
		assert.Zero(t, failed, "reads of cached objects failed while their refreshes were queued or running")
		st := c.Stats()
		assert.GreaterOrEqual(t, st.RefreshErrors, uint64(n), "not every entry's refresh answered in %d rounds", rounds)
		assert.Equal(t, n, st.Objects)
		assert.Equal(t, uint64(0), st.Expired)
		assert.LessOrEqual(t, src.PeakRunning(), 8)
	})
}

func TestStaleIfErrorCapEndsAnEntryWhoseRefreshHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		opts := hangingOptions()
		opts.StaleIfError = 2 * time.Second // cap at 1.15 + 2 = 3.15 s
		c := newCache(t, src, opts)
		get(t, c, "alice")
		src.SetDown(true)
		src.SetDelay(time.Hour)
		cachetest.Advance(1100 * time.Millisecond)
		get(t, c, "alice") // its refresh hangs until 11.1 s
		cachetest.Advance(2 * time.Second)
		_, ok := c.Peek("alice")
		require.True(t, ok, "dropped before the StaleIfError cap")
		cachetest.Advance(100 * time.Millisecond)
		_, ok = c.Peek("alice")
		assert.False(t, ok, "served past the StaleIfError cap")
	})
}

func TestFullBackendSetRefreshHangingAcrossExpiryKeepsTheSetServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v2"})
		opts := hangingOptions()
		opts.FullBackend = true
		c := newCache(t, src, opts)
		get(t, c, "alice")
		src.SetDown(true)
		src.SetDelay(time.Hour)

		cachetest.Advance(1100 * time.Millisecond)
		get(t, c, "alice") // the whole refresh hangs until 11.1 s
		for range 100 {
			cachetest.Advance(100 * time.Millisecond)
			for _, id := range []string{"alice", "bob"} {
				_, ok, err := c.Get(context.Background(), id)
				require.NoError(t, err, "the set was dropped while its refresh ran")
				require.True(t, ok, "%s: the set was dropped while its refresh ran", id)
			}
			_, ok := get(t, c, "carol")
			require.False(t, ok)
		}
		st := c.Stats()
		assert.True(t, st.Complete)
		assert.Equal(t, uint64(0), st.Expired)
		assert.Equal(t, uint64(1), st.RefreshErrors)
	})
}

func TestMarkingStaleForgetsRememberedAbsence(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(c *cache.Cache[string])
	}{
		{"MarkStale", func(c *cache.Cache[string]) { c.MarkStale("ghost", false) }},
		{"MarkStale with reload", func(c *cache.Cache[string]) { c.MarkStale("ghost", true) }},
		{"MarkAllStale", func(c *cache.Cache[string]) { c.MarkAllStale() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := cachetest.NewSource(map[string]string{"alice": "v1"})
				c := newCache(t, src, &cache.Options{NegativeLifetime: time.Minute, MaxObjects: 10})
				get(t, c, "alice")
				_, ok := get(t, c, "ghost")
				require.False(t, ok)
				require.Equal(t, 1, c.Stats().NegativeObjects)

				src.Set("ghost", "boo") // created at the source; the announcement was lost
				tc.mark(c)
				synctest.Wait()
				v, ok := get(t, c, "ghost")
				assert.True(t, ok, "an object remembered absent was not asked for again after %s", tc.name)
				assert.Equal(t, "boo", v)
				assert.Equal(t, 2, src.Calls("ghost"))
				assert.Equal(t, 0, c.Stats().NegativeObjects)
			})
		})
	}
}
