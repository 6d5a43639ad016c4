package sorcery

import (
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

func TestFastHealthyWizardIsTimedOneRetrievalInSixteen(t *testing.T) {
	var c wizardCounters
	if w, _ := c.retrievalWeight(false); w != 1 {
		t.Fatalf("a wizard never timed: weight %d, want 1 (timed)", w)
	}
	c.record(OperationRetrieve, OutcomeFound, time.Now(), time.Microsecond, nil, 1)
	const draws = 16000
	timed := 0
	var stripes [retrievalStripes]int
	for range draws {
		switch w, stripe := c.retrievalWeight(false); w {
		case 0:
			stripes[stripe]++
			c.countRetrieval(stripe, OutcomeFound, nil)
		case sampleEvery:
			timed++
		default:
			t.Fatalf("weight %d, want 0 or %d", w, sampleEvery)
		}
	}
	// 1000 expected; the standard deviation is about 31.
	if timed < 800 || timed > 1200 {
		t.Fatalf("%d of %d draws timed, want about %d", timed, draws, draws/sampleEvery)
	}
	if w, _ := c.retrievalWeight(true); w != 1 {
		t.Fatalf("with a hook: weight %d, want 1", w)
	}
	// The untimed calls are spread over the stripes (about 1,875 each), and counted once
	// each, whichever stripe counted them.
	for i, n := range stripes {
		if n < 1500 || n > 2250 {
			t.Fatalf("stripe %d counted %d of %d untimed calls", i, n, draws-timed)
		}
	}
	if found := c.snapshot("w").Operations[0].Found; found != uint64(draws-timed)+1 {
		t.Fatalf("found %d, want %d", found, draws-timed+1)
	}
}

func TestSlowOrFailingWizardIsTimedEveryRetrieval(t *testing.T) {
	var c wizardCounters
	c.record(OperationRetrieve, OutcomeFound, time.Now(), time.Millisecond, nil, 1)
	for range 100 {
		if w, _ := c.retrievalWeight(false); w != 1 {
			t.Fatalf("slow wizard: weight %d, want 1", w)
		}
	}
	c.record(OperationRetrieve, OutcomeFound, time.Now(), time.Microsecond, nil, 1)
	c.countRetrieval(3, OutcomeError, errors.ErrUnavailable)
	for range 100 {
		if w, _ := c.retrievalWeight(false); w != 1 {
			t.Fatalf("failing wizard: weight %d, want 1", w)
		}
	}
}

func TestRecordWeighsTheHistogram(t *testing.T) {
	var c wizardCounters
	c.record(OperationRetrieve, OutcomeFound, time.Now(), 3*time.Microsecond, nil, sampleEvery)
	st := c.snapshot("w")
	h := st.Operations[0].Latency
	if h.Count != sampleEvery || h.Buckets[0] != sampleEvery || h.Sum != sampleEvery*3*time.Microsecond {
		t.Fatalf("histogram %+v, want %d calls of 3µs", h, sampleEvery)
	}
	if st.Operations[0].Found != 1 {
		t.Fatalf("found %d, want 1: outcomes count calls, not weights", st.Operations[0].Found)
	}
}
