package invalidate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
)

func TestBackoffCeilingGrowsAndIsCapped(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for n, w := range want {
		assert.Equal(t, w*time.Millisecond, b.Ceiling(n), "attempt %d", n)
	}
	assert.Equal(t, time.Second, b.Ceiling(5000), "a huge attempt must not overflow")
	assert.Equal(t, 100*time.Millisecond, b.Ceiling(-1))
}

func TestZeroBackoffUsesTheDefaults(t *testing.T) {
	var b Backoff
	assert.Equal(t, DefaultInitial, b.Ceiling(0))
	assert.Equal(t, 2*DefaultInitial, b.Ceiling(1))
	assert.Equal(t, DefaultMax, b.Ceiling(100))
	for range 1000 {
		d := b.Delay(0)
		assert.GreaterOrEqual(t, d, time.Duration(float64(DefaultInitial)*(1-DefaultJitter)))
		assert.LessOrEqual(t, d, DefaultInitial)
	}
}

func TestJitterKeepsDelaysWithinTheirShareAndSpreadsThem(t *testing.T) {
	b, err := Backoff{Initial: time.Second, Max: time.Minute, Jitter: 0.5}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, time.Second, b.delay(0, 0))
	assert.Equal(t, 500*time.Millisecond, b.delay(0, 1))
	assert.Equal(t, 1500*time.Millisecond, b.delay(1, 0.5))
	seen := map[time.Duration]bool{}
	for range 100 {
		d := b.Delay(3)
		assert.GreaterOrEqual(t, d, 4*time.Second)
		assert.LessOrEqual(t, d, 8*time.Second)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 50, "jittered delays should differ")
}

func TestNegativeJitterMeansExactDelays(t *testing.T) {
	b := Backoff{Initial: time.Second, Jitter: -1}
	for range 100 {
		assert.Equal(t, 2*time.Second, b.Delay(1))
	}
}

func TestBackoffRejectsNonsense(t *testing.T) {
	for name, b := range map[string]Backoff{
		"negative initial":   {Initial: -time.Second},
		"max below initial":  {Initial: time.Minute, Max: time.Second},
		"shrinking":          {Multiplier: 0.5},
		"jitter above whole": {Jitter: 1.5},
	} {
		_, err := b.withDefaults()
		assert.ErrorIs(t, err, errors.ErrInvalid, name)
		_, err = NewSource(SubscriberFunc(func(ctx context.Context, _ *Sink) error { return nil }), &recorder{}, &SourceOptions{Backoff: b})
		assert.ErrorIs(t, err, errors.ErrInvalid, name)
	}
}
