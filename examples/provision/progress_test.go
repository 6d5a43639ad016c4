package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newTestProgress returns a bar on a fake clock that waits delay before drawing.
func newTestProgress(t *testing.T, total int, delay time.Duration) (*progress, *bytes.Buffer, *fakeClock) {
	t.Helper()
	var buf bytes.Buffer
	p, err := newProgress(&buf, "always", "importing", total)
	require.NoError(t, err)
	require.NotNil(t, p)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	p.now, p.start, p.delay = clock.now, clock.t, delay
	return p, &buf, clock
}

func TestProgressRedrawsInPlaceAtMostEveryTenthOfASecond(t *testing.T) {
	p, buf, clock := newTestProgress(t, 200, 0)
	p.add(1)
	assert.Equal(t, "\rimporting [------------------------------]   1/200   0%       -/s  ETA -", buf.String())
	buf.Reset()
	p.add(49) // within 100ms of the last drawing: nothing
	assert.Empty(t, buf.String())
	clock.advance(4 * progressEvery)
	p.add(50)
	assert.Equal(t, "\rimporting [###############---------------] 100/200  50%     250/s  ETA 0s", buf.String(),
		"100 in 0.4s: 250 a second, 0.4s left")
	buf.Reset()
	clock.advance(16 * progressEvery)
	p.add(50)
	assert.Equal(t, "\rimporting [######################--------] 150/200  75%      75/s  ETA 1s", buf.String())
	buf.Reset()
	p.add(50) // the last item is always drawn
	assert.Equal(t, "\rimporting [##############################] 200/200 100%     100/s  done in 2s", buf.String())
	buf.Reset()
	p.finish()
	assert.Equal(t, "\rimporting [##############################] 200/200 100%     100/s  done in 2s\n", buf.String())
}

func TestProgressStaysQuietForShortTasks(t *testing.T) {
	p, buf, clock := newTestProgress(t, 10, progressDelay)
	p.add(5)
	clock.advance(progressDelay / 2)
	p.add(5)
	p.finish()
	assert.Empty(t, buf.String(), "done before the delay: no bar at all")

	p, buf, clock = newTestProgress(t, 10, progressDelay)
	p.add(5)
	clock.advance(progressDelay)
	p.add(1)
	assert.Equal(t, "\rimporting [##################------------]  6/10  60%      20/s  ETA 0s", buf.String())
	p.add(4)
	p.finish()
	assert.True(t, strings.HasSuffix(buf.String(), "10/10 100%      33/s  done in 300ms\n"), "%q", buf.String())
}

func TestProgressIsOffUnlessAskedOrOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	for _, mode := range []string{"auto", "never"} {
		p, err := newProgress(&buf, mode, "importing", 10)
		require.NoError(t, err)
		assert.Nil(t, p, "mode %s on a buffer", mode)
		p.add(10) // a nil bar is fine to use
		p.finish()
	}
	assert.Empty(t, buf.String())
}

func TestProgressIsNotATerminalOnDevNull(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&os.ModeCharDevice, "/dev/null is a character device")
	assert.False(t, isTerminal(f), "/dev/null is not a terminal")
	p, err := newProgress(f, "auto", "importing", 10)
	require.NoError(t, err)
	assert.Nil(t, p, "no bar on /dev/null")
}
