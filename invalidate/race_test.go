package invalidate_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/internal/testbus"
	"github.com/gosorcery/gosorcery/sorcery"
)

// slowAfterRead reads a record, then takes its time to answer: a refresh that read the old
// value is still running when the change and its invalidation arrive.
type slowAfterRead struct {
	mu    sync.Mutex
	value string
	delay time.Duration
	calls int
}

func (w *slowAfterRead) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	w.mu.Lock()
	v, d := w.value, w.delay
	w.calls++
	w.mu.Unlock()
	time.Sleep(d)
	return endpoint(id, v), true, nil
}

func (w *slowAfterRead) set(v string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.value, w.delay = v, d
}

func (w *slowAfterRead) retrieves() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

// TestAChangeAnnouncedDuringARunningRefreshIsNotLost: a refresh that read the old value is
// still running when the change is announced. The announcement leads to another refresh once
// that one ends, rather than being coalesced into it and lost until the stale period ends.
func TestAChangeAnnouncedDuringARunningRefreshIsNotLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &slowAfterRead{value: "v0"}
		cl := testbus.NewCluster(t, 1, src)
		cl.RequireServing(t, "alice", "v0")
		target := cl.Instances[0].Sorcery

		src.set("v0", 200*time.Millisecond)
		require.NoError(t, target.Invalidate(sorcery.Invalidation{Type: "endpoint", ID: "alice"}))
		time.Sleep(50 * time.Millisecond) // the refresh has read v0 and is answering
		src.set("v1", 200*time.Millisecond)
		require.NoError(t, target.Invalidate(sorcery.Invalidation{Type: "endpoint", ID: "alice"}))

		time.Sleep(160 * time.Millisecond) // t=210ms: the first refresh stored v0; the second one read v1
		synctest.Wait()
		cl.RequireServing(t, "alice", "v0")
		time.Sleep(200 * time.Millisecond) // t=410ms: the second refresh stored v1
		synctest.Wait()
		cl.RequireServing(t, "alice", "v1")

		time.Sleep(testbus.StalePeriod / 2)
		cl.RequireServing(t, "alice", "v1")
		assert.Equal(t, 3, src.retrieves(), "want the first load and two refreshes, no more")
	})
}
