package flight

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// A call that only polls Err, never asking for Done, still sees Close, with its cause.
func TestCallContextCloseSeenThroughErrAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[int]
		started := make(chan struct{})
		var cause error
		go func() {
			g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) {
				close(started)
				for i := 0; ctx.Err() == nil; i++ {
					if i == 1000 {
						t.Error("the call never saw Close")
						break
					}
					time.Sleep(time.Millisecond)
				}
				cause = context.Cause(ctx)
				return 0, false, cause
			})
		}()
		<-started
		g.Close()
		if !errors.Is(cause, errors.ErrClosed) {
			t.Fatalf("context.Cause = %v, want ErrClosed", cause)
		}
	})
}

// Contexts derived from the call's context are cancelled by Close, and by the leader's ctx.
func TestCallContextDerivedContextsAreCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g Inline[int]
		started := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			g.Do(t.Context(), "k", func(ctx context.Context) (int, bool, error) {
				sub, cancel := context.WithTimeout(ctx, time.Hour)
				defer cancel()
				close(started)
				<-sub.Done()
				errc <- context.Cause(sub)
				return 0, false, context.Cause(sub)
			})
		}()
		<-started
		g.Close()
		if err := <-errc; !errors.Is(err, errors.ErrClosed) {
			t.Fatalf("derived context's cause = %v, want ErrClosed", err)
		}

		var g2 Inline[int]
		leader, cancel := context.WithCancelCause(t.Context())
		boom := errors.New("leader left")
		_, _, err, _ := g2.Do(leader, "k", func(ctx context.Context) (int, bool, error) {
			if ctx.Err() != nil {
				t.Error("cancelled before its leader left")
			}
			cancel(boom)
			if ctx.Err() == nil {
				t.Error("the leader's cancellation is not seen through Err")
			}
			return 0, false, context.Cause(ctx)
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Do = %v, want the leader's cause", err)
		}
	})
}

// A context a call kept after returning is cancelled, whether it asked for Done before or not.
func TestCallContextEndsWithTheCall(t *testing.T) {
	var g Inline[int]
	var kept, keptDone context.Context
	g.Do(t.Context(), "a", func(ctx context.Context) (int, bool, error) {
		kept = ctx
		return 1, true, nil
	})
	g.Do(t.Context(), "b", func(ctx context.Context) (int, bool, error) {
		_ = ctx.Done()
		keptDone = ctx
		return 1, true, nil
	})
	for _, ctx := range []context.Context{kept, keptDone} {
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Err = %v after the call returned", ctx.Err())
		}
		select {
		case <-ctx.Done():
		default:
			t.Error("Done not closed after the call returned")
		}
		if !errors.Is(context.Cause(ctx), context.Canceled) {
			t.Errorf("Cause = %v after the call returned", context.Cause(ctx))
		}
	}
	if err := t.Context().Err(); err != nil {
		t.Fatal("the caller's ctx was cancelled:", err)
	}
}
