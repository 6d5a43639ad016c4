package cache_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/cache"
)

const benchKeys = 1 << 14

func benchKeyNames() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = "endpoint-" + strconv.Itoa(i)
	}
	return keys
}

// residentCache returns a cache with opts holding every key of benchKeyNames, which it
// also returns, and closes the cache when the benchmark ends.
func residentCache(b *testing.B, opts *cache.Options) (*cache.Cache[int], []string) {
	c, err := cache.New(loadLen, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	keys := benchKeyNames()
	for i, k := range keys {
		c.Set(k, i)
	}
	return c, keys
}

func loadLen(ctx context.Context, id string) (int, bool, error) { return len(id), true, nil }

// BenchmarkGetHit reads 16,384 resident keys from every goroutine of b.RunParallel.
// Run with -cpu 1,2: the hit path takes no lock and allocates nothing, so two processors
// do about twice the work of one.
func BenchmarkGetHit(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts *cache.Options
	}{
		{"plain", nil},
		{"lifetimes", &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour}},
		{"bounded", &cache.Options{MaxObjects: 2 * benchKeys, LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour}},
		{"events", &cache.Options{LifetimeStale: time.Hour, OnEvent: func(cache.Event) {}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, keys := residentCache(b, tc.opts)
			benchGets(b, c, keys)
		})
	}
}

// BenchmarkGetStaleHit reads entries that are stale and extended (their refresh failed),
// the path a cache covering for an outage takes.
func BenchmarkGetStaleHit(b *testing.B) {
	var fail atomic.Bool
	c, err := cache.New(func(ctx context.Context, id string) (int, bool, error) {
		if fail.Load() {
			return 0, false, context.DeadlineExceeded
		}
		return len(id), true, nil
	}, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := benchKeyNames()
	ctx := context.Background()
	for _, k := range keys {
		c.Get(ctx, k)
	}
	fail.Store(true)
	c.MarkAllStale()
	for _, k := range keys {
		c.Get(ctx, k) // starts the refresh, which fails: extended
	}
	for c.Stats().RefreshesInFlight > 0 {
		time.Sleep(time.Millisecond)
	}
	benchGets(b, c, keys)
}

// benchGets reads keys through Get with benchReads.
func benchGets(b *testing.B, c *cache.Cache[int], keys []string) {
	benchReads(b, keys, func(ctx context.Context, id string) bool {
		_, ok, _ := c.Get(ctx, id)
		return ok
	})
}

// benchReads calls read from every goroutine of b.RunParallel, each goroutine walking keys
// from its own place, and panics on a miss: every key must be resident. The call through
// read costs about a nanosecond, within the noise of the hit path.
func benchReads(b *testing.B, keys []string, read func(ctx context.Context, id string) bool) {
	ctx := context.Background()
	var start atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(start.Add(1) * 4099)
		for pb.Next() {
			if !read(ctx, keys[i&(benchKeys-1)]) {
				panic("miss")
			}
			i++
		}
	})
}

// BenchmarkGetMissCoalesced: goroutines asking for the same cold ids share loads.
func BenchmarkGetMissCoalesced(b *testing.B) {
	c, err := cache.New(loadLen, &cache.Options{MaxObjects: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var n atomic.Uint64
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, "cold-"+strconv.FormatUint(n.Add(1)/4, 10))
		}
	})
}

// BenchmarkSet pushes objects into a bounded cache, evicting.
func BenchmarkSet(b *testing.B) {
	c, err := cache.New(loadLen, &cache.Options{MaxObjects: benchKeys / 2, LifetimeStale: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := benchKeyNames()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Set(keys[i&(benchKeys-1)], i)
		i++
	}
}

// BenchmarkRefresh measures the background refresh queue: each round marks 1,024 entries
// stale, reads each (queueing its refresh on the RefreshWorkers workers) and waits until
// every refresh has answered. ns/op is per refresh.
func BenchmarkRefresh(b *testing.B) {
	c, err := cache.New(loadLen, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := benchKeyNames()[:1024]
	ctx := context.Background()
	for _, k := range keys {
		c.Get(ctx, k)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		c.MarkAllStale()
		for _, k := range keys {
			c.Get(ctx, k)
		}
		done += len(keys)
		for deadline := time.Now().Add(time.Minute); c.Stats().RefreshesInFlight > 0; {
			if time.Now().After(deadline) {
				b.Fatal("refreshes still in flight after a minute")
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
}
