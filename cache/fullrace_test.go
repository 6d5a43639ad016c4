package cache_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// atLeastTwoProcs runs the test with GOMAXPROCS ≥ 2, so that readers race in parallel.
func atLeastTwoProcs(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		old := runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	}
}

func TestFullBackendReadersNeverSeeTheSetMissingWhileItIsReloaded(t *testing.T) {
	atLeastTwoProcs(t)
	synctest.Test(t, func(t *testing.T) {
		const ids = 50
		objs := make(map[string]string, ids)
		for i := range ids {
			objs[fmt.Sprint("obj", i)] = fmt.Sprint("value", i)
		}
		src := cachetest.NewSource(objs)
		src.SetDelay(time.Millisecond) // every whole load takes a while: readers overlap it
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: 50 * time.Millisecond, LifetimeMaximum: 80 * time.Millisecond}))
		_, err := c.All(context.Background())
		require.NoError(t, err)

		// The operations an operator, an invalidation bus and a reload do to a full-backend
		// cache: each drops the set and loads it again, against a healthy source.
		ops := []func(){
			func() { c.Expire("obj3") },          // an operator's expire of one object
			c.ExpireAll,                          // an operator's expire of the cache
			func() { c.Expire("gone") },          // a "deleted" invalidation (the sorcery layer expires)
			c.ExpireAll,                          // a reload with expire_on_reload
			func() { c.MarkStale("obj7", true) }, // a "changed" invalidation
			c.MarkAllStale,                       // a bus catch-up
		}
		const readers, iterations = 8, 10000
		var wrong, failed, done atomic.Int64
		var wg sync.WaitGroup
		for r := range readers {
			wg.Go(func() {
				defer done.Add(1)
				for i := range iterations {
					n := (i*7 + r*13) % (ids + 1)
					id := fmt.Sprint("obj", n)
					if n == ids {
						id = "gone"
					}
					v, found, err := c.Get(context.Background(), id)
					switch {
					case err != nil:
						failed.Add(1)
					case n == ids && found, n < ids && (!found || v != objs[id]):
						wrong.Add(1)
					}
					if i%4 == 0 {
						time.Sleep(100 * time.Microsecond)
					}
				}
			})
		}
		for i := 0; done.Load() < readers; i++ {
			ops[i%len(ops)]()
			time.Sleep(time.Duration(1+i%3) * time.Millisecond)
		}
		wg.Wait()
		assert.Zero(t, wrong.Load(), "wrong answers")
		assert.Zero(t, failed.Load(), "failed reads")
		t.Logf("%d whole loads", src.WholeCalls())
		assert.Greater(t, src.WholeCalls(), 100, "the sets were not reloaded under the readers")
	})
}

func TestFullBackendLoadsTheSetOncePerPeriodHoweverManyReadersRace(t *testing.T) {
	atLeastTwoProcs(t)
	for _, tc := range []struct {
		name string
		down bool
	}{{"failing source, one load per ErrorRecheck", true}, {"healthy source, one load per LifetimeStale", false}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const periods = 1000
				src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v2"})
				c := newCache(t, src, fullOpts(cache.Options{
					LifetimeStale: time.Second, LifetimeMaximum: time.Hour, ErrorRecheck: time.Second,
				}))
				get(t, c, "alice") // the first whole load, at 0
				src.SetDown(tc.down)
				start := time.Now()
				var wg sync.WaitGroup
				var failed atomic.Int64
				for r := range 8 {
					wg.Go(func() {
						id := []string{"alice", "bob", "carol"}[r%3]
						for time.Since(start) < periods*time.Second {
							for range 10 {
								if _, _, err := c.Get(context.Background(), id); err != nil {
									failed.Add(1)
								}
							}
							if r%2 == 0 {
								_, _ = c.All(context.Background())
							}
							time.Sleep(100 * time.Millisecond) // the readers wake together
						}
					})
				}
				wg.Wait()
				synctest.Wait()
				assert.Zero(t, failed.Load())
				loads := src.WholeCalls() - 1
				assert.LessOrEqual(t, loads, periods, "whole-set loads over %d periods", periods)
				// A period starts at the refresh, which comes at the first read after the stale
				// point: up to one reader's sleep late.
				assert.GreaterOrEqual(t, loads, periods*10/11, "whole-set loads over %d periods", periods)
			})
		})
	}
}
