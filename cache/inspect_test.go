package cache_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// inspectSource answers every id but "gone"; it can be taken down, and holds the loads of
// "slow" until released.
type inspectSource struct {
	mu      sync.Mutex // guards down
	down    bool
	release chan struct{}
}

func (s *inspectSource) load(ctx context.Context, id string) (string, bool, error) {
	if id == "slow" {
		select {
		case <-s.release:
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.down:
		return "", false, errors.ErrUnavailable
	case id == "gone":
		return "", false, nil
	}
	return "value of " + id, true, nil
}

// setDown takes the source down (every load fails with errors.ErrUnavailable) or brings it
// back.
func (s *inspectSource) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func TestInspectReportsEachStateAndClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &inspectSource{release: make(chan struct{})}
		c, err := cache.New(src.load, &cache.Options{
			LifetimeStale: time.Minute, LifetimeMaximum: time.Hour,
			ErrorRecheck: 10 * time.Second, NegativeLifetime: 30 * time.Second,
		})
		require.NoError(t, err)
		defer c.Close()
		ctx := context.Background()
		start := time.Now()
		for _, id := range []string{"a", "b", "c", "gone"} {
			_, _, err := c.Get(ctx, id)
			require.NoError(t, err)
		}

		info, ok := c.Inspect("a")
		require.True(t, ok)
		assert.Equal(t, cache.StateFresh, info.State)
		assert.Equal(t, start, info.LoadedAt)
		assert.Equal(t, start.Add(time.Minute), info.StaleAt)
		assert.Equal(t, start.Add(time.Hour), info.ExpiresAt)
		assert.True(t, info.ExtendedSince.IsZero())

		info, ok = c.Inspect("gone")
		require.True(t, ok)
		assert.Equal(t, cache.StateNegative, info.State)
		assert.Equal(t, start.Add(30*time.Second), info.ExpiresAt)

		_, ok = c.Inspect("never-asked")
		assert.False(t, ok)

		time.Sleep(2 * time.Minute)
		synctest.Wait()
		info, _ = c.Inspect("a")
		assert.Equal(t, cache.StateStale, info.State)
		assert.Equal(t, 2*time.Minute, info.Age)

		// The source goes down: a read of b serves it and its refresh fails.
		src.setDown(true)
		failedAt := time.Now()
		_, found, err := c.Get(ctx, "b")
		require.True(t, found)
		require.NoError(t, err)
		synctest.Wait()
		info, _ = c.Inspect("b")
		assert.Equal(t, cache.StateExtended, info.State)
		assert.Equal(t, failedAt, info.ExtendedSince)
		assert.Equal(t, failedAt.Add(10*time.Second), info.StaleAt, "next attempt after ErrorRecheck")
		assert.Equal(t, start, info.LoadedAt, "the last success does not move")

		// A second failure keeps ExtendedSince at the first one.
		time.Sleep(time.Minute)
		c.Get(ctx, "b")
		synctest.Wait()
		info, _ = c.Inspect("b")
		assert.Equal(t, cache.StateExtended, info.State)
		assert.Equal(t, failedAt, info.ExtendedSince)

		// A refresh held by the source is reported refreshing.
		src.setDown(false)
		go c.Get(ctx, "slow")
		synctest.Wait()
		close(src.release)
		synctest.Wait()
		c.MarkStale("slow", false)
		src.release = make(chan struct{})
		c.Get(ctx, "slow")
		synctest.Wait()
		info, _ = c.Inspect("slow")
		assert.Equal(t, cache.StateRefreshing, info.State)
		assert.True(t, info.Refreshing)
		close(src.release)
		synctest.Wait()
		info, _ = c.Inspect("slow")
		assert.Equal(t, cache.StateFresh, info.State)

		page, err := c.List(&cache.ListOptions{State: cache.StateExtended})
		require.NoError(t, err)
		require.Len(t, page.Entries, 1)
		assert.Equal(t, "b", page.Entries[0].ID)
		assert.Empty(t, page.Next)
	})
}

func TestInspectFullBackendReportsTheSetClocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		down := false
		loadAll := func(ctx context.Context) ([]cache.Entry[string], error) {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return nil, errors.ErrUnavailable
			}
			return []cache.Entry[string]{{ID: "x", Value: "1"}, {ID: "y", Value: "2"}}, nil
		}
		c, err := cache.NewFull[string](nil, loadAll, &cache.Options{
			FullBackend: true, LifetimeStale: time.Minute, LifetimeMaximum: time.Hour,
		})
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Populate(context.Background()))
		info, ok := c.Inspect("x")
		require.True(t, ok)
		assert.Equal(t, cache.StateFresh, info.State)

		mu.Lock()
		down = true
		mu.Unlock()
		time.Sleep(2 * time.Minute)
		failedAt := time.Now()
		c.Get(context.Background(), "x")
		synctest.Wait()
		page, err := c.List(nil)
		require.NoError(t, err)
		require.Len(t, page.Entries, 2)
		for _, e := range page.Entries {
			assert.Equal(t, cache.StateExtended, e.State, e.ID)
			assert.Equal(t, failedAt, e.ExtendedSince, e.ID)
		}
	})
}

// listAll walks every page and returns how many times each id was listed.
func listAll(t *testing.T, c *cache.Cache[string], opts cache.ListOptions, between func()) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	pages := 0
	for {
		page, err := c.List(&opts)
		require.NoError(t, err)
		pages++
		for _, e := range page.Entries {
			seen[e.ID]++
		}
		if page.Next == "" {
			return seen, pages
		}
		require.Less(t, pages, 1_000_000, "the listing does not end")
		opts.Cursor = page.Next
		if between != nil {
			between()
		}
	}
}

func TestListReturnsEveryEntryOnceWhileTheTableGrows(t *testing.T) {
	src := &inspectSource{}
	c, err := cache.New(src.load, nil)
	require.NoError(t, err)
	defer c.Close()
	const n = 5_000
	for i := range n {
		c.Set("old"+strconv.Itoa(i), "v")
	}
	added := 0
	seen, pages := listAll(t, c, cache.ListOptions{Limit: 97}, func() {
		for range 100 { // the tables grow several times during the listing
			c.Set("new"+strconv.Itoa(added), "v")
			added++
		}
	})
	assert.Greater(t, pages, n/97)
	var missed, twice []string
	for i := range n {
		if seen["old"+strconv.Itoa(i)] == 0 {
			missed = append(missed, "old"+strconv.Itoa(i))
		}
	}
	for id, k := range seen {
		if k > 1 {
			twice = append(twice, id)
		}
	}
	assert.Empty(t, missed, "ids cached for the whole listing and not listed")
	assert.Empty(t, twice, "ids listed more than once")
	assert.Greater(t, len(seen), n, "some of the ids added during the listing are listed")
}

func TestListPageCostIsBoundedByItsLimit(t *testing.T) {
	src := &inspectSource{}
	c, err := cache.New(src.load, nil)
	require.NoError(t, err)
	defer c.Close()
	const n = 100_000
	for i := range n {
		c.Set("id"+strconv.Itoa(i), "v")
	}

	// No entry is extended: a filtered page stops after its budget of buckets, empty but
	// not the last, instead of walking the whole cache.
	page, err := c.List(&cache.ListOptions{Limit: 10, State: cache.StateExtended})
	require.NoError(t, err)
	assert.Empty(t, page.Entries)
	assert.NotEmpty(t, page.Next, "a filtered page walks a bounded part of the cache")
	seen, pages := listAll(t, c, cache.ListOptions{Limit: 100, State: cache.StateExtended}, nil)
	assert.Empty(t, seen)
	assert.Greater(t, pages, 10)

	// Memory: a page of 100 allocates about what 100 entries need, whatever the size of
	// the cache.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const rounds = 20
	cursor := ""
	for range rounds {
		page, err := c.List(&cache.ListOptions{Limit: 100, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Entries), 110)
		cursor = page.Next
	}
	runtime.ReadMemStats(&after)
	perPage := (after.TotalAlloc - before.TotalAlloc) / rounds
	assert.Less(t, perPage, uint64(64<<10), "bytes allocated per page of 100 over %d entries", n)

	all, _ := listAll(t, c, cache.ListOptions{Limit: 1000}, nil)
	assert.Len(t, all, n)
}

func TestListRejectsMalformedInput(t *testing.T) {
	src := &inspectSource{}
	c, err := cache.New(src.load, nil)
	require.NoError(t, err)
	defer c.Close()
	for _, cursor := range []string{"x", "1", "9999.0", "0.zz", "-1.0", "01.0", ".", "0."} {
		_, err := c.List(&cache.ListOptions{Cursor: cursor})
		assert.ErrorIs(t, err, errors.ErrInvalid, "cursor %q", cursor)
	}
	_, err = c.List(&cache.ListOptions{Limit: -1})
	assert.ErrorIs(t, err, errors.ErrInvalid)

	st, err := cache.ParseState("extended")
	require.NoError(t, err)
	assert.Equal(t, cache.StateExtended, st)
	_, err = cache.ParseState("borrowed")
	assert.ErrorIs(t, err, errors.ErrInvalid)
	for st := cache.StateNegative; st <= cache.StateFresh; st++ {
		back, err := cache.ParseState(st.String())
		require.NoError(t, err)
		assert.Equal(t, st, back)
	}
}
