package benchmarks

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/jellydator/ttlcache/v3"
	"github.com/maypok86/otter/v2"
	"github.com/viccon/sturdyc"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// The workload: 16,384 string keys, all resident, read with a Zipf distribution.
const (
	keyCount = 1 << 14
	traceLen = 1 << 20 // a precomputed sequence of key indexes
	zipfS    = 1.01    // the skew: key k is read about as often as 1/k^1.01
	capacity = 2 * keyCount

	staleAfter  = time.Hour      // refresh (otter, sturdyc, gosorcery) after an hour
	expireAfter = 24 * time.Hour // expire after a day
)

// object stands for a cached sorcery object; caches hold pointers to it.
type object struct {
	id string
}

type workload struct {
	keys  []string
	objs  []*object
	trace []uint16
}

var load = sync.OnceValue(func() *workload {
	w := &workload{keys: make([]string, keyCount), objs: make([]*object, keyCount), trace: make([]uint16, traceLen)}
	for i := range w.keys {
		w.keys[i] = fmt.Sprintf("endpoint-%05d", i)
		w.objs[i] = &object{id: w.keys[i]}
	}
	z := rand.NewZipf(rand.New(rand.NewSource(42)), zipfS, 1, keyCount-1)
	for i := range w.trace {
		w.trace[i] = uint16(z.Uint64())
	}
	return w
})

// runParallel runs b.N iterations on GOMAXPROCS goroutines, as b.RunParallel does, handing
// out batches of iterations [from, to) from a shared counter; g numbers the goroutine.
//
// It replaces b.RunParallel because each RunParallel goroutine counts down its batch in a
// small heap object (testing.PB) written on every iteration, and two goroutines that start
// on the same processor can get theirs in one cache line: then every iteration of both
// fights over that line, and a fast cache measures up to twice as slow at -cpu 2 in some
// runs and not in others. Here the count lives in a register.
func runParallel(b *testing.B, body func(g, from, to int)) {
	const grain = 1000
	var next struct {
		_ [64]byte
		n atomic.Int64
		_ [56]byte
	}
	var wg sync.WaitGroup
	for g := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				to := int(next.n.Add(grain))
				from := to - grain
				if from >= b.N {
					return
				}
				body(g, from, min(to, b.N))
			}
		})
	}
	wg.Wait()
}

// contender is one cache under test: get reads a key, and reports whether it was there.
type contender struct {
	name string
	make func(w *workload) (get func(key string) bool, close func())
}

// fetch is what the loading caches would call on a miss; on this workload they never do.
func fetch(ctx context.Context, key string) (*object, error) {
	return &object{id: key}, nil
}

var contenders = []contender{
	{"gosorcery", func(w *workload) (func(string) bool, func()) {
		c, err := cache.New(func(ctx context.Context, id string) (*object, bool, error) {
			o, err := fetch(ctx, id)
			return o, err == nil, err
		}, &cache.Options{MaxObjects: capacity, LifetimeStale: staleAfter, LifetimeMaximum: expireAfter})
		if err != nil {
			panic(err)
		}
		for i, k := range w.keys {
			c.Set(k, w.objs[i])
		}
		ctx := context.Background()
		return func(k string) bool {
			_, ok, _ := c.Get(ctx, k)
			return ok
		}, func() { c.Close() }
	}},
	{"otter", func(w *workload) (func(string) bool, func()) {
		c := otter.Must(&otter.Options[string, *object]{
			MaximumSize:       capacity,
			ExpiryCalculator:  otter.ExpiryWriting[string, *object](expireAfter),
			RefreshCalculator: otter.RefreshWriting[string, *object](staleAfter),
		})
		for i, k := range w.keys {
			c.Set(k, w.objs[i])
		}
		ctx := context.Background()
		loader := otter.LoaderFunc[string, *object](fetch)
		return func(k string) bool {
			_, err := c.Get(ctx, k, loader)
			return err == nil
		}, func() { c.StopAllGoroutines() }
	}},
	{"golang-lru", func(w *workload) (func(string) bool, func()) {
		c, err := lru.New[string, *object](capacity)
		if err != nil {
			panic(err)
		}
		for i, k := range w.keys {
			c.Add(k, w.objs[i])
		}
		return func(k string) bool {
			_, ok := c.Get(k)
			return ok
		}, func() {}
	}},
	{"golang-lru-expirable", func(w *workload) (func(string) bool, func()) {
		c := expirable.NewLRU[string, *object](capacity, nil, expireAfter)
		for i, k := range w.keys {
			c.Add(k, w.objs[i])
		}
		return func(k string) bool {
			_, ok := c.Get(k)
			return ok
		}, func() {}
	}},
	{"sturdyc", func(w *workload) (func(string) bool, func()) {
		c := sturdyc.New[*object](capacity, 16, expireAfter, 10,
			sturdyc.WithEarlyRefreshes(staleAfter, 2*staleAfter, expireAfter, time.Second))
		for i, k := range w.keys {
			c.Set(k, w.objs[i])
		}
		ctx := context.Background()
		miss := func(ctx context.Context) (*object, error) { return &object{}, nil }
		return func(k string) bool {
			_, err := c.GetOrFetch(ctx, k, miss)
			return err == nil
		}, func() {}
	}},
	{"ttlcache", func(w *workload) (func(string) bool, func()) {
		c := ttlcache.New(
			ttlcache.WithTTL[string, *object](expireAfter),
			ttlcache.WithCapacity[string, *object](capacity),
		)
		for i, k := range w.keys {
			c.Set(k, w.objs[i], ttlcache.DefaultTTL)
		}
		return func(k string) bool {
			return c.Get(k) != nil
		}, func() {}
	}},
}

// BenchmarkZipfGet reads the workload's keys in Zipf order from GOMAXPROCS goroutines;
// -cpu sets how many run at once.
func BenchmarkZipfGet(b *testing.B) {
	w := load()
	for _, ct := range contenders {
		b.Run(ct.name, func(b *testing.B) {
			get, closeFn := ct.make(w)
			defer closeFn()
			for _, k := range w.keys { // all resident
				if !get(k) {
					b.Fatalf("%s: %s not resident", ct.name, k)
				}
			}
			var misses atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			runParallel(b, func(g, from, to int) {
				n := int64(0)
				for i := from + g*7919*64; i < to+g*7919*64; i++ { // each goroutine elsewhere in the trace
					if !get(w.keys[w.trace[i&(traceLen-1)]]) {
						n++
					}
				}
				if n > 0 {
					misses.Add(n)
				}
			})
			b.StopTimer()
			if n := misses.Load(); n > 0 {
				b.Fatalf("%s: %d misses on a workload that fits", ct.name, n)
			}
		})
	}
}

// BenchmarkMemoryPerEntry fills each cache with 1,000,000 entries and reports the heap it
// takes per entry beyond the 8-byte value (a pointer to an object allocated beforehand) and
// the key's bytes (allocated beforehand too; no cache copies them).
func BenchmarkMemoryPerEntry(b *testing.B) {
	const n = 1_000_000
	keys := make([]string, n)
	objs := make([]*object, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("endpoint-%07d", i)
		objs[i] = &object{id: keys[i]}
	}
	type filler struct {
		name string
		fill func() (keep any)
	}
	ctx := context.Background()
	loadObj := func(ctx context.Context, id string) (*object, bool, error) { return nil, false, nil }
	fillers := []filler{
		{"gosorcery", func() any {
			c, _ := cache.New(loadObj, &cache.Options{MaxObjects: 2 * n, LifetimeStale: staleAfter, LifetimeMaximum: expireAfter})
			for i, k := range keys {
				c.Set(k, objs[i])
			}
			_, _, _ = c.Get(ctx, keys[0])
			return c
		}},
		{"gosorcery-unbounded", func() any {
			c, _ := cache.New(loadObj, &cache.Options{LifetimeStale: staleAfter, LifetimeMaximum: expireAfter})
			for i, k := range keys {
				c.Set(k, objs[i])
			}
			return c
		}},
		{"otter", func() any {
			c := otter.Must(&otter.Options[string, *object]{
				MaximumSize:       2 * n,
				ExpiryCalculator:  otter.ExpiryWriting[string, *object](expireAfter),
				RefreshCalculator: otter.RefreshWriting[string, *object](staleAfter),
			})
			for i, k := range keys {
				c.Set(k, objs[i])
			}
			c.CleanUp()
			return c
		}},
		{"golang-lru", func() any {
			c, _ := lru.New[string, *object](2 * n)
			for i, k := range keys {
				c.Add(k, objs[i])
			}
			return c
		}},
		{"golang-lru-expirable", func() any {
			c := expirable.NewLRU[string, *object](2*n, nil, expireAfter)
			for i, k := range keys {
				c.Add(k, objs[i])
			}
			return c
		}},
		{"sturdyc", func() any {
			c := sturdyc.New[*object](2*n, 16, expireAfter, 10,
				sturdyc.WithEarlyRefreshes(staleAfter, 2*staleAfter, expireAfter, time.Second))
			for i, k := range keys {
				c.Set(k, objs[i])
			}
			return c
		}},
		{"ttlcache", func() any {
			c := ttlcache.New(ttlcache.WithTTL[string, *object](expireAfter), ttlcache.WithCapacity[string, *object](2*n))
			for i, k := range keys {
				c.Set(k, objs[i], ttlcache.DefaultTTL)
			}
			return c
		}},
	}
	for _, f := range fillers {
		b.Run(f.name, func(b *testing.B) {
			var perEntry float64
			for range b.N {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				keep := f.fill()
				runtime.GC()
				runtime.ReadMemStats(&after)
				perEntry += float64(after.HeapAlloc-before.HeapAlloc) / n
				if c, ok := keep.(interface{ Close() error }); ok {
					c.Close()
				}
				if c, ok := keep.(interface{ StopAllGoroutines() bool }); ok {
					c.StopAllGoroutines()
				}
				runtime.KeepAlive(keep)
			}
			b.ReportMetric(perEntry/float64(b.N)-8, "B-overhead/entry")
			runtime.KeepAlive(keys)
			runtime.KeepAlive(objs)
		})
	}
}

// BenchmarkFailurePath caches 10,000 ids, takes the source down, and reads random ids from
// GOMAXPROCS goroutines for a fixed time (3 s per b.N). Every read must be served; the
// source must be asked at most once per id per ErrorRecheck (500 ms). It reports the time
// (ns/op) and memory (B/read, allocs/read) per read, the background refreshes' included,
// the failed reads, the source calls per id per ErrorRecheck, and the shortest gap between
// two calls for one id. (B/op and allocs/op are per 3-second scenario.)
func BenchmarkFailurePath(b *testing.B) {
	const (
		ids      = 10_000
		recheck  = 500 * time.Millisecond
		duration = 3 * time.Second
	)
	keys := make([]string, ids)
	for i := range keys {
		keys[i] = fmt.Sprintf("endpoint-%05d", i)
	}
	for range b.N {
		var (
			mu    sync.Mutex
			calls = make(map[string][]time.Time, ids)
			down  atomic.Bool
		)
		c, err := cache.New(func(ctx context.Context, id string) (*object, bool, error) {
			mu.Lock()
			calls[id] = append(calls[id], time.Now())
			mu.Unlock()
			if down.Load() {
				return nil, false, fmt.Errorf("provisioning service: %w", errors.ErrUnavailable)
			}
			return &object{id: id}, true, nil
		}, &cache.Options{LifetimeStale: recheck, LifetimeMaximum: time.Hour, ErrorRecheck: recheck})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for _, k := range keys {
			if _, ok, err := c.Get(ctx, k); !ok || err != nil {
				b.Fatalf("warm-up: %v", err)
			}
		}
		mu.Lock()
		clear(calls)
		mu.Unlock()
		down.Store(true)

		var reads, failed atomic.Int64
		var wg sync.WaitGroup
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		deadline := start.Add(duration)
		for g := range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				rng := rand.New(rand.NewSource(int64(g)))
				n := int64(0)
				for ; n&1023 != 0 || time.Now().Before(deadline); n++ {
					if _, ok, err := c.Get(ctx, keys[rng.Intn(ids)]); !ok || err != nil {
						failed.Add(1)
					}
				}
				reads.Add(n)
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		c.Close()

		mu.Lock()
		total, minGap := 0, time.Duration(1<<62)
		for _, ts := range calls {
			total += len(ts)
			for j := 1; j < len(ts); j++ {
				minGap = min(minGap, ts[j].Sub(ts[j-1]))
			}
		}
		mu.Unlock()
		if failed.Load() > 0 {
			b.Fatalf("%d of %d reads failed while the source was down", failed.Load(), reads.Load())
		}
		if minGap < recheck {
			b.Fatalf("an id was asked twice within %v (ErrorRecheck %v)", minGap, recheck)
		}
		// Per read, the refreshes' own costs included.
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(reads.Load()), "ns/op")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(reads.Load()), "B/read")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(reads.Load()), "allocs/read")
		b.ReportMetric(float64(failed.Load()), "failed-reads")
		b.ReportMetric(float64(total)/ids/(float64(elapsed)/float64(recheck)), "calls/id/recheck")
		b.ReportMetric(float64(minGap.Milliseconds()), "min-gap-ms")
		b.ReportMetric(float64(reads.Load()), "reads")
	}
}
