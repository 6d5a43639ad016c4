package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

// A reader that saw the set stale just before a refresh of it answered must not start
// another: the refresh published a fresh set, and a second whole load in the same period
// is the double load that a 48-hour outage simulation counted by the hundred.
func TestReaderThatSawTheSetStaleBeforeARefreshAnsweredStartsNoSecondLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := cachetest.NewSource(map[string]string{"alice": "v1"})
		c := newCache(t, src, fullOpts(cache.Options{LifetimeStale: time.Second, LifetimeMaximum: time.Hour}))
		var calls atomic.Int32
		paused, resume := make(chan struct{}), make(chan struct{})
		cache.SetBeforeSetRefreshSwap(c, func() {
			if calls.Add(1) == 1 { // the first reader stops in the window
				close(paused)
				<-resume
			}
		})
		get(t, c, "alice") // the first whole load
		time.Sleep(1500 * time.Millisecond)

		var wg sync.WaitGroup
		wg.Go(func() { _, _, _ = c.Get(context.Background(), "alice") }) // sees the set stale, pauses
		<-paused
		get(t, c, "alice") // sees it stale too and refreshes it
		synctest.Wait()
		assert.Equal(t, 2, src.WholeCalls(), "the refresh has answered")

		close(resume) // the first reader goes on, with the stale set it saw
		wg.Wait()
		synctest.Wait()
		assert.Equal(t, 2, src.WholeCalls(), "whole loads: the first reader started another")
	})
}
