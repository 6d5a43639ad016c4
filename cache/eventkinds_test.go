package cache_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

func TestOnEventTakesOnlyTheKindsAskedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		rec := &cachetest.Recorder{}
		c := newCache(t, src, &cache.Options{
			LifetimeStale: 10 * time.Second, LifetimeMaximum: time.Minute, NegativeLifetime: time.Minute,
			OnEvent:    rec.Record,
			EventKinds: []cache.EventKind{cache.EventRefreshError, cache.EventServedExtended},
		})
		get(t, c, "alice") // miss
		get(t, c, "alice") // hit
		get(t, c, "ghost") // miss, negative hit next
		get(t, c, "ghost")
		src.SetDown(true)
		cachetest.Advance(10 * time.Second)
		get(t, c, "alice") // stale hit; the refresh fails
		synctest.Wait()
		get(t, c, "alice") // served extended
		assert.Equal(t, []cache.EventKind{cache.EventRefreshError, cache.EventServedExtended}, rec.Kinds("alice"))
		assert.Empty(t, rec.Kinds("ghost"))
		st := c.Stats()
		assert.EqualValues(t, 1, st.Hits, "counters count every kind")
		assert.EqualValues(t, 2, st.Misses)
	})
}

func TestOnEventWithoutReadKindsKeepsHitsFreeOfEvents(t *testing.T) {
	src := cachetest.NewSource(map[string]string{"alice": "v1"})
	calls := 0
	c := newCache(t, src, &cache.Options{
		OnEvent:    func(cache.Event) { calls++ },
		EventKinds: []cache.EventKind{cache.EventRefreshError},
	})
	get(t, c, "alice")
	ctx := t.Context()
	allocs := testing.AllocsPerRun(1000, func() { _, _, _ = c.Get(ctx, "alice") })
	assert.Zero(t, allocs)
	assert.Zero(t, calls, "no event of a kind OnEvent does not take")
}

func TestUnknownEventKindIsInvalid(t *testing.T) {
	_, err := cache.New(cachetest.NewSource(nil).Load, &cache.Options{OnEvent: func(cache.Event) {}, EventKinds: []cache.EventKind{99}})
	require.ErrorIs(t, err, errors.ErrInvalid)
	assert.Contains(t, err.Error(), "EventKinds")
}

func TestOptionsTakesTheKindsOnEventIsCalledFor(t *testing.T) {
	sink := func(cache.Event) {}
	for _, tc := range []struct {
		o    cache.Options
		kind cache.EventKind
		want bool
	}{
		{cache.Options{}, cache.EventHit, false},
		{cache.Options{EventKinds: []cache.EventKind{cache.EventHit}}, cache.EventHit, false},
		{cache.Options{OnEvent: sink}, cache.EventSnapshotError, true},
		{cache.Options{OnEvent: sink, EventKinds: []cache.EventKind{cache.EventMiss}}, cache.EventMiss, true},
		{cache.Options{OnEvent: sink, EventKinds: []cache.EventKind{cache.EventMiss}}, cache.EventHit, false},
	} {
		assert.Equal(t, tc.want, tc.o.Takes(tc.kind), "OnEvent set: %v, kinds %v, kind %v", tc.o.OnEvent != nil, tc.o.EventKinds, tc.kind)
	}
}
