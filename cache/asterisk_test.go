package cache_test

// The behaviours of Asterisk's own memory cache unit tests (res_sorcery_memory_cache.c),
// against cache.New and cache.NewFull directly.

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

// object is what the Asterisk tests push: something with an identity.
type object struct{ id, version string }

// nothing is a source that has no objects, so the cache answers only what was pushed,
// like Asterisk's cache-only retrieval in its tests.
func nothing(ctx context.Context, id string) (*object, bool, error) { return nil, false, nil }

func newPushCache(t *testing.T, options string) *cache.Cache[*object] {
	t.Helper()
	o, err := cache.ParseOptions(options)
	require.NoError(t, err)
	c, err := cache.New(nothing, o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPushedObjectIsRetrieved(t *testing.T) {
	c := newPushCache(t, "")
	require.Equal(t, 0, c.Len(), "a new cache is empty")
	obj := &object{id: "test"}
	c.Set("test", obj)
	assert.Equal(t, 1, c.Len())
	got, ok, err := c.Get(context.Background(), "test")
	require.NoError(t, err)
	require.True(t, ok, "pushed object not retrieved")
	assert.Same(t, obj, got, "retrieved a different object than the one pushed")
}

func TestSecondPushReplacesFirst(t *testing.T) {
	c := newPushCache(t, "")
	original, updated := &object{id: "test", version: "1"}, &object{id: "test", version: "2"}
	c.Set("test", original)
	c.Set("test", updated)
	assert.Equal(t, 1, c.Len(), "the update added an object instead of replacing one")
	got, ok, err := c.Get(context.Background(), "test")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Same(t, updated, got)
}

func TestDeletedObjectIsGone(t *testing.T) {
	c := newPushCache(t, "")
	c.Set("test", &object{id: "test"})
	_, ok, err := c.Get(context.Background(), "test")
	require.NoError(t, err)
	require.True(t, ok)
	c.Delete("test")
	_, ok, err = c.Get(context.Background(), "test")
	require.NoError(t, err)
	assert.False(t, ok, "deleted object still retrieved")
	assert.Equal(t, 0, c.Len())
}

func TestMaximumObjectsEvictsLeastRecentlyUsed(t *testing.T) {
	c := newPushCache(t, "maximum_objects=2")
	// check reads every id expected in the cache (as Asterisk's check_cache_content does,
	// which makes them recently used) and confirms the others are absent.
	check := func(step string, in, out []string) {
		t.Helper()
		for _, id := range in {
			_, ok, err := c.Get(context.Background(), id)
			require.NoError(t, err)
			assert.True(t, ok, "%s: %s not in the cache", step, id)
		}
		for _, id := range out {
			_, ok := c.Peek(id)
			assert.False(t, ok, "%s: %s unexpectedly in the cache", step, id)
		}
	}
	c.Set("alice", &object{id: "alice"})
	check("alice pushed", []string{"alice"}, []string{"bob", "charlie"})
	c.Set("bob", &object{id: "bob"})
	check("bob pushed", []string{"alice", "bob"}, []string{"charlie"})
	c.Set("charlie", &object{id: "charlie"})
	check("charlie pushed", []string{"bob", "charlie"}, []string{"alice"})
	c.Delete("charlie")
	check("charlie deleted", []string{"bob"}, []string{"alice", "charlie"})
	c.Set("alice", &object{id: "alice"})
	check("alice pushed again", []string{"bob", "alice"}, []string{"charlie"})
	assert.Equal(t, uint64(1), c.Stats().Evicted)
}

func TestLifetimeMaximumRemovesUnreadObjects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newPushCache(t, "object_lifetime_maximum=5")
		for _, id := range []string{"alice", "bob", "charlie"} {
			c.Set(id, &object{id: id})
		}
		cachetest.Advance(4900 * time.Millisecond)
		assert.Equal(t, 3, c.Len(), "objects expired before their lifetime")
		cachetest.Advance(100 * time.Millisecond) // the janitor runs at the deadline
		assert.Equal(t, 0, c.Len(), "objects never read were not expired after 5 s")
		for _, id := range []string{"alice", "bob", "charlie"} {
			_, ok := c.Peek(id)
			assert.False(t, ok, id)
		}
		assert.Equal(t, uint64(3), c.Stats().Expired)
	})
}

func TestStaleObjectIsServedThenRefreshed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		o, err := cache.ParseOptions("object_lifetime_stale=3")
		require.NoError(t, err)
		c := newCache(t, src, o)

		v, ok := get(t, c, "alice")
		require.True(t, ok)
		require.Equal(t, "v1", v)

		src.Set("alice", "v2")
		cachetest.Advance(5 * time.Second)
		v, ok = get(t, c, "alice")
		require.True(t, ok)
		assert.Equal(t, "v1", v, "a stale object is served at once, as it was")
		synctest.Wait() // the background refresh completes
		v, ok = get(t, c, "alice")
		require.True(t, ok)
		assert.Equal(t, "v2", v, "the refresh did not bring the source's new values")

		src.Delete("alice")
		cachetest.Advance(5 * time.Second)
		v, ok = get(t, c, "alice")
		require.True(t, ok)
		assert.Equal(t, "v2", v)
		synctest.Wait()
		_, ok = c.Peek("alice")
		assert.False(t, ok, "a source that says absent did not remove the object")
		_, ok = get(t, c, "alice")
		assert.False(t, ok)
		assert.Equal(t, uint64(1), c.Stats().RefreshUpdated)
		assert.Equal(t, uint64(1), c.Stats().RefreshRemoved)
	})
}

// growingSource has 4 objects and then 8.
func growingSource() *cachetest.Source {
	src := cachetest.NewSource(nil)
	for i := 1; i <= 4; i++ {
		src.Set(fmt.Sprintf("obj%d", i), "v")
	}
	return src
}

func grow(src *cachetest.Source) {
	for i := 5; i <= 8; i++ {
		src.Set(fmt.Sprintf("obj%d", i), "v")
	}
}

func TestFullBackendSeesGrowthAfterExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		o, err := cache.ParseOptions("full_backend_cache=yes,object_lifetime_maximum=3")
		require.NoError(t, err)
		c := newCache(t, src, o)

		all, err := c.All(context.Background())
		require.NoError(t, err)
		assert.Len(t, all, 4)
		grow(src)
		cachetest.Advance(2 * time.Second)
		all, err = c.All(context.Background())
		require.NoError(t, err)
		assert.Len(t, all, 4, "the set changed before it expired")
		_, ok := get(t, c, "obj8")
		assert.False(t, ok, "an id outside the loaded set is absent")
		assert.Equal(t, 0, src.Calls("obj8"), "a full-backend cache loaded one id")

		cachetest.Advance(time.Second)
		assert.Equal(t, 0, c.Len(), "the set did not expire at 3 s")
		all, err = c.All(context.Background())
		require.NoError(t, err)
		assert.Len(t, all, 8)
		_, ok = get(t, c, "obj8")
		assert.True(t, ok)
		assert.Equal(t, 2, src.WholeCalls())
	})
}

func TestFullBackendSeesGrowthAfterRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := growingSource()
		o, err := cache.ParseOptions("full_backend_cache=yes,object_lifetime_stale=1")
		require.NoError(t, err)
		c := newCache(t, src, o)

		_, ok := get(t, c, "obj1")
		require.True(t, ok)
		assert.Equal(t, 4, c.Len())
		grow(src)
		cachetest.Advance(500 * time.Millisecond)
		_, ok = get(t, c, "obj5")
		assert.False(t, ok, "the set changed before it went stale")

		cachetest.Advance(600 * time.Millisecond)
		_, ok = get(t, c, "obj5")
		assert.False(t, ok, "a stale set is served as it was")
		_, ok = get(t, c, "obj1") // a hit on a stale entry starts the refresh
		assert.True(t, ok)
		synctest.Wait()
		_, ok = get(t, c, "obj5")
		assert.True(t, ok, "the refresh did not bring the new objects")
		assert.Equal(t, 8, c.Len())
		assert.Equal(t, 2, src.WholeCalls())
	})
}
