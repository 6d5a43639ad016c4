package cache_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// readThenWait is a source that reads the value at once, then takes delay to answer: a
// load that is running may have read a value that has changed since.
type readThenWait struct {
	mu       sync.Mutex
	objs     map[string]string
	down     bool
	delay    time.Duration
	calls    map[string]int
	allCalls int
}

func newReadThenWait(objs map[string]string) *readThenWait {
	return &readThenWait{objs: objs, calls: map[string]int{}}
}

func (r *readThenWait) load(ctx context.Context, id string) (string, bool, error) {
	r.mu.Lock()
	v, ok := r.objs[id]
	down, d := r.down, r.delay
	r.calls[id]++
	r.mu.Unlock()
	if err := r.wait(ctx, d); err != nil {
		return "", false, err
	}
	if down {
		return "", false, cachetest.ErrDown
	}
	return v, ok, nil
}

func (r *readThenWait) loadAll(ctx context.Context) ([]cache.Entry[string], error) {
	r.mu.Lock()
	var out []cache.Entry[string]
	for _, id := range slices.Sorted(maps.Keys(r.objs)) {
		out = append(out, cache.Entry[string]{ID: id, Value: r.objs[id]})
	}
	d := r.delay
	r.allCalls++
	r.mu.Unlock()
	if err := r.wait(ctx, d); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *readThenWait) wait(ctx context.Context, d time.Duration) error {
	if d == 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *readThenWait) set(id, v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v == "" {
		delete(r.objs, id)
		return
	}
	r.objs[id] = v
}

func (r *readThenWait) setDelay(d time.Duration) {
	r.mu.Lock()
	r.delay = d
	r.mu.Unlock()
}

func (r *readThenWait) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *readThenWait) callsFor(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

func (r *readThenWait) wholeCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.allCalls
}

func newReadThenWaitCache(t *testing.T, src *readThenWait, opts *cache.Options) *cache.Cache[string] {
	t.Helper()
	c, err := cache.NewFull(src.load, src.loadAll, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func peek(c *cache.Cache[string], id string) string {
	v, _ := c.Peek(id)
	return v
}

func TestChangeMarkedStaleDuringARunningRefreshIsRefreshedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0"})
		rec := &cachetest.Recorder{}
		c := newReadThenWaitCache(t, src, &cache.Options{LifetimeStale: time.Hour, OnEvent: rec.Record})
		get(t, c, "alice")

		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true) // t=0: the refresh reads v0, answers at t=2
		cachetest.Advance(time.Second)
		src.set("alice", "v1")
		c.MarkStale("alice", true) // t=1: announced while the refresh that read v0 runs

		cachetest.Advance(time.Second) // t=2: the first refresh stored v0, the second one read v1
		assert.Equal(t, "v0", peek(c, "alice"), "the first refresh's answer is served until the second one ends")
		assert.Equal(t, 3, src.callsFor("alice"), "a MarkStale during a running refresh did not start another one after it")

		cachetest.Advance(2 * time.Second) // t=4: the second refresh stored v1
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v, "the change announced during the refresh was lost")
		cachetest.Advance(time.Minute)
		assert.Equal(t, 3, src.callsFor("alice"), "refreshes went on after the change was in")
		assert.Equal(t, []cache.EventKind{cache.EventMiss, cache.EventRefreshUpdated, cache.EventRefreshUpdated, cache.EventHit},
			rec.Kinds("alice"), "the second answer must be fresh, and the first one must not have been")
	})
}

func TestChangeMarkedStaleWithoutReloadDuringARefreshLeavesTheAnswerStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0"})
		c := newReadThenWaitCache(t, src, &cache.Options{LifetimeStale: time.Hour})
		get(t, c, "alice")

		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second)
		src.set("alice", "v1")
		c.MarkStale("alice", false)
		cachetest.Advance(time.Second)
		assert.Equal(t, 2, src.callsFor("alice"), "MarkStale without reload started a refresh")

		v, _ := get(t, c, "alice") // stale: served, and refreshed
		assert.Equal(t, "v0", v)
		cachetest.Advance(2 * time.Second)
		assert.Equal(t, 3, src.callsFor("alice"), "the answer of a refresh marked stale while it ran was taken for fresh")
		v, _ = get(t, c, "alice")
		assert.Equal(t, "v1", v)
	})
}

func TestMarkStaleOfAQueuedRefreshCostsNoSecondRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0", "bob": "v0"})
		c := newReadThenWaitCache(t, src, &cache.Options{LifetimeStale: time.Hour, RefreshWorkers: 1})
		get(t, c, "alice")
		get(t, c, "bob")

		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true) // runs on the one worker
		c.MarkStale("bob", true)   // queued behind it
		cachetest.Advance(time.Second)
		src.set("bob", "v1")
		c.MarkStale("bob", true) // bob's refresh has not begun: it will read v1

		cachetest.Advance(5 * time.Second)
		assert.Equal(t, 2, src.callsFor("bob"), "a refresh that had not begun to load was repeated")
		assert.Equal(t, "v1", peek(c, "bob"))
		v, _ := get(t, c, "bob")
		assert.Equal(t, "v1", v)
		cachetest.Advance(time.Minute)
		assert.Equal(t, 2, src.callsFor("bob"), "the refreshed entry was left stale")
	})
}

func TestObjectCreatedDuringARefreshThatFoundNothingIsNotRememberedAbsent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0"})
		c := newReadThenWaitCache(t, src, &cache.Options{LifetimeStale: time.Hour, NegativeLifetime: time.Hour})
		get(t, c, "alice")

		src.set("alice", "")
		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true) // reads "no such object"
		cachetest.Advance(time.Second)
		src.set("alice", "v1")
		c.MarkStale("alice", true) // recreated while that refresh runs
		cachetest.Advance(time.Second)

		src.setDelay(0)
		v, found := get(t, c, "alice")
		assert.True(t, found, "a refresh marked stale while it ran left a negative entry")
		assert.Equal(t, "v1", v)
	})
}

func TestChangeMarkedStaleDuringAFailingRefreshWaitsForErrorRecheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0"})
		c := newReadThenWaitCache(t, src, &cache.Options{LifetimeStale: time.Hour, ErrorRecheck: time.Minute})
		get(t, c, "alice")

		src.setDown(true)
		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second)
		src.set("alice", "v1")
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second) // the refresh failed: the entry is extended

		for range 10 {
			v, _ := get(t, c, "alice")
			require.Equal(t, "v0", v)
			cachetest.Advance(time.Second)
		}
		assert.Equal(t, 2, src.callsFor("alice"), "a failing source was asked again before ErrorRecheck")

		src.setDown(false)
		src.setDelay(0)
		cachetest.Advance(time.Minute)
		get(t, c, "alice") // past the recheck point: refreshed
		synctest.Wait()
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v, "the change was lost after the source came back")
	})
}

func TestChangeMarkedStaleWhileItsFirstLoadRunsIsLoadedAgain(t *testing.T) {
	for _, reload := range []bool{true, false} {
		t.Run(map[bool]string{true: "reload", false: "no reload"}[reload], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := newReadThenWait(map[string]string{"alice": "v0"})
				c := newReadThenWaitCache(t, src, &cache.Options{LifetimeStale: time.Hour})
				src.setDelay(2 * time.Second)
				var wg sync.WaitGroup
				wg.Go(func() {
					v, _ := get(t, c, "alice") // reads v0, answers at t=2
					assert.Equal(t, "v0", v, "the load's callers get what it read")
				})
				cachetest.Advance(time.Second)
				src.set("alice", "v1")
				c.MarkStale("alice", reload)
				wg.Wait()
				synctest.Wait()

				if reload {
					assert.Equal(t, 2, src.callsFor("alice"), "MarkStale with reload during the load did not refresh after it")
				} else {
					assert.Equal(t, 1, src.callsFor("alice"))
					get(t, c, "alice") // stale: served and refreshed
				}
				cachetest.Advance(2 * time.Second)
				v, _ := get(t, c, "alice")
				assert.Equal(t, "v1", v, "the answer of a load marked stale while it ran was cached fresh")
			})
		})
	}
}

func TestFullBackendSetMarkedStaleDuringItsRefreshIsLoadedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0", "bob": "v0"})
		c := newReadThenWaitCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Hour}))
		get(t, c, "alice")
		require.Equal(t, 1, src.wholeCalls())

		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true) // the set refresh reads v0, answers at t=2
		cachetest.Advance(time.Second)
		src.set("alice", "v1")
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second)
		assert.Equal(t, 3, src.wholeCalls(), "a MarkStale during a running set refresh did not start another one")
		assert.Equal(t, "v0", peek(c, "alice"))

		cachetest.Advance(2 * time.Second)
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v, "the change announced during the set refresh was lost")
		cachetest.Advance(time.Minute)
		assert.Equal(t, 3, src.wholeCalls(), "the set was left stale after the second refresh")
	})
}

func TestFullBackendChangeDuringTheFirstWholeLoadIsLoadedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0"})
		c := newReadThenWaitCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Hour}))
		src.setDelay(2 * time.Second)
		var wg sync.WaitGroup
		wg.Go(func() {
			v, _ := get(t, c, "alice") // the first whole load reads v0
			assert.Equal(t, "v0", v)
		})
		cachetest.Advance(time.Second)
		src.set("alice", "v1")
		src.set("bob", "v1")
		c.MarkStale("alice", true)
		wg.Wait()
		cachetest.Advance(3 * time.Second)
		assert.Equal(t, 2, src.wholeCalls())
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v)
		_, found := get(t, c, "bob")
		assert.True(t, found, "an object created during the first whole load is missing")
	})
}

func TestFullBackendObjectDeletedDuringAWholeLoadIsGoneAfterTheNextOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newReadThenWait(map[string]string{"alice": "v0", "bob": "v0"})
		c := newReadThenWaitCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Hour}))
		get(t, c, "alice")

		src.setDelay(2 * time.Second)
		c.MarkStale("alice", true) // the set refresh reads alice and bob
		cachetest.Advance(time.Second)
		src.set("bob", "")
		c.Delete("bob") // the owner deletes bob while the refresh runs
		cachetest.Advance(time.Second)
		assert.Equal(t, 2, src.wholeCalls(), "a Delete during a set refresh started another at once")
		// The deletion is replayed onto the set the refresh read: bob never comes back, and
		// no further whole load is needed for it.
		_, found := get(t, c, "bob")
		assert.False(t, found, "an object deleted during a set refresh came back")
		cachetest.Advance(2 * time.Second)
		assert.Equal(t, 2, src.wholeCalls())
		_, found = get(t, c, "bob")
		assert.False(t, found, "an object deleted during a set refresh came back")
	})
}
