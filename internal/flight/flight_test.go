package flight

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// doer is what Group and Inline have in common.
type doer interface {
	Do(ctx context.Context, key string, fn func(ctx context.Context) (int, bool, error)) (v int, ok bool, err error, shared bool)
}

func TestConcurrentCallsShareOneExecution(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    func() doer
	}{
		{"Group", func() doer { return new(Group[string, int]) }},
		{"Inline", func() doer { return new(Inline[int]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := tc.g()
				var calls atomic.Int32
				var wg sync.WaitGroup
				for range 100 {
					wg.Go(func() {
						v, ok, err, _ := g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) {
							calls.Add(1)
							time.Sleep(50 * time.Millisecond)
							return 7, true, nil
						})
						if v != 7 || !ok || err != nil {
							t.Errorf("Do = %v, %v, %v", v, ok, err)
						}
					})
				}
				wg.Wait()
				if n := calls.Load(); n != 1 {
					t.Fatalf("fn ran %d times, want 1", n)
				}
			})
		})
	}
}

// secondOrCancel returns a call that answers 1 after a second, or its context's cause when
// that ends first, and counts its runs in calls (if not nil).
func secondOrCancel(calls *atomic.Int32) func(ctx context.Context) (int, bool, error) {
	return func(ctx context.Context) (int, bool, error) {
		if calls != nil {
			calls.Add(1)
		}
		select {
		case <-time.After(time.Second):
			return 1, true, nil
		case <-ctx.Done():
			return 0, false, context.Cause(ctx)
		}
	}
}

func TestImpatientCallerLeavesOthersWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string, int]
		fn := secondOrCancel(nil)
		short, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _, err, _ := g.Do(short, "k", fn)
			if err != context.DeadlineExceeded {
				t.Errorf("short caller: err = %v", err)
			}
		})
		synctest.Wait()
		v, ok, err, shared := g.Do(t.Context(), "k", fn)
		if v != 1 || !ok || err != nil || !shared {
			t.Fatalf("patient caller: %v %v %v %v", v, ok, err, shared)
		}
		wg.Wait()
	})
}

func TestLastCallerLeavingCancelsTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string, int]
		cancelled := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(time.Millisecond)
			cancel()
		}()
		_, _, err, _ := g.Do(ctx, "k", func(ctx context.Context) (int, bool, error) {
			<-ctx.Done()
			close(cancelled)
			return 0, false, ctx.Err()
		})
		if err != context.Canceled {
			t.Fatalf("err = %v", err)
		}
		<-cancelled
	})
}

func TestCloseCancelsRunningCallsAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string, int]
		var returned atomic.Bool
		started := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _, err, _ := g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) {
				close(started)
				<-ctx.Done()
				time.Sleep(time.Second) // still cleaning up when Close is called
				returned.Store(true)
				return 0, false, ctx.Err()
			})
			if err != context.Canceled {
				t.Errorf("waiting caller: err = %v, want context.Canceled", err)
			}
		})
		<-started
		g.Close()
		if !returned.Load() {
			t.Fatal("Close returned before the running call did")
		}
		wg.Wait()
	})
}

func TestDoAfterCloseIsRefused(t *testing.T) {
	var g Group[string, int]
	g.Close()
	called := false
	_, _, err, _ := g.Do(context.Background(), "k", func(ctx context.Context) (int, bool, error) {
		called = true
		return 1, true, nil
	})
	if !errors.Is(err, errors.ErrClosed) || called {
		t.Fatalf("Do after Close: err = %v, fn called = %v", err, called)
	}
	g.Close() // idempotent
}

func TestCloseCancelsForgottenCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Group[string, int]
		started := make(chan struct{})
		go g.Do(context.Background(), "k", func(ctx context.Context) (int, bool, error) {
			close(started)
			<-ctx.Done()
			return 0, false, ctx.Err()
		})
		<-started
		g.Forget("k")
		g.Close() // must not hang: the forgotten call is cancelled too
	})
}
