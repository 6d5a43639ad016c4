package sorcery_test

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cached builds an endpoint type whose chain is a cache with opts in front of one memory
// wizard.
func cached(t *testing.T, opts *cache.Options, hooks sorcery.Hooks) (*sorcery.Sorcery, *sorcery.Type[Endpoint], *memory.Wizard) {
	t.Helper()
	s := sorcery.New(&sorcery.Options{Logger: quiet(), Hooks: hooks})
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddCache(opts))
	src := memory.New()
	require.NoError(t, typ.AddWizard("source", src, nil))
	return s, typ, src
}

func TestOutageOfTwoDaysIsServedFromCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		_, typ, src := cached(t, &cache.Options{LifetimeMaximum: 86400 * time.Second, LifetimeStale: 60 * time.Second}, sorcery.Hooks{})
		ctx := t.Context()
		for i := range n {
			src.Put(rec(fmt.Sprintf("ep%02d", i), "context", "v1"))
		}
		for i := range n {
			_, found, err := typ.Retrieve(ctx, fmt.Sprintf("ep%02d", i))
			require.NoError(t, err)
			require.True(t, found)
		}

		src.SetError(fmt.Errorf("provisioning down: %w", errors.ErrUnavailable))
		src.ResetCalls()
		start := time.Now()
		failed := 0
		// Read every object every 20 s for two days.
		for time.Since(start) < 48*time.Hour {
			time.Sleep(20 * time.Second)
			for i := range n {
				ep, found, err := typ.Retrieve(ctx, fmt.Sprintf("ep%02d", i))
				if !found || err != nil || ep.Context != "v1" {
					failed++
				}
			}
			synctest.Wait()
		}
		assert.Zero(t, failed, "every retrieval of a cached object during the outage succeeds")
		// ErrorRecheck defaults to the stale period: one refresh per object per 60 s at most.
		maxCalls := int64(n * (48 * 3600 / 60))
		calls := src.Calls().Retrieve
		assert.LessOrEqual(t, calls, maxCalls, "source calls during the outage")
		assert.Greater(t, calls, int64(n), "the source is still re-checked")
		st := typ.Cache().Stats()
		assert.Equal(t, n, st.Extended, "every object lives on an extension")
		assert.Greater(t, st.RefreshErrors, uint64(0))

		// The source comes back with one object changed and one deleted.
		src.SetError(nil)
		src.Put(rec("ep00", "context", "v2"))
		src.Remove("ep01")
		// The last failed refresh may have been just now: the next one is due one stale
		// period (the error recheck) later, and the read after it sees the answer.
		deadline := time.Now().Add(60*time.Second + 2*time.Second)
		var ep00 Endpoint
		ep01found := true
		for time.Now().Before(deadline) {
			time.Sleep(time.Second)
			ep00, _, _ = typ.Retrieve(ctx, "ep00")
			_, ep01found, _ = typ.Retrieve(ctx, "ep01")
			synctest.Wait()
			if ep00.Context == "v2" && !ep01found {
				break
			}
		}
		assert.Equal(t, "v2", ep00.Context, "a changed object appears within one stale period")
		assert.False(t, ep01found, "a deleted object disappears within one stale period")
	})
}

func TestCacheIsFilledByWizardFindsAndWrites(t *testing.T) {
	_, typ, src := cached(t, nil, sorcery.Hooks{})
	ctx := t.Context()
	src.Put(rec("alice", "context", "c1"))
	_, found, err := typ.Retrieve(ctx, "alice")
	require.NoError(t, err)
	require.True(t, found)
	src.SetError(errors.ErrUnavailable)
	ep, found, err := typ.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "c1", ep.Context)
	assert.EqualValues(t, 1, src.Calls().Retrieve, "the second retrieval is a hit")
	src.SetError(nil)

	require.NoError(t, typ.Create(ctx, Endpoint{ID: "bob", Context: "c2"}))
	v, ok := typ.Cache().Peek("bob")
	assert.True(t, ok, "a created object is cached")
	assert.Equal(t, "c2", v.Context)
	require.NoError(t, typ.Update(ctx, Endpoint{ID: "bob", Context: "c3"}))
	v, _ = typ.Cache().Peek("bob")
	assert.Equal(t, "c3", v.Context, "an updated object is cached")
	deleted := make(chan Endpoint, 1)
	typ.Observe(sorcery.Observer[Endpoint]{Deleted: func(e Endpoint) { deleted <- e }})
	require.NoError(t, typ.Delete(ctx, "bob"))
	_, ok = typ.Cache().Peek("bob")
	assert.False(t, ok, "a deleted object leaves the cache")
	assert.Equal(t, "c3", (<-deleted).Context, "observers get the object as last cached")
}

func TestWizardBeforeCachePushesIntoIt(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	local, remote := memory.New(), memory.New()
	require.NoError(t, typ.AddWizard("local", local, nil))
	require.NoError(t, typ.AddCache(&cache.Options{Name: "mem"}))
	require.NoError(t, typ.AddWizard("remote", remote, nil))
	local.Put(rec("alice"))
	remote.Put(rec("bob"))
	ctx := t.Context()

	_, found, err := typ.Retrieve(ctx, "alice")
	require.NoError(t, err)
	require.True(t, found)
	_, cachedAlice := typ.Cache().Peek("alice")
	assert.True(t, cachedAlice, "an object found before the cache is pushed into it")

	_, found, err = typ.Retrieve(ctx, "bob")
	require.NoError(t, err)
	require.True(t, found, "a miss in the cache loads through the wizards")
	remote.SetError(errors.ErrUnavailable)
	_, found, err = typ.Retrieve(ctx, "bob")
	require.NoError(t, err)
	assert.True(t, found, "then the cache answers")

	_, found, err = typ.Retrieve(ctx, "carol")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable, "not found while a wizard failed is an error")
	assert.ErrorContains(t, err, "wizard remote")
	assert.Equal(t, []string{"mem"}, []string{s.Stats().Types[0].Caches[0].Name})
}

func TestDegradedFindIsCachedStaleAndRechecked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := sorcery.New(&sorcery.Options{Logger: quiet()})
		defer s.Close()
		typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
		require.NoError(t, err)
		require.NoError(t, typ.AddCache(&cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: time.Hour}))
		primary, backup := memory.New(), memory.New()
		require.NoError(t, typ.AddWizard("primary", primary, nil))
		require.NoError(t, typ.AddWizard("backup", backup, nil))
		primary.SetError(errors.ErrUnavailable)
		primary.Put(rec("alice", "context", "primary"))
		backup.Put(rec("alice", "context", "backup"))
		ctx := t.Context()

		ep, found, err := typ.Retrieve(ctx, "alice")
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, "backup", ep.Context, "served by the fallback")
		assert.True(t, s.Stats().Types[0].Degraded)

		primary.SetError(nil)
		time.Sleep(time.Minute + time.Second) // past the error recheck
		typ.Retrieve(ctx, "alice")
		synctest.Wait()
		ep, _, _ = typ.Retrieve(ctx, "alice")
		assert.Equal(t, "primary", ep.Context, "a degraded find is re-checked and replaced")
		assert.False(t, s.Stats().Types[0].Degraded)
	})
}

func TestApplyMemoryCacheAndExpireOnReload(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet(), Wizards: map[string]sorcery.WizardFactory{"memory": memory.Factory()}})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, s.Apply("endpoint/cache", "memory_cache", "name=ep,object_lifetime_stale=60,object_lifetime_maximum=600,expire_on_reload=yes"))
	require.NoError(t, s.Apply("endpoint", "memory", ""))
	err = s.Apply("endpoint/cache", "memory_cache", "maximum_objects=10")
	assert.ErrorIs(t, err, errors.ErrExists, "a second memory_cache is a duplicate mapping, ignored")
	_, err = sorcery.Register[Aor](s, "aor", nil)
	require.NoError(t, err)
	err = s.Apply("aor/cache", "memory_cache", "maximum_objects=-1")
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, "maximum_objects")
	require.NoError(t, s.Apply("aor/cache", "memory_cache", "maximum_objects=10"), "a mapping that failed does not count")

	c := typ.Cache()
	require.NotNil(t, c)
	assert.Equal(t, 60*time.Second, c.Options().LifetimeStale)
	require.NoError(t, typ.Create(t.Context(), Endpoint{ID: "alice"}))
	assert.Equal(t, 1, c.Len())
	require.NoError(t, s.Reload(t.Context()))
	assert.Equal(t, 0, c.Len(), "expire_on_reload empties the cache on reload")
}

func TestFullBackendCacheAnswersSearch(t *testing.T) {
	_, typ, src := cached(t, &cache.Options{FullBackend: true, LifetimeStale: time.Minute}, sorcery.Hooks{})
	ctx := t.Context()
	src.Put(rec("alice", "context", "a"), rec("bob", "context", "b"), rec("carol", "context", "a"))
	got, err := typ.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpEqual, Value: "a"}}})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "alice", got[0].ID)
	assert.Equal(t, "carol", got[1].ID)
	src.SetError(errors.ErrUnavailable)
	src.ResetCalls()
	got, err = typ.Search(ctx, sorcery.Query{IDPrefix: "b"})
	require.NoError(t, err, "the whole set answers while the source is down")
	require.Len(t, got, 1)
	assert.Zero(t, src.Calls().Total())
	_, found, err := typ.Retrieve(ctx, "dave")
	assert.NoError(t, err, "absence is known from the whole set")
	assert.False(t, found)
}

func TestCacheEventsReachHooksAndInvalidationsApply(t *testing.T) {
	var mu sync.Mutex
	kinds := map[string]int{}
	s, typ, src := cached(t, &cache.Options{NegativeLifetime: time.Hour}, sorcery.Hooks{Cache: func(e sorcery.CacheEvent) {
		mu.Lock()
		kinds[e.Type+"/"+e.Kind.String()]++
		mu.Unlock()
	}})
	ctx := t.Context()
	src.Put(rec("alice", "context", "v1"))
	typ.Retrieve(ctx, "alice")
	typ.Retrieve(ctx, "alice")
	typ.Retrieve(ctx, "ghost")
	typ.Retrieve(ctx, "ghost")
	mu.Lock()
	assert.Equal(t, map[string]int{"endpoint/miss": 2, "endpoint/hit": 1, "endpoint/negative_hit": 1}, kinds)
	mu.Unlock()

	// A change announced for alice is fetched without waiting for a stale period.
	src.Put(rec("alice", "context", "v2"))
	require.NoError(t, s.Invalidate(sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Changed}))
	require.Eventually(t, func() bool {
		v, _ := typ.Cache().Peek("alice")
		return v.Context == "v2"
	}, 5*time.Second, time.Millisecond)
	// A creation announced for a remembered absence is seen at once.
	src.Put(rec("ghost"))
	require.NoError(t, s.Invalidate(sorcery.Invalidation{Type: "endpoint", ID: "ghost", Change: sorcery.Changed}))
	_, found, err := typ.Retrieve(ctx, "ghost")
	require.NoError(t, err)
	assert.True(t, found)
	// A deletion is applied at once, and again without harm.
	for range 2 {
		require.NoError(t, s.Invalidate(sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Deleted}))
	}
	_, cachedAlice := typ.Cache().Peek("alice")
	assert.False(t, cachedAlice)
	assert.ErrorIs(t, s.Invalidate(sorcery.Invalidation{Type: "nosuch", ID: "x"}), errors.ErrInvalid)
	require.NoError(t, s.MarkStale(""))
	require.NoError(t, s.MarkStale("endpoint"))
	assert.Equal(t, []string{"endpoint"}, s.Types())
}

// BenchmarkTypeRetrieveCacheHit measures Type.Retrieve answered by a cache in front of the
// chain: the path every SIP request takes.
func BenchmarkTypeRetrieveCacheHit(b *testing.B) {
	benchRetrieveCacheHit(b, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour})
}

// BenchmarkTypeRetrieveCacheHitSnapshot is BenchmarkTypeRetrieveCacheHit with a snapshot
// file: the layer then installs the cache's one event sink (which logs the snapshot's
// events), so every hit builds an event.
func BenchmarkTypeRetrieveCacheHitSnapshot(b *testing.B) {
	benchRetrieveCacheHit(b, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour,
		Snapshot: &cache.SnapshotOptions{Path: filepath.Join(b.TempDir(), "endpoint.snap")}})
}

func benchRetrieveCacheHit(b *testing.B, opts *cache.Options) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(b, err)
	require.NoError(b, typ.AddCache(opts))
	src := memory.New()
	require.NoError(b, typ.AddWizard("source", src, nil))
	src.Put(rec("alice", "context", "internal"))
	ctx := b.Context()
	if _, found, err := typ.Retrieve(ctx, "alice"); !found || err != nil {
		b.Fatal(found, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, found, _ := typ.Retrieve(ctx, "alice"); !found {
				b.Fatal("miss")
			}
		}
	})
}

func TestCacheLayerGivesTheUserOnlyTheEventKindsAskedForAndTheHookAll(t *testing.T) {
	var mu sync.Mutex
	var user, hook []cache.EventKind
	s := sorcery.New(&sorcery.Options{Logger: quiet(), Hooks: sorcery.Hooks{Cache: func(ev sorcery.CacheEvent) {
		mu.Lock()
		hook = append(hook, ev.Kind)
		mu.Unlock()
	}}})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddCache(&cache.Options{
		OnEvent: func(ev cache.Event) {
			mu.Lock()
			user = append(user, ev.Kind)
			mu.Unlock()
		},
		EventKinds: []cache.EventKind{cache.EventMiss},
	}))
	src := memory.New()
	src.Put(rec("alice"))
	require.NoError(t, typ.AddWizard("source", src, nil))
	for range 2 {
		_, found, err := typ.Retrieve(t.Context(), "alice")
		require.True(t, found)
		require.NoError(t, err)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []cache.EventKind{cache.EventMiss}, user)
	assert.Equal(t, []cache.EventKind{cache.EventMiss, cache.EventHit}, hook)
}
