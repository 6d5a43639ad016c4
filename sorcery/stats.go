package sorcery

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// Operation is what a wizard was asked to do.
type Operation uint8

// The operations of a wizard.
const (
	OperationRetrieve Operation = iota
	OperationSearch
	OperationCreate
	OperationUpdate
	OperationDelete
	OperationReload
	numOperations
)

var operationNames = [...]string{"retrieve", "search", "create", "update", "delete", "reload"}

// String returns the operation's name: "retrieve", "search", "create", "update", "delete" or
// "reload".
func (o Operation) String() string {
	if int(o) < len(operationNames) {
		return operationNames[o]
	}
	return "unknown"
}

// Outcome is how a wizard call ended.
type Outcome uint8

// The outcomes of a wizard call. A retrieval ends found, not found or in error; every other
// operation ends ok or in error.
const (
	OutcomeFound Outcome = iota
	OutcomeNotFound
	OutcomeOK
	OutcomeError
	numOutcomes
)

var outcomeNames = [...]string{"found", "not_found", "ok", "error"}

// String returns the outcome's name: "found", "not_found", "ok" or "error".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// latencyBuckets are the upper bounds of the latency histogram: see [LatencyBuckets].
var latencyBuckets = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

const numBuckets = len(latencyBuckets)

// LatencyBuckets returns the upper bounds of the latency histogram kept for every wizard and
// operation ([Histogram]), in increasing order: a fresh copy, so that they cannot be changed
// under the counters. A call slower than the last bound counts only in the histogram's
// total. Exporters (sorceryprom) label their buckets with them.
func LatencyBuckets() []time.Duration { return slices.Clone(latencyBuckets[:]) }

// Stats is a snapshot of the counters of a [Sorcery], taken by [Sorcery.Stats].
type Stats struct {
	Types []TypeStats // sorted by name
}

// TypeStats are the counters of one object type.
type TypeStats struct {
	Name string
	// Degraded reports that the type's last walk of its wizards met a failure: a cache in front
	// may be covering for an outage.
	Degraded bool
	Wizards  []WizardStats // in chain order
	Caches   []CacheStats  // in chain order
}

// WizardStats are the counters of one wizard of a type.
type WizardStats struct {
	Name       string
	Operations []OperationStats // one per operation the wizard was asked to do, in Operation order
	// LastErrorClass names the kind of the wizard's last failure, never its text (a decoding
	// error may quote a field value): "timeout" (context.DeadlineExceeded), "canceled", then
	// by the sentinel of package errors it matches: "unavailable", "invalid", "not_found",
	// "exists", "read_only", "unsupported", "closed"; "other" for anything else. Empty if
	// the wizard never failed. LastErrorOp
	// is the operation that failed and LastErrorAt when.
	LastErrorClass string
	LastErrorOp    Operation
	LastErrorAt    time.Time
	// LastOK is when a call of the wizard last ended without an error; zero if none did.
	// For a fast wizard's retrievals it is the last one timed (see [Histogram]): the first
	// success after a failure is always timed, so Failing turns false at once.
	LastOK time.Time
}

// Failing reports whether the wizard's last call failed.
func (w WizardStats) Failing() bool {
	return !w.LastErrorAt.IsZero() && !w.LastErrorAt.Before(w.LastOK)
}

// OperationStats count the calls of one operation on one wizard.
type OperationStats struct {
	Operation Operation
	Found     uint64 // retrievals that found the object
	NotFound  uint64 // retrievals that did not
	OK        uint64 // other operations that succeeded
	Errors    uint64 // calls that failed
	Latency   Histogram
}

// Calls returns the number of calls counted, whatever their outcome.
func (o OperationStats) Calls() uint64 { return o.Found + o.NotFound + o.OK + o.Errors }

// Histogram is a latency distribution over [LatencyBuckets].
//
// The latency of retrievals is sampled while a wizard is fast and healthy: when its last
// timed retrieval took under 20 µs (a memory or config wizard), one retrieval in 16 is
// timed and counts for 16 in Count, Sum and its bucket, so that the histogram stays an
// unbiased estimate of every call while a fast call does not pay for three clock reads.
// Retrievals of a wizard whose last timed one was slower, or whose last call failed, and
// every retrieval while a [Hooks.WizardCall] is set, are all timed, as are the other
// operations. The outcome counters of [OperationStats] count every call exactly.
type Histogram struct {
	Count   uint64
	Sum     time.Duration
	Buckets [numBuckets]uint64 // Buckets[i] counts calls at most LatencyBuckets()[i] and above the bound before it
}

// wizardCounters are the always-on counters of one wizard.
type wizardCounters struct {
	ops [numOperations]opCounters
	// The last failure and the last success, in unix nanoseconds (0: none); the failure's
	// class and operation are packed in lastErr as class<<8 | op.
	lastErrAt, lastOKAt atomic.Int64
	lastErr             atomic.Uint32
	// fast reports that the wizard's last timed retrieval took under fastRetrieval: its
	// retrievals are then timed one in sampleEvery (see [Histogram]). Written only on a
	// change.
	fast atomic.Bool
	// untimed counts the outcomes of the retrievals that were not timed, in stripes of a
	// cache line each, one picked at random per call: cores retrieving from a fast wizard
	// at once then rarely write the same line. ops[OperationRetrieve] counts the others.
	untimed [retrievalStripes]struct {
		outcomes [numOutcomes]atomic.Uint64
		_        [64 - numOutcomes*8]byte
	}
}

// retrievalStripes is the number of stripes of wizardCounters.untimed: a power of two.
const retrievalStripes = 8

const (
	// fastRetrieval is the latency under which a wizard's retrievals are sampled: far
	// below the first bucket, far above the cost of reading the clock.
	fastRetrieval = 20 * time.Microsecond
	// sampleEvery is how many retrievals of a fast wizard one timed retrieval stands for.
	sampleEvery = 16
)

// retrievalWeight says whether the next retrieval of the wizard is to be timed: 0 when it
// is not, otherwise the number of retrievals its latency stands for (1 when every one is
// timed, sampleEvery when one in sampleEvery is). hooked means a hook wants every duration.
// stripe is the stripe of untimed that counts a retrieval that is not timed.
func (c *wizardCounters) retrievalWeight(hooked bool) (weight uint64, stripe uint32) {
	if hooked || !c.fast.Load() || c.failing() {
		return 1, 0
	}
	r := rand.Uint32()
	if r%sampleEvery == 0 {
		return sampleEvery, 0
	}
	return 0, (r / sampleEvery) % retrievalStripes
}

// failing reports whether the wizard's last call failed.
func (c *wizardCounters) failing() bool {
	at := c.lastErrAt.Load()
	return at != 0 && at >= c.lastOKAt.Load()
}

// countRetrieval counts one retrieval that was not timed in the given stripe of untimed. A
// failure is recorded with the time.
func (c *wizardCounters) countRetrieval(stripe uint32, out Outcome, err error) {
	if out == OutcomeError {
		c.failed(OperationRetrieve, err, time.Now())
	}
	c.untimed[stripe%retrievalStripes].outcomes[out].Add(1)
}

// failed records that a call of op failed with err at at.
func (c *wizardCounters) failed(op Operation, err error, at time.Time) {
	c.lastErr.Store(uint32(errorClassOf(err))<<8 | uint32(op))
	c.lastErrAt.Store(at.UnixNano())
}

type opCounters struct {
	outcomes [numOutcomes]atomic.Uint64
	sum      atomic.Int64
	buckets  [numBuckets + 1]atomic.Uint64
}

// record counts one call of op that ended at at, after d, and adds it to the latency
// histogram as weight calls (see [Histogram]).
func (c *wizardCounters) record(op Operation, out Outcome, at time.Time, d time.Duration, err error, weight uint64) {
	if out == OutcomeError {
		c.failed(op, err, at)
	} else {
		c.lastOKAt.Store(at.UnixNano())
	}
	if op == OperationRetrieve {
		if fast := d < fastRetrieval; c.fast.Load() != fast {
			c.fast.Store(fast)
		}
	}
	oc := &c.ops[op]
	oc.outcomes[out].Add(1)
	oc.sum.Add(int64(d) * int64(weight))
	i := 0
	for i < numBuckets && d > latencyBuckets[i] {
		i++
	}
	oc.buckets[i].Add(weight)
}

func (c *wizardCounters) snapshot(name string) WizardStats {
	ws := WizardStats{Name: name}
	if at := c.lastErrAt.Load(); at != 0 {
		packed := c.lastErr.Load()
		ws.LastErrorClass = errorClasses[packed>>8]
		ws.LastErrorOp = Operation(packed & 0xff)
		ws.LastErrorAt = time.Unix(0, at)
	}
	if at := c.lastOKAt.Load(); at != 0 {
		ws.LastOK = time.Unix(0, at)
	}
	for op := range numOperations {
		oc := &c.ops[op]
		var outcomes [numOutcomes]uint64
		for out := range numOutcomes {
			outcomes[out] = oc.outcomes[out].Load()
			if op == OperationRetrieve {
				for i := range c.untimed {
					outcomes[out] += c.untimed[i].outcomes[out].Load()
				}
			}
		}
		s := OperationStats{
			Operation: op,
			Found:     outcomes[OutcomeFound],
			NotFound:  outcomes[OutcomeNotFound],
			OK:        outcomes[OutcomeOK],
			Errors:    outcomes[OutcomeError],
		}
		s.Latency.Sum = time.Duration(oc.sum.Load())
		for i := range numBuckets {
			s.Latency.Buckets[i] = oc.buckets[i].Load()
			s.Latency.Count += s.Latency.Buckets[i]
		}
		s.Latency.Count += oc.buckets[numBuckets].Load()
		if s.Calls() > 0 {
			ws.Operations = append(ws.Operations, s)
		}
	}
	return ws
}

// Hooks receive the events a [Sorcery] counts, for users who export or log them their own way.
// Nil fields are skipped. Hooks are called synchronously on the goroutine that caused the
// event, never with a lock held: keep them fast.
type Hooks struct {
	// WizardCall is called after every call to a wizard.
	WizardCall func(WizardCallEvent)
	// Cache is called for every event of a cache layer: hits, misses, refreshes, expiries.
	Cache func(CacheEvent)
}

// WizardCallEvent describes one call to a wizard. Fields may be added.
type WizardCallEvent struct {
	Type      string // the object type
	Wizard    string // the wizard's name in the chain
	Operation Operation
	Outcome   Outcome
	ID        string // the object id, for operations on one object
	Duration  time.Duration
	Err       error // the failure, for OutcomeError
}
