package sorcery_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

func TestOutageWarningsAreRateLimitedPerType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf lockedBuffer
		s := sorcery.New(&sorcery.Options{
			Logger:      slog.New(slog.NewTextHandler(&buf, nil)),
			LogInterval: time.Minute,
		})
		defer s.Close()
		typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
		require.NoError(t, err)
		require.NoError(t, typ.AddCache(&cache.Options{LifetimeStale: time.Second, LifetimeMaximum: time.Hour}))
		src := memory.New()
		require.NoError(t, typ.AddWizard("source", src, nil))
		src.Put(rec("alice"))
		ctx := t.Context()
		_, _, err = typ.Retrieve(ctx, "alice")
		require.NoError(t, err)

		src.SetError(errors.ErrUnavailable)
		// Three minutes of an outage, read every 100 ms: thousands of retrievals, failed
		// refreshes every second, unknown ids failing.
		for range 1800 {
			time.Sleep(100 * time.Millisecond)
			typ.Retrieve(ctx, "alice")
			typ.Retrieve(ctx, "unknown")
			synctest.Wait()
		}
		lines := buf.lines()
		assert.LessOrEqual(t, len(lines), 4, "one warning per minute of outage, not one per request:\n%s", strings.Join(lines, "\n"))
		assert.GreaterOrEqual(t, len(lines), 3)
		for _, l := range lines {
			assert.Contains(t, l, "level=WARN")
			assert.Contains(t, l, "type=endpoint")
		}
		assert.Contains(t, lines[len(lines)-1], "suppressed=", "the lines held back are counted")
	})
}
