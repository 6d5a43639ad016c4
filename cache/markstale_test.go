package cache_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// readFirstSource returns a source whose loads take their answer at once and then their
// delay: a load that is running may have read a value that has changed since.
func readFirstSource(objs map[string]string) *cachetest.Source {
	src := cachetest.NewSource(objs)
	src.SetReadFirst(true)
	return src
}

func peek(c *cache.Cache[string], id string) string {
	v, _ := c.Peek(id)
	return v
}

func TestChangeMarkedStaleDuringARunningRefreshIsRefreshedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0"})
		rec := &cachetest.Recorder{}
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour, OnEvent: rec.Record})
		get(t, c, "alice")

		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true) // t=0: the refresh reads v0, answers at t=2
		cachetest.Advance(time.Second)
		src.Set("alice", "v1")
		c.MarkStale("alice", true) // t=1: announced while the refresh that read v0 runs

		cachetest.Advance(time.Second) // t=2: the first refresh stored v0, the second one read v1
		assert.Equal(t, "v0", peek(c, "alice"), "the first refresh's answer is served until the second one ends")
		assert.Equal(t, 3, src.Calls("alice"), "a MarkStale during a running refresh did not start another one after it")

		cachetest.Advance(2 * time.Second) // t=4: the second refresh stored v1
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v, "the change announced during the refresh was lost")
		cachetest.Advance(time.Minute)
		assert.Equal(t, 3, src.Calls("alice"), "refreshes went on after the change was in")
		assert.Equal(t, []cache.EventKind{cache.EventMiss, cache.EventRefreshUpdated, cache.EventRefreshUpdated, cache.EventHit},
			rec.Kinds("alice"), "the second answer must be fresh, and the first one must not have been")
	})
}

func TestChangeMarkedStaleWithoutReloadDuringARefreshLeavesTheAnswerStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour})
		get(t, c, "alice")

		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second)
		src.Set("alice", "v1")
		c.MarkStale("alice", false)
		cachetest.Advance(time.Second)
		assert.Equal(t, 2, src.Calls("alice"), "MarkStale without reload started a refresh")

		v, _ := get(t, c, "alice") // stale: served, and refreshed
		assert.Equal(t, "v0", v)
		cachetest.Advance(2 * time.Second)
		assert.Equal(t, 3, src.Calls("alice"), "the answer of a refresh marked stale while it ran was taken for fresh")
		v, _ = get(t, c, "alice")
		assert.Equal(t, "v1", v)
	})
}

func TestMarkStaleOfAQueuedRefreshCostsNoSecondRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0", "bob": "v0"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour, RefreshWorkers: 1})
		get(t, c, "alice")
		get(t, c, "bob")

		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true) // runs on the one worker
		c.MarkStale("bob", true)   // queued behind it
		cachetest.Advance(time.Second)
		src.Set("bob", "v1")
		c.MarkStale("bob", true) // bob's refresh has not begun: it will read v1

		cachetest.Advance(5 * time.Second)
		assert.Equal(t, 2, src.Calls("bob"), "a refresh that had not begun to load was repeated")
		assert.Equal(t, "v1", peek(c, "bob"))
		v, _ := get(t, c, "bob")
		assert.Equal(t, "v1", v)
		cachetest.Advance(time.Minute)
		assert.Equal(t, 2, src.Calls("bob"), "the refreshed entry was left stale")
	})
}

func TestObjectCreatedDuringARefreshThatFoundNothingIsNotRememberedAbsent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour, NegativeLifetime: time.Hour})
		get(t, c, "alice")

		src.Delete("alice")
		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true) // reads "no such object"
		cachetest.Advance(time.Second)
		src.Set("alice", "v1")
		c.MarkStale("alice", true) // recreated while that refresh runs
		cachetest.Advance(time.Second)

		src.SetDelay(0)
		v, found := get(t, c, "alice")
		assert.True(t, found, "a refresh marked stale while it ran left a negative entry")
		assert.Equal(t, "v1", v)
	})
}

func TestChangeMarkedStaleDuringAFailingRefreshWaitsForErrorRecheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour, ErrorRecheck: time.Minute})
		get(t, c, "alice")

		src.SetDown(true)
		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second)
		src.Set("alice", "v1")
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second) // the refresh failed: the entry is extended

		for range 10 {
			v, _ := get(t, c, "alice")
			require.Equal(t, "v0", v)
			cachetest.Advance(time.Second)
		}
		assert.Equal(t, 2, src.Calls("alice"), "a failing source was asked again before ErrorRecheck")

		src.SetDown(false)
		src.SetDelay(0)
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
				src := readFirstSource(map[string]string{"alice": "v0"})
				c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour})
				src.SetDelay(2 * time.Second)
				var wg sync.WaitGroup
				wg.Go(func() {
					v, _ := get(t, c, "alice") // reads v0, answers at t=2
					assert.Equal(t, "v0", v, "the load's callers get what it read")
				})
				cachetest.Advance(time.Second)
				src.Set("alice", "v1")
				c.MarkStale("alice", reload)
				wg.Wait()
				synctest.Wait()

				if reload {
					assert.Equal(t, 2, src.Calls("alice"), "MarkStale with reload during the load did not refresh after it")
				} else {
					assert.Equal(t, 1, src.Calls("alice"))
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
		src := readFirstSource(map[string]string{"alice": "v0", "bob": "v0"})
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Hour}))
		get(t, c, "alice")
		require.Equal(t, 1, src.WholeCalls())

		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true) // the set refresh reads v0, answers at t=2
		cachetest.Advance(time.Second)
		src.Set("alice", "v1")
		c.MarkStale("alice", true)
		cachetest.Advance(time.Second)
		assert.Equal(t, 3, src.WholeCalls(), "a MarkStale during a running set refresh did not start another one")
		assert.Equal(t, "v0", peek(c, "alice"))

		cachetest.Advance(2 * time.Second)
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v, "the change announced during the set refresh was lost")
		cachetest.Advance(time.Minute)
		assert.Equal(t, 3, src.WholeCalls(), "the set was left stale after the second refresh")
	})
}

func TestFullBackendChangeDuringTheFirstWholeLoadIsLoadedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0"})
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Hour}))
		src.SetDelay(2 * time.Second)
		var wg sync.WaitGroup
		wg.Go(func() {
			v, _ := get(t, c, "alice") // the first whole load reads v0
			assert.Equal(t, "v0", v)
		})
		cachetest.Advance(time.Second)
		src.Set("alice", "v1")
		src.Set("bob", "v1")
		c.MarkStale("alice", true)
		wg.Wait()
		cachetest.Advance(3 * time.Second)
		assert.Equal(t, 2, src.WholeCalls())
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v1", v)
		_, found := get(t, c, "bob")
		assert.True(t, found, "an object created during the first whole load is missing")
	})
}

func TestFullBackendObjectDeletedDuringAWholeLoadIsGoneAfterTheNextOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := readFirstSource(map[string]string{"alice": "v0", "bob": "v0"})
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Hour}))
		get(t, c, "alice")

		src.SetDelay(2 * time.Second)
		c.MarkStale("alice", true) // the set refresh reads alice and bob
		cachetest.Advance(time.Second)
		src.Delete("bob")
		c.Delete("bob") // the owner deletes bob while the refresh runs
		cachetest.Advance(time.Second)
		assert.Equal(t, 2, src.WholeCalls(), "a Delete during a set refresh started another at once")
		// The deletion is replayed onto the set the refresh read: bob never comes back, and
		// no further whole load is needed for it.
		_, found := get(t, c, "bob")
		assert.False(t, found, "an object deleted during a set refresh came back")
		cachetest.Advance(2 * time.Second)
		assert.Equal(t, 2, src.WholeCalls())
		_, found = get(t, c, "bob")
		assert.False(t, found, "an object deleted during a set refresh came back")
	})
}
