package invalidate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// recorder is a Target that records what it is told. Types it knows are in known; nil
// knows every type.
type recorder struct {
	mu     sync.Mutex // guards the fields below
	known  map[string]bool
	invs   []sorcery.Invalidation
	stales []string
}

func (r *recorder) Invalidate(inv sorcery.Invalidation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known != nil && !r.known[inv.Type] {
		return fmt.Errorf("sorcery: unknown object type %q: %w", inv.Type, errors.ErrInvalid)
	}
	r.invs = append(r.invs, inv)
	return nil
}

func (r *recorder) MarkStale(typeName string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stales = append(r.stales, typeName)
	return nil
}

func (r *recorder) got() ([]sorcery.Invalidation, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sorcery.Invalidation(nil), r.invs...), append([]string(nil), r.stales...)
}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler)) // the sources' warnings are expected here
	os.Exit(m.Run())
}

func payload(t *testing.T, typ, id string, c sorcery.Change) []byte {
	t.Helper()
	b, err := Encode(sorcery.Invalidation{Type: typ, ID: id, Change: c})
	require.NoError(t, err)
	return b
}

func TestReconnectAttemptsFollowTheBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var (
			mu       sync.Mutex
			attempts []time.Duration
		)
		sub := SubscriberFunc(func(ctx context.Context, _ *Sink) error {
			mu.Lock()
			attempts = append(attempts, time.Since(start))
			mu.Unlock()
			return fmt.Errorf("connection refused: %w", errors.ErrUnavailable)
		})
		s, err := NewSource(sub, &recorder{}, &SourceOptions{
			Backoff: Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: -1},
		})
		require.NoError(t, err)
		time.Sleep(4 * time.Second)
		require.NoError(t, s.Close())

		mu.Lock()
		defer mu.Unlock()
		// Gaps 100, 200, 400, 800, then 1000 ms each: attempts at 0, .1, .3, .7, 1.5, 2.5, 3.5 s.
		want := []time.Duration{0, 100, 300, 700, 1500, 2500, 3500}
		require.Len(t, attempts, len(want), "%v", attempts)
		for i, w := range want {
			assert.Equal(t, w*time.Millisecond, attempts[i], "attempt %d", i)
		}
		st := s.Stats()
		assert.EqualValues(t, len(want), st.Failures)
		assert.EqualValues(t, 0, st.Connects)
		assert.False(t, st.Connected)
		assert.ErrorIs(t, st.LastError, errors.ErrUnavailable)
	})
}

func TestJitteredReconnectsStayWithinTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu   sync.Mutex
			last time.Time
			gaps []time.Duration
		)
		sub := SubscriberFunc(func(ctx context.Context, _ *Sink) error {
			mu.Lock()
			if !last.IsZero() {
				gaps = append(gaps, time.Since(last))
			}
			last = time.Now()
			mu.Unlock()
			return errors.ErrUnavailable
		})
		b := Backoff{Initial: time.Second, Max: 8 * time.Second, Jitter: 0.5}
		s, err := NewSource(sub, &recorder{}, &SourceOptions{Backoff: b})
		require.NoError(t, err)
		time.Sleep(time.Minute)
		require.NoError(t, s.Close())

		mu.Lock()
		defer mu.Unlock()
		require.Greater(t, len(gaps), 6)
		for i, g := range gaps {
			c := b.Ceiling(i)
			assert.GreaterOrEqual(t, g, c/2, "gap %d", i)
			assert.LessOrEqual(t, g, c, "gap %d", i)
		}
	})
}

func TestBackoffStartsOverAfterASubscriptionThatWorked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var (
			mu       sync.Mutex
			attempts []time.Duration
		)
		sub := SubscriberFunc(func(ctx context.Context, sink *Sink) error {
			mu.Lock()
			attempts = append(attempts, time.Since(start))
			n := len(attempts)
			mu.Unlock()
			if n == 4 { // the fourth attempt connects and stays up for a second
				sink.Ready()
				time.Sleep(time.Second)
			}
			return errors.ErrUnavailable
		})
		s, err := NewSource(sub, &recorder{}, &SourceOptions{
			Backoff: Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Jitter: -1},
		})
		require.NoError(t, err)
		time.Sleep(1900 * time.Millisecond)
		require.NoError(t, s.Close())

		mu.Lock()
		defer mu.Unlock()
		// 0, .1, .3, .7 (connects until 1.7), then 1.8, and 2.0 would be after Close.
		want := []time.Duration{0, 100, 300, 700, 1800}
		require.Len(t, attempts, len(want), "%v", attempts)
		for i, w := range want {
			assert.Equal(t, w*time.Millisecond, attempts[i], "attempt %d", i)
		}
	})
}

func TestCloseStopsTheSourceDuringABackoffAndIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sub := SubscriberFunc(func(ctx context.Context, _ *Sink) error { return errors.ErrUnavailable })
		s, err := NewSource(sub, &recorder{}, &SourceOptions{Backoff: Backoff{Initial: time.Hour, Max: time.Hour}})
		require.NoError(t, err)
		synctest.Wait() // the source sleeps in its backoff
		before := time.Now()
		require.NoError(t, s.Close())
		assert.Equal(t, before, time.Now(), "Close must not wait for the backoff")
		assert.ErrorIs(t, s.Close(), errors.ErrClosed)
		assert.ErrorIs(t, s.Close(), errors.ErrClosed)
		// synctest.Test fails if the source's goroutine is still running here.
	})
}

func TestCloseEndsALiveSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ended := make(chan error, 1)
		sub := SubscriberFunc(func(ctx context.Context, sink *Sink) error {
			sink.Ready()
			<-ctx.Done()
			ended <- ctx.Err()
			return ctx.Err()
		})
		s, err := NewSource(sub, &recorder{}, nil)
		require.NoError(t, err)
		<-s.Ready()
		assert.True(t, s.Stats().Connected)
		require.NoError(t, s.Close())
		assert.ErrorIs(t, <-ended, context.Canceled)
		assert.False(t, s.Stats().Connected)
		assert.Zero(t, s.Stats().Failures, "a close is not a failure")
	})
}

func TestEveryConnectionMarksTheTypesStale(t *testing.T) {
	for name, tc := range map[string]struct {
		types []string
		want  []string
	}{
		"every type":     {nil, []string{"", "", ""}},
		"selected types": {[]string{"endpoint", "aor"}, []string{"aor", "endpoint", "aor", "endpoint", "aor", "endpoint"}},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				connected := make(chan bool, 10)
				sub := SubscriberFunc(func(ctx context.Context, sink *Sink) error {
					sink.Ready()
					sink.Ready() // a second call is ignored
					time.Sleep(time.Second)
					return errors.ErrUnavailable
				})
				rec := &recorder{}
				s, err := NewSource(sub, rec, &SourceOptions{
					Types:   tc.types,
					Backoff: Backoff{Initial: time.Second, Max: time.Second, Jitter: -1},
					Hooks:   Hooks{Connected: func(re bool) { connected <- re }},
				})
				require.NoError(t, err)
				time.Sleep(4500 * time.Millisecond) // connects at 0, 2 and 4 s
				require.NoError(t, s.Close())
				_, stales := rec.got()
				assert.Equal(t, tc.want, stales)
				assert.False(t, <-connected)
				assert.True(t, <-connected)
				assert.True(t, <-connected)
				st := s.Stats()
				assert.EqualValues(t, 3, st.Connects)
				assert.EqualValues(t, 2, st.Failures)
			})
		})
	}
}

func TestDeliveredPayloadsReachTheTargetAndGarbageIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var malformed [][]byte
		var received []error
		sub := SubscriberFunc(func(ctx context.Context, sink *Sink) error {
			sink.Deliver(payload(t, "endpoint", "before-ready", sorcery.Changed)) // allowed: delivery may race Ready
			sink.Ready()
			sink.Deliver(payload(t, "endpoint", "alice", sorcery.Changed))
			sink.Deliver(payload(t, "endpoint", "alice", sorcery.Changed)) // at-least-once: a duplicate
			sink.Deliver([]byte(`{"v":9}`))
			sink.Deliver([]byte("not json"))
			sink.Deliver(payload(t, "aor", "bob", sorcery.Deleted))
			sink.Deliver(payload(t, "auth", "carol", sorcery.Changed)) // filtered out
			sink.Deliver(payload(t, "contact", "x", sorcery.Deleted))  // unknown to the target
			<-ctx.Done()
			return ctx.Err()
		})
		rec := &recorder{known: map[string]bool{"endpoint": true, "aor": true, "auth": true}}
		s, err := NewSource(sub, rec, &SourceOptions{
			Types: []string{"endpoint", "aor", "contact"},
			Hooks: Hooks{
				Malformed: func(p []byte, err error) {
					assert.ErrorIs(t, err, errors.ErrInvalid)
					malformed = append(malformed, p)
				},
				Received: func(inv sorcery.Invalidation, err error) { received = append(received, err) },
			},
		})
		require.NoError(t, err)
		synctest.Wait()
		require.NoError(t, s.Close())

		invs, _ := rec.got()
		assert.Equal(t, []sorcery.Invalidation{
			{Type: "endpoint", ID: "before-ready", Change: sorcery.Changed},
			{Type: "endpoint", ID: "alice", Change: sorcery.Changed},
			{Type: "endpoint", ID: "alice", Change: sorcery.Changed},
			{Type: "aor", ID: "bob", Change: sorcery.Deleted},
		}, invs)
		assert.Equal(t, [][]byte{[]byte(`{"v":9}`), []byte("not json")}, malformed)
		require.Len(t, received, 6)
		assert.ErrorIs(t, received[4], errors.ErrInvalid, "a filtered type")
		assert.ErrorIs(t, received[5], errors.ErrInvalid, "a type the target does not know")
		st := s.Stats()
		assert.EqualValues(t, 6, st.Received)
		assert.EqualValues(t, 2, st.Ignored)
		assert.EqualValues(t, 2, st.Malformed)
	})
}

func TestLostMessagesMarkTheTypesStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sub := SubscriberFunc(func(ctx context.Context, sink *Sink) error {
			sink.Ready()
			sink.Lost()
			<-ctx.Done()
			return ctx.Err()
		})
		rec := &recorder{}
		s, err := NewSource(sub, rec, &SourceOptions{Types: []string{"endpoint"}})
		require.NoError(t, err)
		synctest.Wait()
		require.NoError(t, s.Close())
		_, stales := rec.got()
		assert.Equal(t, []string{"endpoint", "endpoint"}, stales)
		assert.EqualValues(t, 1, s.Stats().Lost)
	})
}

func TestSinkIgnoresCallsAfterItsSubscriptionEnded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sinks := make(chan *Sink, 1)
		sub := SubscriberFunc(func(ctx context.Context, sink *Sink) error {
			select {
			case sinks <- sink:
				return errors.ErrUnavailable
			default:
			}
			<-ctx.Done()
			return ctx.Err()
		})
		rec := &recorder{}
		s, err := NewSource(sub, rec, nil)
		require.NoError(t, err)
		old := <-sinks
		synctest.Wait()
		old.Ready()
		old.Deliver(payload(t, "endpoint", "late", sorcery.Changed))
		old.Lost()
		require.NoError(t, s.Close())
		invs, stales := rec.got()
		assert.Empty(t, invs)
		assert.Empty(t, stales)
		assert.Zero(t, s.Stats().Connects)
	})
}

func TestNewSourceRejectsBadArguments(t *testing.T) {
	sub := SubscriberFunc(func(ctx context.Context, _ *Sink) error { return nil })
	_, err := NewSource(nil, &recorder{}, nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = NewSource(sub, nil, nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = NewSource(sub, &recorder{}, &SourceOptions{Types: []string{"end.point"}})
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestSorceryIsATarget(t *testing.T) {
	s := sorcery.New(nil)
	defer s.Close()
	_, err := sorcery.Register[struct {
		ID string `sorcery:"id"`
	}](s, "endpoint", nil)
	require.NoError(t, err)
	var target Target = s
	assert.NoError(t, target.Invalidate(sorcery.Invalidation{Type: "endpoint", ID: "nobody"}), "an unknown id is ignored")
	assert.ErrorIs(t, target.Invalidate(sorcery.Invalidation{Type: "nope", ID: "a"}), errors.ErrInvalid)
	assert.NoError(t, target.MarkStale(""))
	assert.NoError(t, target.MarkStale("endpoint"))
}
