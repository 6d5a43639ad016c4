package sorcery_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

type Endpoint struct {
	ID          string            `sorcery:"id"`
	Context     string            `sorcery:"context,default=default"`
	Allow       []string          `sorcery:"allow"`
	DirectMedia bool              `sorcery:"direct_media,default=yes"`
	Extended    map[string]string `sorcery:"@"`
}

func rec(id string, kv ...string) sorcery.Record {
	r := sorcery.Record{ID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Fields.Add(kv[i], kv[i+1])
	}
	return r
}

// chain builds a sorcery with an endpoint type over the given memory wizards, named w1, w2, …
func chain(t *testing.T, ws ...*memory.Wizard) (*sorcery.Sorcery, *sorcery.Type[Endpoint]) {
	t.Helper()
	s := sorcery.New(nil)
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	for i, w := range ws {
		require.NoError(t, typ.AddWizard(fmt.Sprintf("w%d", i+1), w, nil))
	}
	return s, typ
}

func TestChainFailover(t *testing.T) {
	down := fmt.Errorf("connection refused: %w", errors.ErrUnavailable)
	cases := []struct {
		name      string
		setup     func(w1, w2 *memory.Wizard)
		wantFound bool
		wantErr   error
		wantWiz   string // the wizard a WizardError must name
	}{
		{
			name: "first fails, second has it",
			setup: func(w1, w2 *memory.Wizard) {
				w1.SetError(down)
				w2.Put(rec("alice", "context", "from-w2"))
			},
			wantFound: true,
		},
		{
			name: "first fails, second lacks it",
			setup: func(w1, w2 *memory.Wizard) {
				w1.SetError(down)
			},
			wantErr: errors.ErrUnavailable,
			wantWiz: "w1",
		},
		{
			name:  "none has it, none fails",
			setup: func(w1, w2 *memory.Wizard) {},
		},
		{
			name: "first has it, second fails",
			setup: func(w1, w2 *memory.Wizard) {
				w1.Put(rec("alice", "context", "from-w1"))
				w2.SetError(down)
			},
			wantFound: true,
		},
		{
			name: "first lacks it, second has it",
			setup: func(w1, w2 *memory.Wizard) {
				w2.Put(rec("alice", "context", "from-w2"))
			},
			wantFound: true,
		},
		{
			name: "both fail",
			setup: func(w1, w2 *memory.Wizard) {
				w1.SetError(down)
				w2.SetError(fmt.Errorf("timeout: %w", errors.ErrUnavailable))
			},
			wantErr: errors.ErrUnavailable,
			wantWiz: "w2",
		},
		{
			name: "first returns an undecodable record, second has it",
			setup: func(w1, w2 *memory.Wizard) {
				w1.Put(rec("alice", "direct_media", "maybe"))
				w2.Put(rec("alice", "context", "from-w2"))
			},
			wantFound: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w1, w2 := memory.New(), memory.New()
			tc.setup(w1, w2)
			_, typ := chain(t, w1, w2)
			ep, found, err := typ.Retrieve(t.Context(), "alice")
			assert.Equal(t, tc.wantFound, found, "found")
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
				var we *errors.WizardError
				require.ErrorAs(t, err, &we)
				assert.Equal(t, "endpoint", we.Type)
				assert.Equal(t, "retrieve", we.Op)
				assert.Equal(t, "alice", we.ID)
				assert.Contains(t, err.Error(), "wizard "+tc.wantWiz, "the error names the failing wizard")
			}
			if found {
				assert.Equal(t, "alice", ep.ID)
				assert.Contains(t, []string{"from-w1", "from-w2"}, ep.Context)
			} else {
				assert.Zero(t, ep)
			}
		})
	}
}

func TestDegradedFindMarksTypeDegraded(t *testing.T) {
	w1, w2 := memory.New(), memory.New()
	w1.SetError(errors.ErrUnavailable)
	w2.Put(rec("alice"))
	s, typ := chain(t, w1, w2)
	_, found, err := typ.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.True(t, s.Stats().Types[0].Degraded, "found after a failure")

	w1.SetError(nil)
	_, _, err = typ.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.False(t, s.Stats().Types[0].Degraded, "the source recovered")
}

func TestConcurrentRetrievalsShareOneWalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := memory.New()
		w.Put(rec("alice"))
		w.SetDelay(50 * time.Millisecond)
		_, typ := chain(t, w)
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				ep, found, err := typ.Retrieve(t.Context(), "alice")
				if err != nil || !found || ep.ID != "alice" {
					t.Errorf("Retrieve = %v, %v, %v", ep, found, err)
				}
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, w.Calls().Retrieve, "1,000 concurrent retrievals of one id")
	})
}

func TestRetrieveHonoursCallerContextWhileSharing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := memory.New()
		w.Put(rec("alice"))
		w.SetDelay(time.Second)
		_, typ := chain(t, w)
		var wg sync.WaitGroup
		wg.Go(func() {
			_, found, err := typ.Retrieve(t.Context(), "alice")
			assert.NoError(t, err)
			assert.True(t, found, "the patient caller gets the object")
		})
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, found, err := typ.Retrieve(ctx, "alice")
		assert.False(t, found)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 10*time.Millisecond, time.Since(start), "the impatient caller returns at its deadline")
		wg.Wait()
		assert.EqualValues(t, 1, w.Calls().Retrieve)
	})
}

func TestRetrieveWithoutWizardsIsAnError(t *testing.T) {
	_, typ := chain(t)
	_, found, err := typ.Retrieve(t.Context(), "alice")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}

func TestSearchIsSortedUnionFirstWizardWins(t *testing.T) {
	w1, w2, w3 := memory.New(), memory.New(), memory.New()
	w1.Put(rec("carol", "context", "w1"), rec("alice", "context", "w1"))
	w2.Put(rec("alice", "context", "w2"), rec("bob", "context", "w2"))
	w3.Put(rec("dave", "context", "w3"))
	_, typ := chain(t, w1, w2, w3)
	got, err := typ.Search(t.Context(), sorcery.Query{})
	require.NoError(t, err)
	var summary []string
	for _, e := range got {
		summary = append(summary, e.ID+"@"+e.Context)
	}
	assert.Equal(t, []string{"alice@w1", "bob@w2", "carol@w1", "dave@w3"}, summary)

	got, err = typ.Search(t.Context(), sorcery.Query{IDPrefix: "a"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "w1", got[0].Context)
}

func TestSearchWithAFailingWizardReturnsPartialResultAndError(t *testing.T) {
	w1, w2 := memory.New(), memory.New()
	w1.SetError(errors.ErrUnavailable)
	w2.Put(rec("bob"))
	_, typ := chain(t, w1, w2)
	got, err := typ.Search(t.Context(), sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnavailable, "an incomplete search says so")
	var we *errors.WizardError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, "w1", we.Wizard)
	require.Len(t, got, 1)
	assert.Equal(t, "bob", got[0].ID)
}

func TestSearchRejectsBadRegex(t *testing.T) {
	_, typ := chain(t, memory.New())
	_, err := typ.Search(t.Context(), sorcery.Query{IDRegex: "(("})
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

type retrieveOnly struct{ sorcery.Wizard }

func TestSearchWithoutSearcherIsUnsupported(t *testing.T) {
	_, typ := chain(t)
	require.NoError(t, typ.AddWizard("plain", retrieveOnly{memory.New()}, nil))
	_, err := typ.Search(t.Context(), sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}

func TestWritesGoToEveryWritableWizard(t *testing.T) {
	w1, w2, ro := memory.New(), memory.New(), memory.New()
	_, typ := chain(t, w1, w2)
	require.NoError(t, typ.AddWizard("ro", ro, &sorcery.MappingOptions{ReadOnly: true}))
	ctx := t.Context()

	require.NoError(t, typ.Create(ctx, Endpoint{ID: "alice", Context: "c1", DirectMedia: true}))
	assert.Equal(t, 1, w1.Len())
	assert.Equal(t, 1, w2.Len())
	assert.Equal(t, 0, ro.Len(), "a read-only mapping is never written")
	assert.EqualValues(t, 0, ro.Calls().Create)

	require.NoError(t, typ.Update(ctx, Endpoint{ID: "alice", Context: "c2"}))
	r, _, _ := w2.Retrieve(ctx, "alice")
	assert.Equal(t, "c2", r.Fields.Value("context"))

	// One wizard failing does not fail the write.
	w1.SetError(errors.ErrUnavailable)
	require.NoError(t, typ.Update(ctx, Endpoint{ID: "alice", Context: "c3"}))
	r, _, _ = w2.Retrieve(ctx, "alice")
	assert.Equal(t, "c3", r.Fields.Value("context"))

	// All failing returns every error.
	w2.SetError(fmt.Errorf("disk full"))
	err := typ.Create(ctx, Endpoint{ID: "bob"})
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorContains(t, err, "disk full")
	w1.SetError(nil)
	w2.SetError(nil)

	assert.ErrorIs(t, typ.Create(ctx, Endpoint{ID: "alice"}), errors.ErrExists)
	assert.ErrorIs(t, typ.Update(ctx, Endpoint{ID: "ghost"}), errors.ErrNotFound)
	require.NoError(t, typ.Delete(ctx, "alice"))
	assert.Equal(t, 0, w2.Len())
	assert.ErrorIs(t, typ.Delete(ctx, "alice"), errors.ErrNotFound)
	assert.ErrorIs(t, typ.Create(ctx, Endpoint{}), errors.ErrInvalid, "an empty id")
}

func TestWriteToReadOnlyChainIsErrReadOnly(t *testing.T) {
	_, typ := chain(t)
	require.NoError(t, typ.AddWizard("ro", memory.New(), &sorcery.MappingOptions{ReadOnly: true}))
	require.NoError(t, typ.AddWizard("plain", retrieveOnly{memory.New()}, nil))
	assert.ErrorIs(t, typ.Create(t.Context(), Endpoint{ID: "alice"}), errors.ErrReadOnly)
	assert.ErrorIs(t, typ.Delete(t.Context(), "alice"), errors.ErrReadOnly)
}

func TestObserversAreToldInOrder(t *testing.T) {
	_, typ := chain(t, memory.New())
	var mu sync.Mutex
	var events []string
	add := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	cancel := typ.Observe(sorcery.Observer[Endpoint]{
		Created: func(e Endpoint) { add("created " + e.ID + " " + e.Context) },
		Updated: func(e Endpoint) { add("updated " + e.ID + " " + e.Context) },
		Deleted: func(e Endpoint) { add("deleted " + e.ID) },
	})
	ctx := t.Context()
	for i := range 50 {
		id := fmt.Sprintf("ep%02d", i)
		require.NoError(t, typ.Create(ctx, Endpoint{ID: id, Context: "a"}))
		require.NoError(t, typ.Update(ctx, Endpoint{ID: id, Context: "b"}))
		require.NoError(t, typ.Delete(ctx, id))
	}
	typ.Flush()
	mu.Lock()
	require.Len(t, events, 150)
	for i := range 50 {
		id := fmt.Sprintf("ep%02d", i)
		assert.Equal(t, []string{"created " + id + " a", "updated " + id + " b", "deleted " + id}, events[3*i:3*i+3])
	}
	mu.Unlock()

	cancel()
	require.NoError(t, typ.Create(ctx, Endpoint{ID: "late"}))
	typ.Flush()
	mu.Lock()
	assert.Len(t, events, 150, "a cancelled observer hears nothing more")
	mu.Unlock()
}

func TestObserverMayCallBackIntoTheType(t *testing.T) {
	_, typ := chain(t, memory.New())
	got := make(chan bool, 1)
	typ.Observe(sorcery.Observer[Endpoint]{Created: func(e Endpoint) {
		// Calling the type from an observer must not deadlock: no lock is held.
		_, found, err := typ.Retrieve(context.Background(), e.ID)
		got <- found && err == nil
	}})
	require.NoError(t, typ.Create(t.Context(), Endpoint{ID: "alice"}))
	assert.True(t, <-got)
}

func TestReloadCallsReloadersAndTellsObservers(t *testing.T) {
	w1, w2 := memory.New(), memory.New()
	s, typ := chain(t, w1, w2)
	loaded := make(chan struct{}, 1)
	typ.Observe(sorcery.Observer[Endpoint]{Loaded: func() { loaded <- struct{}{} }})
	w2.SetError(errors.ErrUnavailable)
	err := s.Reload(t.Context())
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorContains(t, err, "wizard w2")
	assert.EqualValues(t, 1, w1.Calls().Reload)
	assert.EqualValues(t, 1, w2.Calls().Reload)
	<-loaded
}

func TestCloseIsIdempotentAndClosesWizards(t *testing.T) {
	w := memory.New()
	s, typ := chain(t, w)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), errors.ErrClosed)
	_, _, err := typ.Retrieve(t.Context(), "alice")
	assert.ErrorIs(t, err, errors.ErrClosed)
	_, _, err = w.Retrieve(t.Context(), "alice")
	assert.ErrorIs(t, err, errors.ErrClosed, "the sorcery owns and closes its wizards")
	assert.ErrorIs(t, typ.AddWizard("late", memory.New(), nil), errors.ErrClosed)
	_, err = sorcery.Register[Endpoint](s, "aor", nil)
	assert.ErrorIs(t, err, errors.ErrClosed)
}

func TestRegisterRejectsBadTypes(t *testing.T) {
	s := sorcery.New(nil)
	defer s.Close()
	_, err := sorcery.Register[Endpoint](s, "", nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = sorcery.Register[Endpoint](s, "endpoint/cache", nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	_, err = sorcery.Register[Endpoint](s, "endpoint", nil)
	assert.ErrorIs(t, err, errors.ErrExists)
	_, err = sorcery.Register[int](s, "number", nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestAddWizardRejectsDuplicateNames(t *testing.T) {
	_, typ := chain(t, memory.New())
	assert.ErrorIs(t, typ.AddWizard("w1", memory.New(), nil), errors.ErrExists)
	assert.ErrorIs(t, typ.AddWizard("", memory.New(), nil), errors.ErrInvalid)
	assert.ErrorIs(t, typ.AddWizard("x", nil, nil), errors.ErrInvalid)
}
