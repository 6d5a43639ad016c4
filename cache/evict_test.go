package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

func TestEvictionFollowsReadOrder(t *testing.T) {
	for _, tc := range []struct {
		reads   []string
		evicted string
	}{
		{[]string{"bob", "alice"}, "bob"},
		{[]string{"alice", "bob"}, "alice"},
		{[]string{"alice"}, "bob"},
		{[]string{"bob"}, "alice"},
		{nil, "alice"}, // nothing read: the oldest insertion goes
	} {
		src := cachetest.NewSource(nil)
		c := newCache(t, src, &cache.Options{MaxObjects: 2})
		c.Set("alice", "a")
		c.Set("bob", "b")
		for _, id := range tc.reads {
			get(t, c, id)
		}
		c.Set("carol", "c")
		_, ok := c.Peek(tc.evicted)
		assert.False(t, ok, "reads %v: want %s evicted", tc.reads, tc.evicted)
		assert.Equal(t, 2, c.Len(), "reads %v", tc.reads)
	}
}

func TestEvictionKeepsHotEntriesUnderChurn(t *testing.T) {
	src := cachetest.NewSource(nil)
	rec := &cachetest.Recorder{}
	c := newCache(t, src, &cache.Options{MaxObjects: 100, OnEvent: rec.Record})
	for i := range 10 {
		c.Set(fmt.Sprintf("hot%d", i), "h")
	}
	for i := range 1000 {
		for j := range 10 {
			get(t, c, fmt.Sprintf("hot%d", j))
		}
		c.Set(fmt.Sprintf("cold%d", i), "c")
	}
	for i := range 10 {
		_, ok := c.Peek(fmt.Sprintf("hot%d", i))
		assert.True(t, ok, "hot%d was evicted although read before every insertion", i)
	}
	assert.Equal(t, 100, c.Len())
	st := c.Stats()
	assert.Equal(t, uint64(910), st.Evicted)
	assert.Equal(t, 910, rec.Count(cache.EventEvicted))
	for _, ev := range rec.Events() {
		if ev.Kind == cache.EventEvicted {
			require.Contains(t, ev.ID, "cold", "a hot entry was evicted")
		}
	}
}

func TestNegativeEntriesCountTowardMaxObjects(t *testing.T) {
	src := cachetest.NewSource(map[string]string{"alice": "a"})
	c := newCache(t, src, &cache.Options{MaxObjects: 10, NegativeLifetime: 3600e9})
	get(t, c, "alice")
	for i := range 100 {
		get(t, c, fmt.Sprintf("ghost%d", i))
	}
	st := c.Stats()
	assert.LessOrEqual(t, st.Objects+st.NegativeObjects, 10, "a flood of unknown ids grew the cache past MaxObjects")
	// 91 entries went; only alice, the one object among them, counts as evicted.
	assert.Equal(t, uint64(1), st.Evicted, "negative entries are evicted silently")
}

func TestBoundedCacheUnderConcurrentReadsAndWrites(t *testing.T) {
	src := cachetest.NewSource(nil)
	for i := range 500 {
		src.Set(fmt.Sprintf("ep%d", i), fmt.Sprint(i))
	}
	c := newCache(t, src, &cache.Options{MaxObjects: 64})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				id := fmt.Sprintf("ep%d", (i*7+g*13)%500)
				v, ok, err := c.Get(context.Background(), id)
				if err != nil || !ok || "ep"+v != id {
					t.Errorf("Get(%s) = %q, %v, %v", id, v, ok, err)
					return
				}
				if i%50 == 0 {
					c.Delete(id)
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 64)
}
