package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

func TestRefreshErrorExtendsLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		rec := &cachetest.Recorder{}
		c := newCache(t, src, &cache.Options{LifetimeStale: 5 * time.Second, LifetimeMaximum: 10 * time.Second, OnEvent: rec.Record})
		get(t, c, "alice")
		src.SetDown(true)

		cachetest.Advance(6 * time.Second)
		v, ok := get(t, c, "alice") // stale: served, refresh fails at t=6
		require.True(t, ok)
		assert.Equal(t, "v1", v)
		synctest.Wait()
		assert.Equal(t, 1, c.Stats().Extended, "the failed refresh did not extend the entry")

		cachetest.Advance(9 * time.Second) // t=15: past the original expiry at 10, before 6+10
		v, ok = c.Peek("alice")
		assert.True(t, ok, "an entry whose refresh failed expired at its original time")
		assert.Equal(t, "v1", v)
		v, ok = get(t, c, "alice") // stale again since 6+5: served, and a second refresh fails
		assert.True(t, ok)
		assert.Equal(t, "v1", v)
		synctest.Wait()
		assert.Equal(t, []cache.EventKind{
			cache.EventMiss, cache.EventStaleHit, cache.EventRefreshError,
			cache.EventServedExtended, cache.EventRefreshError,
		}, rec.Kinds("alice"))
		st := c.Stats()
		assert.Equal(t, uint64(2), st.RefreshErrors)
		assert.Equal(t, uint64(0), st.Expired)
		assert.Equal(t, 1, st.Extended)
	})
}

func TestExtendedEntryExpiresWhenNoLongerRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		c := newCache(t, src, &cache.Options{LifetimeStale: 5 * time.Second, LifetimeMaximum: 10 * time.Second})
		get(t, c, "alice")
		src.SetDown(true)
		cachetest.Advance(6 * time.Second)
		get(t, c, "alice") // refresh fails at t=6: expiry moves to t=16
		synctest.Wait()
		cachetest.Advance(9999 * time.Millisecond)
		_, ok := c.Peek("alice")
		require.True(t, ok, "gone before the extended expiry")
		cachetest.Advance(time.Millisecond)
		_, ok = c.Peek("alice")
		assert.False(t, ok, "an extended entry nobody reads must still expire")
		_, _, err := c.Get(context.Background(), "alice")
		assert.ErrorIs(t, err, errors.ErrUnavailable, "a miss while the source is down returns its error")
	})
}

func TestFailedIDIsNotRetriedBeforeErrorRecheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		c := newCache(t, src, &cache.Options{LifetimeStale: 10 * time.Second, LifetimeMaximum: time.Hour, ErrorRecheck: 30 * time.Second})
		get(t, c, "alice")
		src.SetDown(true)
		cachetest.Advance(10 * time.Second)
		for range 300 { // 30 s of reads, ten a second
			v, ok := get(t, c, "alice")
			require.True(t, ok)
			require.Equal(t, "v1", v)
			cachetest.Advance(100 * time.Millisecond)
		}
		synctest.Wait()
		// One load, one refresh at t=10, one more at t=40 at the earliest.
		assert.Equal(t, 2, src.Calls("alice"), "a failed id was retried before ErrorRecheck")
		cachetest.Advance(100 * time.Millisecond)
		get(t, c, "alice")
		synctest.Wait()
		assert.Equal(t, 3, src.Calls("alice"), "not retried once ErrorRecheck passed")
	})
}

func TestOutageOfTwoDaysKeepsServingCachedObjects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 40
		src := cachetest.NewSource(nil)
		for i := range n {
			src.Set(fmt.Sprintf("ep%02d", i), "v1")
		}
		c := newCache(t, src, &cache.Options{LifetimeMaximum: 86400 * time.Second, LifetimeStale: 60 * time.Second})
		for i := range n {
			get(t, c, fmt.Sprintf("ep%02d", i))
		}

		src.SetDown(true)
		outage := time.Now()
		const step = 20 * time.Second
		for time.Since(outage) < 48*time.Hour {
			for i := range n {
				id := fmt.Sprintf("ep%02d", i)
				v, ok, err := c.Get(context.Background(), id)
				require.NoError(t, err, "%s at %v into the outage", id, time.Since(outage))
				require.True(t, ok, "%s at %v into the outage", id, time.Since(outage))
				require.Equal(t, "v1", v)
			}
			cachetest.Advance(step)
		}
		synctest.Wait()
		recheck := 60 * time.Second
		for i := range n {
			id := fmt.Sprintf("ep%02d", i)
			times := src.CallTimes(id)[1:] // the first is the load before the outage
			assert.LessOrEqual(t, len(times), int(48*time.Hour/recheck)+1, id)
			assert.GreaterOrEqual(t, len(times), int(48*time.Hour/(recheck+step))-1, "%s was not re-checked", id)
			for j := 1; j < len(times); j++ {
				gap := times[j].Sub(times[j-1])
				require.GreaterOrEqual(t, gap, recheck, "%s asked twice within ErrorRecheck", id)
			}
		}
		st := c.Stats()
		assert.Equal(t, n, st.Objects)
		assert.Equal(t, n, st.Extended, "every object lives on an extension")
		assert.Equal(t, uint64(0), st.Expired)

		// The source comes back changed: ep00 updated, ep01 deleted.
		src.SetDown(false)
		src.Set("ep00", "v2")
		src.Delete("ep01")
		back := time.Now()
		for time.Since(back) <= 60*time.Second+step {
			get(t, c, "ep00")
			get(t, c, "ep01")
			cachetest.Advance(step)
		}
		synctest.Wait()
		v, ok := get(t, c, "ep00")
		assert.True(t, ok)
		assert.Equal(t, "v2", v, "a changed object did not appear within one stale period")
		_, ok = c.Peek("ep01")
		assert.False(t, ok, "a deleted object did not disappear within one stale period")
		assert.Equal(t, 0, c.Stats().Extended-(n-2), "objects still extended after the source came back")
	})
}

func TestStaleIfErrorEndsServiceAtTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		rec := &cachetest.Recorder{}
		c := newCache(t, src, &cache.Options{
			LifetimeStale: 2 * time.Second, LifetimeMaximum: 10 * time.Second, StaleIfError: 5 * time.Second,
			OnEvent: rec.Record,
		})
		start := time.Now()
		get(t, c, "alice")
		src.SetDown(true)
		for time.Since(start) < 15*time.Second {
			v, ok, err := c.Get(context.Background(), "alice")
			require.NoError(t, err, "at %v", time.Since(start))
			require.True(t, ok, "at %v", time.Since(start))
			require.Equal(t, "v1", v)
			cachetest.Advance(500 * time.Millisecond)
		}
		// The cap: last success (0) + LifetimeMaximum (10 s) + StaleIfError (5 s).
		_, ok := c.Peek("alice")
		assert.False(t, ok, "served past last success + LifetimeMaximum + StaleIfError")
		_, _, err := c.Get(context.Background(), "alice")
		assert.ErrorIs(t, err, errors.ErrUnavailable)
		assert.Equal(t, 1, rec.Count(cache.EventExpired))
	})
}

func TestStaleReadsCauseOneRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Second, LifetimeMaximum: time.Hour})
		get(t, c, "alice")
		src.Set("alice", "v2")
		src.SetDelay(100 * time.Millisecond)
		cachetest.Advance(2 * time.Second)
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				v, ok, err := c.Get(context.Background(), "alice")
				if err != nil || !ok || v != "v1" {
					t.Errorf("stale Get = %q, %v, %v; want the stale v1 at once", v, ok, err)
				}
			})
		}
		wg.Wait()
		cachetest.Advance(time.Second) // the refresh takes 100 ms
		assert.Equal(t, 2, src.Calls("alice"), "1,000 stale reads: want the load and one refresh")
		assert.Equal(t, uint64(1000), c.Stats().StaleHits)
		v, _ := get(t, c, "alice")
		assert.Equal(t, "v2", v)
	})
}

func TestColdReadsCauseOneLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		src.SetDelay(100 * time.Millisecond)
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Minute})
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				v, ok, err := c.Get(context.Background(), "alice")
				if err != nil || !ok || v != "v1" {
					t.Errorf("cold Get = %q, %v, %v", v, ok, err)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 1, src.Calls("alice"), "1,000 cold reads: want one load")
		st := c.Stats()
		assert.Equal(t, uint64(1000), st.Misses+st.Hits, "every Get counted once")
		assert.Equal(t, uint64(1), st.Loads.Found)
	})
}

func TestImpatientReaderDoesNotCancelSharedLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		src.SetDelay(time.Second)
		c := newCache(t, src, nil)
		short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _, err := c.Get(short, "alice")
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
		synctest.Wait()
		v, ok := get(t, c, "alice")
		assert.True(t, ok)
		assert.Equal(t, "v1", v)
		wg.Wait()
		assert.Equal(t, 1, src.Calls("alice"))
	})
}

func TestNegativeEntriesRememberNotFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(nil)
		c := newCache(t, src, &cache.Options{NegativeLifetime: 30 * time.Second})
		for range 100 {
			_, ok := get(t, c, "ghost")
			require.False(t, ok)
		}
		assert.Equal(t, 1, src.Calls("ghost"), "a flood of lookups of an unknown id reached the source")
		st := c.Stats()
		assert.Equal(t, uint64(99), st.NegativeHits)
		assert.Equal(t, 1, st.NegativeObjects)
		assert.Equal(t, 0, st.Objects)
		assert.Equal(t, 0, c.Len(), "negative entries are not objects")
		_, ok := c.Peek("ghost")
		assert.False(t, ok)

		cachetest.Advance(30 * time.Second)
		assert.Equal(t, 0, c.Stats().NegativeObjects, "a negative entry outlived NegativeLifetime")
		src.Set("ghost", "boo")
		v, ok := get(t, c, "ghost")
		assert.True(t, ok)
		assert.Equal(t, "boo", v)
		assert.Equal(t, 2, src.Calls("ghost"))

		// A push replaces a negative entry.
		get(t, c, "casper")
		c.Set("casper", "friendly")
		v, ok = get(t, c, "casper")
		assert.True(t, ok)
		assert.Equal(t, "friendly", v)
	})
}

func TestRefreshNotFoundLeavesNegativeEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Second, NegativeLifetime: time.Minute})
		get(t, c, "alice")
		src.Delete("alice")
		cachetest.Advance(time.Second)
		get(t, c, "alice")
		synctest.Wait()
		for range 10 {
			_, ok := get(t, c, "alice")
			assert.False(t, ok)
		}
		assert.Equal(t, 2, src.Calls("alice"))
		assert.Equal(t, 1, c.Stats().NegativeObjects)
	})
}

func TestDegradedLoadIsServedAndRecheckedAfterErrorRecheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "fallback"})
		src.SetDegraded(true)
		rec := &cachetest.Recorder{}
		c := newCache(t, src, &cache.Options{
			LifetimeStale: time.Minute, LifetimeMaximum: time.Hour, ErrorRecheck: 10 * time.Second,
			OnEvent: rec.Record,
		})
		v, ok, err := c.Get(context.Background(), "alice")
		require.NoError(t, err, "a degraded answer is served without its error")
		require.True(t, ok)
		assert.Equal(t, "fallback", v)
		st := c.Stats()
		assert.Equal(t, 1, st.Extended, "a degraded entry lives on an extension")
		assert.Equal(t, uint64(1), st.Loads.Degraded)
		assert.True(t, st.LastSuccess.IsZero(), "a degraded answer is not a success")

		get(t, c, "alice")
		assert.Equal(t, []cache.EventKind{cache.EventMiss, cache.EventServedExtended}, rec.Kinds("alice"))
		cachetest.Advance(9 * time.Second)
		get(t, c, "alice")
		synctest.Wait()
		assert.Equal(t, 1, src.Calls("alice"), "re-checked before ErrorRecheck")
		cachetest.Advance(time.Second)
		get(t, c, "alice")
		synctest.Wait()
		assert.Equal(t, 2, src.Calls("alice"), "not re-checked after ErrorRecheck")
	})
}

func TestDegradedRefreshKeepsExistingEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "preferred"})
		rec := &cachetest.Recorder{}
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Second, LifetimeMaximum: 10 * time.Second, OnEvent: rec.Record})
		get(t, c, "alice")
		src.Set("alice", "fallback")
		src.SetDegraded(true)
		cachetest.Advance(2 * time.Second)
		get(t, c, "alice")
		synctest.Wait()
		v, ok := get(t, c, "alice")
		assert.True(t, ok)
		assert.Equal(t, "preferred", v, "a degraded refresh replaced the existing entry")
		assert.Equal(t, 1, c.Stats().Extended)
		assert.Contains(t, rec.Kinds("alice"), cache.EventRefreshError)
		// Extended like an error: still served past the original expiry at 10 s.
		cachetest.Advance(9 * time.Second)
		_, ok = c.Peek("alice")
		assert.True(t, ok)
	})
}

func TestRefreshIsDetachedFromReaderAndBoundedByRefreshTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type key struct{}
		var (
			mu       sync.Mutex
			deadline time.Duration
			value    any
			hang     bool
		)
		load := func(ctx context.Context, id string) (string, bool, error) {
			mu.Lock()
			h := hang
			if d, ok := ctx.Deadline(); ok {
				deadline = time.Until(d)
			}
			value = ctx.Value(key{})
			mu.Unlock()
			if h {
				<-ctx.Done()
				return "", false, ctx.Err()
			}
			return "v", true, nil
		}
		c, err := cache.New(load, &cache.Options{LifetimeStale: time.Second, RefreshTimeout: 3 * time.Second})
		require.NoError(t, err)
		defer c.Close()
		_, _, err = c.Get(context.Background(), "alice")
		require.NoError(t, err)

		mu.Lock()
		hang = true
		mu.Unlock()
		cachetest.Advance(2 * time.Second)
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "trace-1"))
		_, ok, err := c.Get(ctx, "alice")
		require.NoError(t, err)
		require.True(t, ok)
		cancel() // the reader goes away; its refresh must not
		synctest.Wait()
		assert.Equal(t, 1, c.Stats().RefreshesInFlight, "the refresh died with its reader")
		cachetest.Advance(3 * time.Second)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 3*time.Second, deadline, "refresh deadline")
		assert.Equal(t, "trace-1", value, "the refresh lost the reader's values")
		st := c.Stats()
		assert.Equal(t, 0, st.RefreshesInFlight)
		assert.Equal(t, uint64(1), st.RefreshErrors, "a timed-out refresh is a failed refresh")
	})
}

func TestRefreshWorkersBoundConcurrentRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(nil)
		for i := range 50 {
			src.Set(fmt.Sprintf("ep%02d", i), "v")
		}
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Second, RefreshWorkers: 3})
		for i := range 50 {
			get(t, c, fmt.Sprintf("ep%02d", i))
		}
		require.Equal(t, 1, src.PeakRunning())
		src.SetDelay(time.Second)
		cachetest.Advance(time.Second)
		for i := range 50 {
			get(t, c, fmt.Sprintf("ep%02d", i))
		}
		synctest.Wait()
		assert.Equal(t, 50, c.Stats().RefreshesInFlight)
		cachetest.Advance(20 * time.Second)
		assert.Equal(t, 3, src.PeakRunning(), "more refreshes ran at once than RefreshWorkers")
		st := c.Stats()
		assert.Equal(t, uint64(50), st.RefreshUpdated)
		assert.Equal(t, 0, st.RefreshesInFlight)
	})
}

func TestSetDuringLoadWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "old"})
		src.SetDelay(time.Second)
		c := newCache(t, src, nil)
		go c.Get(context.Background(), "alice")
		synctest.Wait()
		c.Set("alice", "pushed")
		cachetest.Advance(time.Second)
		v, _ := c.Peek("alice")
		assert.Equal(t, "pushed", v, "a load that started before a push overwrote it")
	})
}

func TestDeleteDuringLoadIsNotUndone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "old"})
		src.SetDelay(time.Second)
		c := newCache(t, src, nil)
		var wg sync.WaitGroup
		wg.Go(func() {
			v, ok, err := c.Get(context.Background(), "alice")
			assert.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "old", v, "the reader still gets its answer")
		})
		synctest.Wait()
		c.Delete("alice")
		wg.Wait()
		_, ok := c.Peek("alice")
		assert.False(t, ok, "a load that raced with a delete cached the deleted object")
	})
}

func TestMarkStaleReloadRefreshesNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v1"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour})
		get(t, c, "alice")
		get(t, c, "bob")
		src.Set("alice", "v2")
		src.Set("bob", "v2")

		c.MarkStale("alice", true)
		synctest.Wait()
		v, _ := c.Peek("alice")
		assert.Equal(t, "v2", v, "MarkStale with reload did not refresh")

		c.MarkStale("bob", false)
		synctest.Wait()
		v, _ = c.Peek("bob")
		assert.Equal(t, "v1", v, "MarkStale without reload refreshed before a read")
		v, _ = get(t, c, "bob")
		assert.Equal(t, "v1", v, "a stale entry is served as it is")
		synctest.Wait()
		v, _ = c.Peek("bob")
		assert.Equal(t, "v2", v)
	})
}

func TestMarkAllStaleRefreshesOnNextRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v1", "carol": "v1"})
		c := newCache(t, src, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 2 * time.Hour})
		for _, id := range []string{"alice", "bob", "carol"} {
			get(t, c, id)
		}
		src.Set("alice", "v2")
		src.Set("bob", "v2")
		cachetest.Advance(30 * time.Minute)
		c.MarkAllStale()
		get(t, c, "alice")
		get(t, c, "bob")
		synctest.Wait()
		for _, id := range []string{"alice", "bob"} {
			v, _ := c.Peek(id)
			assert.Equal(t, "v2", v, id)
		}
		// carol, marked stale but not read, keeps her expiry; the others expire two hours
		// after their refresh.
		cachetest.Advance(90 * time.Minute)
		_, ok := c.Peek("carol")
		assert.False(t, ok, "a stale entry outlived its maximum lifetime")
		assert.Equal(t, 2, c.Len(), "refreshed entries expired before two hours")
		cachetest.Advance(30 * time.Minute)
		assert.Equal(t, 0, c.Len())
	})
}

func TestExpireRemovesOneAndExpireAllRemovesEverything(t *testing.T) {
	src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v1", "carol": "v1"})
	rec := &cachetest.Recorder{}
	c := newCache(t, src, &cache.Options{OnEvent: rec.Record})
	for _, id := range []string{"alice", "bob", "carol"} {
		get(t, c, id)
	}
	c.Expire("alice")
	_, ok := c.Peek("alice")
	assert.False(t, ok)
	assert.Equal(t, 2, c.Len())
	get(t, c, "alice")
	assert.Equal(t, 2, src.Calls("alice"), "an expired object is loaded again")
	c.ExpireAll()
	assert.Equal(t, 0, c.Len())
	assert.Equal(t, 4, rec.Count(cache.EventExpired))
	assert.Equal(t, uint64(4), c.Stats().Expired)
}

func TestPopulateLoadsWholeSetAndDropsTheRest(t *testing.T) {
	src := cachetest.NewSource(map[string]string{"alice": "v1", "bob": "v1"})
	c := newCache(t, src, nil)
	c.Set("stranger", "x")
	require.NoError(t, c.Populate(context.Background()))
	assert.Equal(t, 2, c.Len())
	_, ok := c.Peek("stranger")
	assert.False(t, ok, "Populate kept an object the source does not have")
	v, ok := c.Peek("bob")
	assert.True(t, ok)
	assert.Equal(t, "v1", v)

	src.SetDown(true)
	assert.ErrorIs(t, c.Populate(context.Background()), errors.ErrUnavailable)
	assert.Equal(t, 2, c.Len(), "a failed Populate changed the cache")

	plain, err := cache.New(src.Load, nil)
	require.NoError(t, err)
	defer plain.Close()
	assert.ErrorIs(t, plain.Populate(context.Background()), errors.ErrUnsupported)
	_, err = plain.All(context.Background())
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}
