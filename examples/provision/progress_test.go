package main

import (
	"bytes"
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
	assert.Equal(t, "\rimporting [------------------------------]   1/200   0%", buf.String())
	buf.Reset()
	p.add(49) // within 100ms of the last drawing: nothing
	assert.Empty(t, buf.String())
	clock.advance(progressEvery)
	p.add(50)
	assert.Equal(t, "\rimporting [###############---------------] 100/200  50%", buf.String())
	buf.Reset()
	p.add(100) // the last item is always drawn
	assert.Equal(t, "\rimporting [##############################] 200/200 100%", buf.String())
	buf.Reset()
	p.finish()
	assert.Equal(t, "\rimporting [##############################] 200/200 100%\n", buf.String())
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
	assert.Equal(t, "\rimporting [##################------------]  6/10  60%", buf.String())
	p.add(4)
	p.finish()
	assert.True(t, strings.HasSuffix(buf.String(), "10/10 100%\n"), "%q", buf.String())
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
