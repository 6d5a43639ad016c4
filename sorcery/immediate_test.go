package sorcery_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// gated is a wizard that has every object and answers once its gate is open, counting
// the calls that are waiting in it. With now set it is an ImmediateRetriever that claims
// to answer at once (and then waits anyway, so that a test can see two callers inside it).
type gated struct {
	gate    chan struct{}
	inside  atomic.Int32
	calls   atomic.Int32
	claimed bool // RetrieveNow answers (now true) instead of declining
	nows    atomic.Int32
}

func (g *gated) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	g.calls.Add(1)
	g.inside.Add(1)
	defer g.inside.Add(-1)
	select {
	case <-g.gate:
		return rec(id, "context", "gated"), true, nil
	case <-ctx.Done():
		return sorcery.Record{}, false, context.Cause(ctx)
	}
}

func (g *gated) AnswersFor(w sorcery.Wizard) bool { return w == sorcery.Wizard(g) }

func (g *gated) RetrieveNow(ctx context.Context, id string) (sorcery.Record, bool, error, bool) {
	g.nows.Add(1)
	if !g.claimed {
		return sorcery.Record{}, false, nil, false
	}
	r, found, err := g.Retrieve(ctx, id)
	return r, found, err, true
}

// oneWizard returns an endpoint type whose chain is w alone, closed at the end of the test.
func oneWizard(t *testing.T, w sorcery.Wizard) *sorcery.Type[Endpoint] {
	t.Helper()
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddWizard("w", w, nil))
	return typ
}

// retrieveAll runs n retrievals of id at once and returns once they have all returned.
func retrieveAll(typ *sorcery.Type[Endpoint], n int, id string) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e, found, err := typ.Retrieve(context.Background(), id)
			if err == nil && (!found || e.ID != id) {
				err = errors.New("wrong answer")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

func TestWalkIsSharedFromTheFirstWizardThatCannotAnswerAtOnce(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	a := memory.New() // answers at once, and does not have the object
	b := &gated{gate: make(chan struct{})}
	require.NoError(t, typ.AddWizard("A", a, nil))
	require.NoError(t, typ.AddWizard("B", b, nil))

	const n = 8
	done := make(chan []error)
	go func() { done <- retrieveAll(typ, n, "alice") }()
	require.Eventually(t, func() bool { return a.Calls().Retrieve == n }, 5*time.Second, time.Millisecond,
		"each caller asks the wizard that answers at once itself")
	require.Eventually(t, func() bool { return b.nows.Load() == n }, 5*time.Second, time.Millisecond,
		"each caller offers B to answer at once, and B declines")
	time.Sleep(20 * time.Millisecond) // time for a second walk into B, if there were one
	assert.EqualValues(t, 1, b.calls.Load(), "the callers share one walk from B on")
	close(b.gate)
	for _, err := range <-done {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, n, a.Calls().Retrieve, "A asked once per retrieval")
}

func TestWizardThatAnswersAtOnceIsNotShared(t *testing.T) {
	w := &gated{gate: make(chan struct{}), claimed: true}
	typ := oneWizard(t, w)

	done := make(chan []error)
	go func() { done <- retrieveAll(typ, 2, "alice") }()
	// Both callers are inside the wizard at once: nothing made the second wait for the
	// first (the wizard breaks its promise to answer at once, to make that visible).
	require.Eventually(t, func() bool { return w.inside.Load() == 2 }, 5*time.Second, time.Millisecond)
	close(w.gate)
	for _, err := range <-done {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 2, w.calls.Load())
}

// nowWrapper is a user's middleware over a wizard that answers at once: it implements
// Retrieve and Unwrap only, and may wait (here, for its gate).
type nowWrapper struct {
	next sorcery.Wizard
	gate chan struct{}
}

func (w nowWrapper) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	select {
	case <-w.gate:
	case <-ctx.Done():
		return sorcery.Record{}, false, context.Cause(ctx)
	}
	return w.next.Retrieve(ctx, id)
}

func (w nowWrapper) Unwrap() sorcery.Wizard { return w.next }

func TestWrapperOfAWizardThatAnswersAtOnceIsShared(t *testing.T) {
	inner := memory.New()
	inner.Put(rec("alice"))
	gate := make(chan struct{})
	typ := oneWizard(t, nowWrapper{next: inner, gate: gate})

	const n = 8
	done := make(chan []error)
	go func() { done <- retrieveAll(typ, n, "alice") }()
	time.Sleep(20 * time.Millisecond) // the callers reach the wrapper, or the walk they share
	close(gate)
	for _, err := range <-done {
		assert.NoError(t, err)
	}
	// The first caller may have left the wrapper before the last one came; what matters is
	// that callers waiting for it shared its walk.
	assert.Less(t, inner.Calls().Retrieve, int64(n), "callers arriving while the wrapper waited shared its walk")
}

func TestRetrievalFromMemoryRegistersNothing(t *testing.T) {
	w := memory.New()
	w.Put(rec("alice", "context", "internal", "allow", "ulaw", "allow", "alaw"))
	typ := oneWizard(t, w)
	ctx := context.Background()
	byHand := testing.AllocsPerRun(100, func() {
		r, _, _ := w.Retrieve(ctx, "alice")
		if _, err := typ.Codec().Decode(r); err != nil {
			t.Fatal(err)
		}
	})
	walked := testing.AllocsPerRun(100, func() {
		if _, _, err := typ.Retrieve(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, byHand, walked, "a retrieval from memory allocates what its wizard and codec allocate: no call record")
}

func TestCloseWhileRetrievingFromMemory(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	w := memory.New()
	w.Put(rec("alice"))
	require.NoError(t, typ.AddWizard("memory", w, nil))
	var wg sync.WaitGroup
	var closed atomic.Bool
	for range 4 {
		wg.Go(func() {
			for i := 0; i < 1_000_000 && !closed.Load(); i++ {
				_, found, err := typ.Retrieve(context.Background(), "alice")
				if err != nil {
					assert.ErrorIs(t, err, errors.ErrClosed)
					return
				}
				if !assert.True(t, found) {
					return
				}
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, s.Close())
	closed.Store(true)
	wg.Wait()
	_, _, err = typ.Retrieve(context.Background(), "alice")
	assert.ErrorIs(t, err, errors.ErrClosed)
}

// overriding is a user's wizard that embeds the memory wizard and changes its Retrieve: it
// inherits RetrieveNow, which must not bypass that Retrieve.
type overriding struct {
	*memory.Wizard
	gate  chan struct{}
	calls atomic.Int32
}

func (o *overriding) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	o.calls.Add(1)
	select {
	case <-o.gate:
	case <-ctx.Done():
		return sorcery.Record{}, false, context.Cause(ctx)
	}
	return o.Wizard.Retrieve(ctx, id)
}

func TestEmbeddedWizardThatChangesRetrieveIsAskedThroughIt(t *testing.T) {
	o := &overriding{Wizard: memory.New(), gate: make(chan struct{})}
	o.Put(rec("alice"))
	typ := oneWizard(t, o)

	const n = 8
	done := make(chan []error)
	go func() { done <- retrieveAll(typ, n, "alice") }()
	require.Eventually(t, func() bool { return o.calls.Load() >= 1 }, 5*time.Second, time.Millisecond,
		"the walk goes through the wizard's own Retrieve")
	time.Sleep(20 * time.Millisecond) // the others join it
	close(o.gate)
	for _, err := range <-done {
		assert.NoError(t, err)
	}
	assert.Less(t, o.calls.Load(), int32(n), "callers arriving while its Retrieve waited shared the walk")
}
