package sorcery_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// retrievals returns the retrieval counters of the only wizard of the only type of s.
func retrievals(t *testing.T, s *sorcery.Sorcery) sorcery.OperationStats {
	t.Helper()
	st := s.Stats()
	require.Len(t, st.Types, 1)
	require.Len(t, st.Types[0].Wizards, 1)
	for _, o := range st.Types[0].Wizards[0].Operations {
		if o.Operation == sorcery.OperationRetrieve {
			return o
		}
	}
	t.Fatal("no retrievals counted")
	return sorcery.OperationStats{}
}

func bucketSum(h sorcery.Histogram) uint64 {
	var n uint64
	for _, b := range h.Buckets {
		n += b
	}
	return n
}

// aliceType registers Endpoint on a new Sorcery, closed when the test ends, with w as its
// only wizard, holding alice. Inside a synctest bubble it must be called from the bubble's
// goroutine.
func aliceType(t *testing.T, w *memory.Wizard) (*sorcery.Sorcery, *sorcery.Type[Endpoint]) {
	t.Helper()
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	w.Put(rec("alice"))
	require.NoError(t, typ.AddWizard("mem", w, nil))
	return s, typ
}

func TestLatencyOfFastRetrievalsIsSampledAndScaled(t *testing.T) {
	s, typ := aliceType(t, memory.New())
	const calls = 16 * 400
	for range calls {
		_, found, err := typ.Retrieve(t.Context(), "alice")
		require.True(t, found)
		require.NoError(t, err)
	}
	r := retrievals(t, s)
	assert.EqualValues(t, calls, r.Found, "every call is counted")
	// One call in 16 is timed and counts for 16: about 400 samples, a standard deviation of
	// about 16·√375 ≈ 310 on the estimate. Far outside it, the weights are wrong (a sampled
	// histogram without them would count about 400).
	assert.InDelta(t, calls, float64(r.Latency.Count), 6*310, "estimated calls")
	assert.Equal(t, r.Latency.Count, bucketSum(r.Latency))
}

func TestLatencyOfSlowRetrievalsIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := memory.New()
		w.SetDelay(time.Millisecond)
		s, typ := aliceType(t, w)
		for range 100 {
			_, found, err := typ.Retrieve(t.Context(), "alice")
			require.True(t, found)
			require.NoError(t, err)
		}
		r := retrievals(t, s)
		assert.EqualValues(t, 100, r.Latency.Count)
		assert.Equal(t, 100*time.Millisecond, r.Latency.Sum)
		assert.EqualValues(t, 100, r.Latency.Buckets[3], "1 ms is the fourth bound")
	})
}

func TestLatencyOfAFailingWizardIsExact(t *testing.T) {
	w := memory.New()
	s, typ := aliceType(t, w)
	for range 10 { // fast: sampled from now on
		typ.Retrieve(t.Context(), "alice")
	}
	before := retrievals(t, s).Latency.Count
	w.SetError(errors.ErrUnavailable)
	for range 100 {
		_, _, err := typ.Retrieve(t.Context(), "alice")
		require.Error(t, err)
	}
	r := retrievals(t, s)
	assert.EqualValues(t, 100, r.Errors)
	// The first failure may be sampled out; from then on the wizard is failing and every
	// call is timed.
	assert.GreaterOrEqual(t, r.Latency.Count-before, uint64(99))
	ws := s.Stats().Types[0].Wizards[0]
	assert.True(t, ws.Failing())
	assert.Equal(t, "unavailable", ws.LastErrorClass)

	w.SetError(nil)
	_, found, err := typ.Retrieve(t.Context(), "alice")
	require.True(t, found)
	require.NoError(t, err)
	assert.False(t, s.Stats().Types[0].Wizards[0].Failing(), "the first success after a failure is timed and seen")
}
