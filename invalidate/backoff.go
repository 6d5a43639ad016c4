package invalidate

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// Backoff is the schedule of reconnection attempts: the delay before attempt n (counting from
// zero after a connection that worked) is Initial·Multiplier^n, capped at Max, less a random
// share of at most Jitter of it, so that many servers cut off at once do not reconnect in
// step. The zero Backoff is the default schedule: 100ms, 200ms, 400ms … up to 10s, each less up
// to 20%.
type Backoff struct {
	// Initial is the delay before the first attempt after a failure. Zero means 100ms.
	Initial time.Duration
	// Max caps the delay. Zero means 10s.
	Max time.Duration
	// Multiplier is the growth of the delay from one attempt to the next, at least 1. Zero
	// means 2.
	Multiplier float64
	// Jitter is the largest share of a delay taken off at random, between 0 and 1. Zero means
	// 0.2; a negative value means none.
	Jitter float64
}

// Default values of a zero [Backoff].
const (
	DefaultInitial    = 100 * time.Millisecond
	DefaultMax        = 10 * time.Second
	DefaultMultiplier = 2
	DefaultJitter     = 0.2
)

// withDefaults returns b with its zero fields set to the defaults, or errors.ErrInvalid.
func (b Backoff) withDefaults() (Backoff, error) {
	if b.Initial == 0 {
		b.Initial = DefaultInitial
	}
	if b.Max == 0 {
		b.Max = DefaultMax
	}
	if b.Multiplier == 0 {
		b.Multiplier = DefaultMultiplier
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultJitter
	case b.Jitter < 0:
		b.Jitter = 0
	}
	switch {
	case b.Initial < 0, b.Max < b.Initial:
		return b, errors.Errorf("backoff: want 0 < initial (%v) <= max (%v): %w", b.Initial, b.Max, errors.ErrInvalid)
	case b.Multiplier < 1 || math.IsNaN(b.Multiplier) || math.IsInf(b.Multiplier, 0):
		return b, errors.Errorf("backoff: multiplier %v below 1: %w", b.Multiplier, errors.ErrInvalid)
	case b.Jitter > 1 || math.IsNaN(b.Jitter):
		return b, errors.Errorf("backoff: jitter %v above 1: %w", b.Jitter, errors.ErrInvalid)
	}
	return b, nil
}

// Ceiling returns the delay before attempt n without jitter: Initial·Multiplier^n capped at
// Max, with the defaults of zero fields. The delay [Backoff.Delay] returns lies in
// [Ceiling·(1-Jitter), Ceiling].
func (b Backoff) Ceiling(attempt int) time.Duration {
	b, err := b.withDefaults()
	if err != nil {
		return DefaultMax
	}
	return b.ceiling(attempt)
}

func (b Backoff) ceiling(attempt int) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(attempt))
	if d >= float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		return b.Max
	}
	return time.Duration(d)
}

// Delay returns the delay before attempt n (0 for the first attempt after a failure), with
// jitter drawn at random.
func (b Backoff) Delay(attempt int) time.Duration {
	b, err := b.withDefaults()
	if err != nil {
		return DefaultMax
	}
	return b.delay(attempt, rand.Float64())
}

// delay returns the delay before attempt n for a random draw r in [0, 1). b has its defaults.
func (b Backoff) delay(attempt int, r float64) time.Duration {
	c := b.ceiling(attempt)
	return c - time.Duration(float64(c)*b.Jitter*r)
}
