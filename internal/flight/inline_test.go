package flight

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/gosorcery/gosorcery/errors"
)

func TestInlineUncontendedCallRunsInTheCaller(t *testing.T) {
	var g Inline[int]
	before := runtime.NumGoroutine()
	var during int
	g.Do(context.Background(), "k", func(ctx context.Context) (int, bool, error) {
		during = runtime.NumGoroutine()
		return 1, true, nil
	})
	if during != before {
		t.Fatalf("goroutines during the call: %d, before: %d", during, before)
	}
	allocs := testing.AllocsPerRun(100, func() {
		g.Do(context.Background(), "k", func(ctx context.Context) (int, bool, error) { return 1, true, nil })
	})
	if allocs > 1 {
		t.Fatalf("an uncontended call allocates %v times, want at most 1 (the call, with its context)", allocs)
	}
	// The call is one allocation of the 64-byte size class, whatever the type of its value.
	if n := unsafe.Sizeof(inlineCall[[100]byte]{}); n > 64 {
		t.Fatalf("a call takes %d bytes, want at most 64", n)
	}
}

func TestInlineImpatientLeaderDoesNotFailTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[int]
		var calls atomic.Int32
		fn := secondOrCancel(&calls)
		short, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			start := time.Now()
			_, _, err, shared := g.Do(short, "k", fn)
			if err != context.DeadlineExceeded || shared || time.Since(start) != 10*time.Millisecond {
				t.Errorf("impatient leader: err = %v, shared = %v, after %v", err, shared, time.Since(start))
			}
		})
		synctest.Wait()
		v, ok, err, shared := g.Do(t.Context(), "k", fn)
		if v != 1 || !ok || err != nil || !shared {
			t.Fatalf("patient caller: %v %v %v %v", v, ok, err, shared)
		}
		wg.Wait()
		if n := calls.Load(); n != 2 {
			t.Fatalf("fn ran %d times, want 2: the patient caller starts it again", n)
		}
	})
}

func TestInlineImpatientFollowerLeavesTheCallRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[int]
		var calls atomic.Int32
		fn := secondOrCancel(&calls)
		var wg sync.WaitGroup
		wg.Go(func() {
			v, ok, err, _ := g.Do(t.Context(), "k", fn)
			if v != 1 || !ok || err != nil {
				t.Errorf("leader: %v %v %v", v, ok, err)
			}
		})
		synctest.Wait()
		short, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, _, err, shared := g.Do(short, "k", fn); err != context.DeadlineExceeded || !shared {
			t.Fatalf("impatient follower: err = %v, shared = %v", err, shared)
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("fn ran %d times, want 1", n)
		}
	})
}

func TestInlineCloseCancelsRunningCallsAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[int]
		var returned atomic.Bool
		started := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				_, _, err, _ := g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) {
					close(started)
					<-ctx.Done()
					time.Sleep(time.Second) // still cleaning up when Close is called
					returned.Store(true)
					return 0, false, context.Cause(ctx)
				})
				if !errors.Is(err, errors.ErrClosed) {
					t.Errorf("caller: err = %v, want ErrClosed", err)
				}
			})
		}
		<-started
		synctest.Wait()
		g.Close()
		if !returned.Load() {
			t.Fatal("Close returned before the running call did")
		}
		wg.Wait()
		if _, _, err, _ := g.Do(t.Context(), "k", nil); !errors.Is(err, errors.ErrClosed) {
			t.Fatalf("Do after Close: %v", err)
		}
		g.Close() // idempotent
	})
}

func TestInlinePanicLetsTheOthersStartAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[int]
		release := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer func() { recover() }()
			g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) {
				<-release
				panic("boom")
			})
		})
		synctest.Wait()
		wg.Go(func() {
			v, ok, err, _ := g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) { return 2, true, nil })
			if v != 2 || !ok || err != nil {
				t.Errorf("after the panic: %v %v %v", v, ok, err)
			}
		})
		synctest.Wait()
		close(release)
		wg.Wait()
	})
}

func TestInlineKeysSharingABucketRunApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[string]
		// Two keys that hash to one bucket, and a third elsewhere.
		a := "k0"
		var b, c string
		for i := 1; b == "" || c == ""; i++ {
			k := "k" + strconv.Itoa(i)
			switch {
			case g.bucket(k) == g.bucket(a) && b == "":
				b = k
			case g.bucket(k) != g.bucket(a) && c == "":
				c = k
			}
		}
		var calls atomic.Int32
		var wg sync.WaitGroup
		for _, k := range []string{a, b, c, a, b, c} {
			wg.Go(func() {
				v, ok, err, _ := g.Do(t.Context(), k, func(ctx context.Context) (string, bool, error) {
					calls.Add(1)
					time.Sleep(time.Second)
					return "v" + k, true, nil
				})
				if v != "v"+k || !ok || err != nil {
					t.Errorf("Do(%s) = %v, %v, %v", k, v, ok, err)
				}
			})
		}
		synctest.Wait()
		g.Close() // cancels nothing that ignores its context, but waits for all three
		wg.Wait()
		if n := calls.Load(); n != 3 {
			t.Fatalf("fn ran %d times, want 3: once per key", n)
		}
		for i := range g.buckets {
			if g.buckets[i].calls != nil {
				t.Fatalf("bucket %d still holds a call after Close", i)
			}
		}
	})
}
