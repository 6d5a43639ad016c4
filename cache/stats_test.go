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
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

func TestEventKindsHaveSnakeCaseLabels(t *testing.T) {
	want := map[cache.EventKind]string{
		cache.EventHit:            "hit",
		cache.EventStaleHit:       "stale_hit",
		cache.EventServedExtended: "served_extended",
		cache.EventNegativeHit:    "negative_hit",
		cache.EventMiss:           "miss",
		cache.EventRefreshUpdated: "refresh_updated",
		cache.EventRefreshRemoved: "refresh_removed",
		cache.EventRefreshError:   "refresh_error",
		cache.EventExpired:        "expired",
		cache.EventEvicted:        "evicted",
	}
	for k, label := range want {
		assert.Equal(t, label, k.String())
	}
	assert.Equal(t, "EventKind(0)", cache.EventKind(0).String())
	assert.Equal(t, "EventKind(99)", cache.EventKind(99).String())
}

func TestEveryCacheEventIsCountedAndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v1", "carol": "v1"})
		rec := &cachetest.Recorder{}
		var c *cache.Cache[string]
		var reentered sync.Once
		c = newCache(t, src, &cache.Options{
			Name: "endpoint", LifetimeStale: 10 * time.Second, LifetimeMaximum: 30 * time.Second,
			NegativeLifetime: time.Minute, MaxObjects: 4,
			OnEvent: func(ev cache.Event) {
				// The hook may call back into the cache: no lock is held while it runs.
				c.Peek(ev.ID)
				c.Len()
				reentered.Do(func() { c.Stats() })
				rec.Record(ev)
			},
		})
		start := time.Now()
		get(t, c, "alice") // miss
		get(t, c, "alice") // hit
		get(t, c, "ghost") // miss, remembered
		get(t, c, "ghost") // negative hit
		get(t, c, "bob")   // miss
		cachetest.Advance(10 * time.Second)
		src.Set("alice", "v2")
		get(t, c, "alice") // stale hit, refresh updates
		synctest.Wait()
		src.Delete("bob")
		get(t, c, "bob") // stale hit, refresh removes (and remembers the absence)
		synctest.Wait()
		get(t, c, "carol") // miss
		src.Set("alice", "v3")
		src.SetDown(true)
		cachetest.Advance(10 * time.Second)
		get(t, c, "alice") // stale hit, refresh fails: extended
		synctest.Wait()
		get(t, c, "alice") // served extended
		cachetest.Advance(40 * time.Second)

		assert.Equal(t, []cache.EventKind{
			cache.EventMiss, cache.EventHit, cache.EventStaleHit, cache.EventRefreshUpdated,
			cache.EventStaleHit, cache.EventRefreshError, cache.EventServedExtended, cache.EventExpired,
		}, rec.Kinds("alice"))
		assert.Equal(t, []cache.EventKind{cache.EventMiss, cache.EventStaleHit, cache.EventRefreshRemoved}, rec.Kinds("bob"))
		assert.Equal(t, []cache.EventKind{cache.EventMiss, cache.EventNegativeHit}, rec.Kinds("ghost"))
		for _, ev := range rec.Events() {
			assert.Equal(t, "endpoint", ev.Cache)
			if ev.Kind == cache.EventRefreshError {
				assert.ErrorIs(t, ev.Err, cachetest.ErrDown)
				assert.Equal(t, 10*time.Second, ev.Age, "age since the last successful load (the refresh at 10 s)")
			}
		}

		st := c.Stats()
		assert.Equal(t, "endpoint", st.Name)
		assert.Equal(t, uint64(1), st.Hits)
		assert.Equal(t, uint64(3), st.StaleHits)
		assert.Equal(t, uint64(1), st.ServedExtended)
		assert.Equal(t, uint64(1), st.NegativeHits)
		assert.Equal(t, uint64(4), st.Misses)
		assert.Equal(t, cache.LoadStats{Found: 4, NotFound: 2, Errors: 1}, st.Loads)
		assert.Equal(t, uint64(1), st.RefreshUpdated)
		assert.Equal(t, uint64(1), st.RefreshRemoved)
		assert.Equal(t, uint64(1), st.RefreshErrors)
		assert.Equal(t, uint64(2), st.Expired, "alice and carol expired")
		assert.Equal(t, start.Add(10*time.Second), st.LastSuccess)
		assert.Equal(t, 0, st.Objects)
		assert.Equal(t, 0, st.RefreshesInFlight)
	})
}

func TestStatsGauges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(nil)
		for i := range 10 {
			src.Set(fmt.Sprintf("ep%d", i), "v")
		}
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: time.Hour, NegativeLifetime: time.Hour})
		for i := range 5 {
			get(t, c, fmt.Sprintf("ep%d", i))
		}
		cachetest.Advance(30 * time.Second)
		for i := 5; i < 10; i++ {
			get(t, c, fmt.Sprintf("ep%d", i))
		}
		get(t, c, "nobody")
		st := c.Stats()
		assert.Equal(t, 10, st.Objects)
		assert.Equal(t, 1, st.NegativeObjects)
		assert.Equal(t, 30*time.Second, st.OldestAge)
		assert.Equal(t, 10, c.Len())
		assert.False(t, st.Complete)

		src.SetDown(true)
		cachetest.Advance(40 * time.Second) // the first five are stale
		for i := range 10 {
			get(t, c, fmt.Sprintf("ep%d", i))
		}
		synctest.Wait()
		st = c.Stats()
		assert.Equal(t, 5, st.Extended, "the cache covers for the outage for five objects")
		assert.Equal(t, 70*time.Second, st.OldestAge, "an extension does not make an object younger")
	})
}

// TestGetHitDoesNotAllocate guards the hit path.
func TestGetHitDoesNotAllocate(t *testing.T) {
	for _, opts := range []*cache.Options{
		nil,
		{LifetimeStale: time.Hour, LifetimeMaximum: 2 * time.Hour, MaxObjects: 100},
	} {
		c, err := cache.New(func(ctx context.Context, id string) (int, bool, error) { return 1, true, nil }, opts)
		require.NoError(t, err)
		c.Set("alice", 1)
		ctx := context.Background()
		allocs := testing.AllocsPerRun(1000, func() {
			if _, ok, _ := c.Get(ctx, "alice"); !ok {
				t.Fatal("miss")
			}
		})
		assert.Zero(t, allocs)
		c.Close()
	}
}
