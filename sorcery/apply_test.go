package sorcery_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestApplyOpensWizardsThroughFactories(t *testing.T) {
	var gotType, gotData string
	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{
		"memory": memory.Factory(),
		"probe": func(typeName, data string) (sorcery.Wizard, error) {
			gotType, gotData = typeName, data
			return memory.New(), nil
		},
		"broken": func(typeName, data string) (sorcery.Wizard, error) {
			return nil, errors.New("sorcery: cannot open")
		},
	}})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)

	require.NoError(t, s.Apply("endpoint", "memory", ""))
	require.NoError(t, s.Apply("endpoint", "probe", "pjsip.conf,criteria=type=endpoint"))
	err = s.Apply("endpoint", "memory", "")
	var dup *sorcery.DuplicateMappingError
	require.ErrorAs(t, err, &dup, "main/sorcery.c refuses a wizard the type already has")
	assert.ErrorIs(t, err, errors.ErrExists)
	assert.Equal(t, sorcery.DuplicateMappingError{Type: "endpoint", Wizard: "memory"}, *dup)
	assert.Equal(t, "endpoint", gotType)
	assert.Equal(t, "pjsip.conf,criteria=type=endpoint", gotData)

	var names []string
	for _, w := range s.Stats().Types[0].Wizards {
		names = append(names, w.Name)
	}
	assert.Equal(t, []string{"memory", "probe"}, names, "wizards are named after their kind; the duplicate was not added")

	require.NoError(t, typ.Create(t.Context(), Endpoint{ID: "alice"}))
	_, found, err := typ.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.True(t, found)

	err = s.Apply("endpoint", "nosuch", "")
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, `unknown wizard "nosuch"`)
	err = s.Apply("aor", "memory", "")
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, `unknown object type "aor"`)
	err = s.Apply("endpoint", "broken", "x")
	assert.ErrorContains(t, err, "cannot open")
	err = s.Apply("endpoint/cache", "memory", "")
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestStatsCountCallsByOperationAndOutcome(t *testing.T) {
	var events []sorcery.WizardCallEvent
	s := sorcery.New(&sorcery.Options{Hooks: sorcery.Hooks{
		WizardCall: func(e sorcery.WizardCallEvent) { events = append(events, e) },
	}})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	w := memory.New()
	require.NoError(t, typ.AddWizard("mem", w, nil))
	ctx := t.Context()

	require.NoError(t, typ.Create(ctx, Endpoint{ID: "alice"}))
	typ.Retrieve(ctx, "alice")
	typ.Retrieve(ctx, "alice")
	typ.Retrieve(ctx, "nobody")
	w.SetError(errors.ErrUnavailable)
	typ.Retrieve(ctx, "alice")
	typ.Search(ctx, sorcery.Query{})

	st := s.Stats()
	require.Len(t, st.Types, 1)
	ts := st.Types[0]
	assert.Equal(t, "endpoint", ts.Name)
	assert.True(t, ts.Degraded)
	require.Len(t, ts.Wizards, 1)
	ws := ts.Wizards[0]
	assert.Equal(t, "mem", ws.Name)
	byOp := map[sorcery.Operation]sorcery.OperationStats{}
	for _, o := range ws.Operations {
		byOp[o.Operation] = o
	}
	assert.Len(t, byOp, 3, "only operations that were called: %v", byOp)
	r := byOp[sorcery.OperationRetrieve]
	assert.EqualValues(t, 2, r.Found)
	assert.EqualValues(t, 1, r.NotFound)
	assert.EqualValues(t, 1, r.Errors)
	assert.EqualValues(t, 4, r.Latency.Count)
	var inBuckets uint64
	for _, n := range r.Latency.Buckets {
		inBuckets += n
	}
	assert.EqualValues(t, 4, inBuckets, "memory calls are all under the first bound")
	assert.EqualValues(t, 1, byOp[sorcery.OperationCreate].OK)
	assert.EqualValues(t, 1, byOp[sorcery.OperationSearch].Errors)

	require.Len(t, events, 6)
	assert.Equal(t, sorcery.WizardCallEvent{
		Type: "endpoint", Wizard: "mem", Operation: sorcery.OperationRetrieve,
		Outcome: sorcery.OutcomeNotFound, ID: "nobody", Duration: events[3].Duration,
	}, events[3])
	assert.Equal(t, sorcery.OutcomeError, events[4].Outcome)
	assert.ErrorIs(t, events[4].Err, errors.ErrUnavailable)
	assert.Equal(t, "retrieve", sorcery.OperationRetrieve.String())
	assert.Equal(t, "not_found", sorcery.OutcomeNotFound.String())
}

func TestLatencyBucketsAreIncreasing(t *testing.T) {
	b := sorcery.LatencyBuckets()
	for i := 1; i < len(b); i++ {
		assert.Greater(t, b[i], b[i-1])
	}
	assert.Equal(t, 10*time.Second, b[len(b)-1])
	b[0] = time.Hour
	assert.Equal(t, 100*time.Microsecond, sorcery.LatencyBuckets()[0], "a copy")
}
