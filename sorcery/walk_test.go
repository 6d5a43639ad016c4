package sorcery_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// positions are the chains of two wizards, A and B, and one cache that the walk's tests run
// over: the cache first, between the wizards, and last.
var positions = [][]string{
	{"cache", "A", "B"},
	{"A", "cache", "B"},
	{"A", "B", "cache"},
}

// positioned builds an endpoint type whose chain is layers ("cache", "A", "B") in order,
// and returns the type and the wizards by name.
func positioned(t *testing.T, layers []string, opts *cache.Options) (*sorcery.Type[Endpoint], map[string]*memory.Wizard) {
	t.Helper()
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	ws := map[string]*memory.Wizard{}
	for _, name := range layers {
		if name == "cache" {
			require.NoError(t, typ.AddCache(opts))
			continue
		}
		ws[name] = memory.New()
		require.NoError(t, typ.AddWizard(name, ws[name], nil))
	}
	return typ, ws
}

// behind returns the wizards of layers after the cache.
func behind(layers []string) []string {
	for i, l := range layers {
		if l == "cache" {
			return layers[i+1:]
		}
	}
	return nil
}

// wizardErrors counts the *errors.WizardError naming wizard in err's tree.
func wizardErrors(err error, wizard string) int {
	if err == nil {
		return 0
	}
	n := 0
	if we, ok := err.(*errors.WizardError); ok && we.Wizard == wizard {
		n++
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			n += wizardErrors(e, wizard)
		}
	case interface{ Unwrap() error }:
		n += wizardErrors(u.Unwrap(), wizard)
	}
	return n
}

func TestMissAsksEachWizardOnceWhereverTheCacheStands(t *testing.T) {
	for _, layers := range positions {
		t.Run(strings.Join(layers, ","), func(t *testing.T) {
			typ, ws := positioned(t, layers, nil)
			ws["B"].Put(rec("alice", "context", "from-B"))

			ep, found, err := typ.Retrieve(t.Context(), "alice")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, "from-B", ep.Context)
			for name, w := range ws {
				assert.EqualValues(t, 1, w.Calls().Retrieve, "wizard %s: a miss found in B asks it once", name)
				w.ResetCalls()
			}

			_, found, err = typ.Retrieve(t.Context(), "ghost")
			require.NoError(t, err)
			require.False(t, found)
			for name, w := range ws {
				assert.EqualValues(t, 1, w.Calls().Retrieve, "wizard %s: a miss found nowhere asks it once", name)
			}
		})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestFailingWizardIsAskedOnceAndReportedOnce(t *testing.T) {
	for _, layers := range positions {
		t.Run(strings.Join(layers, ","), func(t *testing.T) {
			typ, ws := positioned(t, layers, nil)
			ws["A"].SetError(fmt.Errorf("connection refused: %w", errors.ErrUnavailable))

			_, found, err := typ.Retrieve(t.Context(), "alice")
			assert.False(t, found)
			require.ErrorIs(t, err, errors.ErrUnavailable, "not found while A failed is an error")
			assert.Equal(t, 1, wizardErrors(err, "A"), "A's WizardError appears once in %v", err)
			assert.Zero(t, wizardErrors(err, "B"))
			assert.EqualValues(t, 1, ws["A"].Calls().Retrieve, "A is asked once")
			assert.EqualValues(t, 1, ws["B"].Calls().Retrieve, "B is asked once")
			assert.Equal(t, 1, strings.Count(err.Error(), `wizard "A"`)+strings.Count(err.Error(), "wizard A"), "the message names A once: %v", err)
		})
	}
}

func TestObjectFoundBehindTheCacheIsThenServedByIt(t *testing.T) {
	for _, layers := range positions {
		t.Run(strings.Join(layers, ","), func(t *testing.T) {
			typ, ws := positioned(t, layers, nil)
			ws["B"].Put(rec("alice", "context", "from-B"))
			_, found, err := typ.Retrieve(t.Context(), "alice")
			require.NoError(t, err)
			require.True(t, found)
			v, cached := typ.Cache().Peek("alice")
			require.True(t, cached, "the object is stored in the cache")
			assert.Equal(t, "from-B", v.Context)

			for _, w := range ws {
				w.ResetCalls()
			}
			ep, found, err := typ.Retrieve(t.Context(), "alice")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, "from-B", ep.Context)
			for name, w := range ws {
				want := int64(1) // a wizard before the cache is still asked first
				if contains(behind(layers), name) {
					want = 0
				}
				assert.EqualValues(t, want, w.Calls().Retrieve, "wizard %s", name)
			}

			// With every wizard down, the cache answers wherever it stands.
			for _, w := range ws {
				w.SetError(errors.ErrUnavailable)
			}
			ep, found, err = typ.Retrieve(t.Context(), "alice")
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, "from-B", ep.Context)
		})
	}
}

// TestDegradedAnswerLeavesTheSameCacheStateEverywhere finds alice in B while A fails, and
// checks that the cache then holds it living on an extension — served without asking
// anyone until ErrorRecheck, then refreshed from A — whatever the cache's position.
func TestDegradedAnswerLeavesTheSameCacheStateEverywhere(t *testing.T) {
	for _, layers := range positions {
		t.Run(strings.Join(layers, ","), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour, ErrorRecheck: time.Minute}
				typ, ws := positioned(t, layers, opts)
				ws["A"].SetError(errors.ErrUnavailable)
				ws["A"].Put(rec("alice", "context", "from-A"))
				ws["B"].Put(rec("alice", "context", "from-B"))
				ctx := t.Context()

				ep, found, err := typ.Retrieve(ctx, "alice")
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, "from-B", ep.Context, "served by the fallback")

				c := typ.Cache()
				st := c.Stats()
				assert.Equal(t, 1, st.Objects, "cached")
				assert.Equal(t, 1, st.Extended, "living on an extension")
				v, _ := c.Peek("alice")
				assert.Equal(t, "from-B", v.Context)

				// Before ErrorRecheck: served by the cache without a refresh.
				ws["A"].SetError(nil)
				for _, w := range ws {
					w.ResetCalls()
				}
				time.Sleep(59 * time.Second)
				_, found, err = c.Get(ctx, "alice")
				require.NoError(t, err)
				require.True(t, found)
				synctest.Wait()
				assert.Zero(t, ws["A"].Calls().Retrieve+ws["B"].Calls().Retrieve, "no refresh before ErrorRecheck")

				// After it: the next read refreshes it from the preferred source.
				time.Sleep(2 * time.Second)
				_, _, err = c.Get(ctx, "alice")
				require.NoError(t, err)
				synctest.Wait()
				v, _ = c.Peek("alice")
				assert.Equal(t, "from-A", v.Context, "re-checked after ErrorRecheck")
				assert.Zero(t, c.Stats().Extended)
			})
		})
	}
}

func TestRefreshAsksWizardsInOrderCachesSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		typ, ws := positioned(t, []string{"A", "cache", "B"}, &cache.Options{LifetimeStale: time.Minute})
		ws["B"].Put(rec("alice", "context", "v1"))
		ctx := t.Context()
		_, found, err := typ.Retrieve(ctx, "alice")
		require.NoError(t, err)
		require.True(t, found)

		ws["B"].Put(rec("alice", "context", "v2"))
		time.Sleep(time.Minute + time.Second)
		ws["A"].ResetCalls()
		ws["B"].ResetCalls()
		ep, _, _ := typ.Retrieve(ctx, "alice") // A, then the stale hit queues the refresh
		assert.Equal(t, "v1", ep.Context, "a stale hit is served at once")
		synctest.Wait()
		assert.EqualValues(t, 2, ws["A"].Calls().Retrieve, "the walk and the refresh each ask A once")
		assert.EqualValues(t, 1, ws["B"].Calls().Retrieve, "the refresh asks B")
		v, _ := typ.Cache().Peek("alice")
		assert.Equal(t, "v2", v.Context)
	})
}

func TestFoundObjectIsPushedToEveryCache(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	a, b := memory.New(), memory.New()
	require.NoError(t, typ.AddCache(&cache.Options{Name: "front"}))
	require.NoError(t, typ.AddWizard("A", a, nil))
	require.NoError(t, typ.AddCache(&cache.Options{Name: "back"}))
	require.NoError(t, typ.AddWizard("B", b, nil))
	a.Put(rec("alice"))
	_, found, err := typ.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	require.True(t, found)
	for _, cs := range s.Stats().Types[0].Caches {
		assert.Equal(t, 1, cs.Objects, "cache %s holds alice", cs.Name)
	}
	assert.EqualValues(t, 0, b.Calls().Retrieve, "B is behind the answer")
}

func TestNegativeAnswerAfterAFailureIsAnError(t *testing.T) {
	typ, ws := positioned(t, []string{"A", "cache", "B"}, &cache.Options{NegativeLifetime: time.Hour})
	_, found, err := typ.Retrieve(t.Context(), "ghost")
	require.NoError(t, err)
	require.False(t, found)
	ws["A"].SetError(errors.ErrUnavailable)
	_, found, err = typ.Retrieve(t.Context(), "ghost")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable, "a remembered absence is no answer while a wizard before it fails")
	assert.EqualValues(t, 1, ws["B"].Calls().Retrieve, "the cache answered for B")
}

func TestFullBackendCacheAnswersInTheWalk(t *testing.T) {
	typ, ws := positioned(t, []string{"A", "cache", "B"}, &cache.Options{FullBackend: true})
	ws["B"].Put(rec("alice"))
	_, found, err := typ.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.True(t, found)
	_, found, err = typ.Retrieve(t.Context(), "ghost")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Zero(t, ws["B"].Calls().Retrieve, "the whole set answers for B")

	// A set that cannot be loaded leaves the answer to the wizards behind it.
	typ2, ws2 := positioned(t, []string{"cache", "A", "B"}, &cache.Options{FullBackend: true})
	ws2["B"].Put(rec("alice"))
	ws2["A"].SetError(errors.ErrUnavailable)
	_, found, err = typ2.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.True(t, found, "found by B although the set could not be loaded")
	_, found, err = typ2.Retrieve(t.Context(), "ghost")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.Equal(t, 1, wizardErrors(err, "A"))
}

// TestCloseStopsACoalescedWalkThroughAHangingWizard closes the sorcery while many
// retrievals share one walk stuck in a wizard that does not answer for an hour.
func TestCloseStopsACoalescedWalkThroughAHangingWizard(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	w := memory.New()
	w.Put(rec("alice"))
	w.SetDelay(time.Hour)
	require.NoError(t, typ.AddWizard("hanging", w, nil))

	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, _, err := typ.Retrieve(context.Background(), "alice")
			errs <- err
		})
	}
	require.Eventually(t, func() bool { return w.Calls().Retrieve == 1 }, 5*time.Second, time.Millisecond, "the walk reaches the wizard")
	time.Sleep(10 * time.Millisecond) // the others join it

	start := time.Now()
	require.NoError(t, s.Close())
	assert.Less(t, time.Since(start), time.Second, "Close returns promptly")
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, errors.ErrClosed)
	}
	assert.EqualValues(t, 1, w.Calls().Retrieve, "one walk for all")
}

func TestCloseClosesCachesBeforeWizards(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddCache(nil))
	c := typ.Cache()
	var cacheClosedFirst bool
	require.NoError(t, typ.AddWizard("A", closeNoter{memory.New(), func() {
		_, _, err := c.Get(context.Background(), "x")
		cacheClosedFirst = errors.Is(err, errors.ErrClosed)
	}}, nil))
	require.NoError(t, s.Close())
	assert.True(t, cacheClosedFirst, "the cache (and its refreshes) stopped before the wizard closed")
}

// closeNoter is a wizard that calls closed when it is closed.
type closeNoter struct {
	*memory.Wizard
	closed func()
}

func (c closeNoter) Close() error {
	c.closed()
	return c.Wizard.Close()
}
