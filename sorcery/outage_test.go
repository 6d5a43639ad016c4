package sorcery_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/tcpproxy"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// The outage tests' lifetimes: small and real. The refresh timeout is longer than the gap
// between stale and expiry, so a refresh hanging on a blackholed source outlives the expiry
// of the entry it refreshes.
const (
	outageStale    = 100 * time.Millisecond
	outageMaximum  = 300 * time.Millisecond
	outageTimeout  = 500 * time.Millisecond // > outageMaximum - outageStale
	outageObjects  = 20
	outagePhase    = 4 * outageMaximum // each outage lasts several maximum lifetimes
	outageReadStep = 10 * time.Millisecond
)

type outageEndpoint struct {
	ID      string `sorcery:"id"`
	Context string `sorcery:"context"`
}

// callLog wraps a wizard and records when each Retrieve of an id began and ended.
type callLog struct {
	w     sorcery.Wizard
	mu    sync.Mutex
	calls map[string][][2]time.Time
}

func (l *callLog) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	start := time.Now()
	r, found, err := l.w.Retrieve(ctx, id)
	l.mu.Lock()
	l.calls[id] = append(l.calls[id], [2]time.Time{start, time.Now()})
	l.mu.Unlock()
	return r, found, err
}

// tooSoon returns, for each id, the calls that began less than ErrorRecheck after the
// previous call of the same id ended.
func (l *callLog) tooSoon(since time.Time, recheck time.Duration) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, calls := range l.calls {
		for i := 1; i < len(calls); i++ {
			if calls[i][0].Before(since) {
				continue
			}
			// The cache's clock and this one differ by the scheduling of two goroutines.
			if gap := calls[i][0].Sub(calls[i-1][1]); gap < recheck-5*time.Millisecond {
				out = append(out, fmt.Sprintf("%s: call %d began %v after the previous one ended", id, i, gap))
			}
		}
	}
	return out
}

// starvedGap is the longest gap between two reads of one object that the outage tests
// accept as keeping to their schedule: an entry read at least every (maximum − stale) is
// read between its stale point and its expiry. A longer gap, on a machine too busy to run
// the reader every outageReadStep, lets an entry expire unread, legitimately: a failed read
// of that object in the same phase proves nothing, and is excused.
const starvedGap = outageMaximum - outageStale - 20*time.Millisecond

// outageRun is what one attempt of runOutage saw.
type outageRun struct {
	failures []string      // reads that did not serve the cached object
	excused  []string      // failed reads of objects left unread longer than starvedGap
	starved  int           // objects left unread longer than starvedGap, counted per phase
	longest  time.Duration // the longest gap between two reads of one object
	tooSoon  []string      // source calls of one id closer than ErrorRecheck
	stats    cache.Stats
}

// runOutage runs the outage scenario, again (three attempts at most) while an attempt left
// more than a few objects unread longer than starvedGap, and fails the test on what the
// last attempt saw.
func runOutage(t *testing.T, w sorcery.Wizard, proxy *tcpproxy.Proxy) {
	t.Helper()
	var r outageRun
	for attempt := 1; attempt <= 3; attempt++ {
		r = outageAttempt(t, w, proxy)
		t.Logf("attempt %d: %d failed reads (%d more excused), %d objects left unread too long, longest gap %v; cache: %d refresh errors, %d expired, %d updated",
			attempt, len(r.failures), len(r.excused), r.starved, r.longest, r.stats.RefreshErrors, r.stats.Expired, r.stats.RefreshUpdated)
		if r.starved <= outageObjects/4 {
			break
		}
	}
	assert.Empty(t, r.failures[:min(len(r.failures), 5)], "failed reads of cached objects (the first 5 of %d)", len(r.failures))
	assert.Empty(t, r.tooSoon, "source calls of one id closer than ErrorRecheck (%v)", outageStale)
	assert.LessOrEqual(t, r.stats.Expired, uint64(r.starved), "cached objects expired during the outages that the reader did not leave unread")
}

// outageAttempt caches outageObjects objects served by w (reached through proxy), then, for
// a cut and for a blackhole of outagePhase each, with the source restored in between, reads
// every object every outageReadStep, and reports what it saw.
func outageAttempt(t *testing.T, w sorcery.Wizard, proxy *tcpproxy.Proxy) (r outageRun) {
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.DiscardHandler)}) // the outage warnings are expected
	defer s.Close()
	ep, err := sorcery.Register[outageEndpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, ep.AddCache(&cache.Options{
		LifetimeStale: outageStale, LifetimeMaximum: outageMaximum, RefreshTimeout: outageTimeout,
	}))
	log := &callLog{w: w, calls: map[string][][2]time.Time{}}
	require.NoError(t, ep.AddWizard("source", log, nil))

	ids := make([]string, outageObjects)
	last := make([]time.Time, outageObjects)
	for i := range ids {
		ids[i] = fmt.Sprintf("ep%02d", i)
		got, found, err := ep.Retrieve(t.Context(), ids[i])
		require.NoError(t, err)
		require.True(t, found, ids[i])
		require.Equal(t, "ctx-"+ids[i], got.Context)
		last[i] = time.Now()
	}

	read := func(phase string, d time.Duration) {
		unread := make([]bool, len(ids)) // left unread longer than starvedGap in this phase
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(outageReadStep) {
			for i, id := range ids {
				now := time.Now()
				gap := now.Sub(last[i])
				r.longest = max(r.longest, gap)
				if gap > starvedGap && !unread[i] {
					unread[i] = true
					r.starved++
				}
				last[i] = now
				// Bounded: a read that misses (its entry expired while a starved reader
				// was away) goes to the source, which may be blackholed.
				ctx, cancel := context.WithTimeout(t.Context(), 2*outageTimeout)
				got, found, err := ep.Retrieve(ctx, id)
				cancel()
				if err != nil || !found || got.Context != "ctx-"+id {
					msg := fmt.Sprintf("%s: read of %s, %v after the previous read began: found %v, err %v", phase, id, gap, found, err)
					if unread[i] {
						r.excused = append(r.excused, msg)
					} else {
						r.failures = append(r.failures, msg)
					}
				}
			}
		}
	}

	start := time.Now()
	read("healthy", 2*outageMaximum)
	proxy.Cut()
	read("cut", outagePhase)
	proxy.Restore()
	read("restored", 2*outageMaximum)
	proxy.Stall()
	read("blackhole", outagePhase)
	proxy.Restore()
	read("restored after the blackhole", 2*outageMaximum)
	r.tooSoon = log.tooSoon(start, outageStale)
	r.stats = ep.Cache().Stats()
	return r
}

func TestOutageOfPostgreSQLLosesNoCachedObject(t *testing.T) {
	direct := testdb.Postgres(t)
	table := fmt.Sprintf("outage_%d", time.Now().UnixNano())
	_, err := direct.ExecContext(t.Context(), "CREATE TABLE "+table+" (id varchar(40) PRIMARY KEY, context varchar(80))")
	require.NoError(t, err)
	t.Cleanup(func() { direct.Exec("DROP TABLE " + table) })
	for i := range outageObjects {
		id := fmt.Sprintf("ep%02d", i)
		_, err := direct.ExecContext(t.Context(), "INSERT INTO "+table+" (id, context) VALUES ($1, $2)", id, "ctx-"+id)
		require.NoError(t, err)
	}

	cfg, err := pgx.ParseConfig(testdb.PostgresDSN(t))
	require.NoError(t, err)
	proxy := testdb.NewProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	cfg.Host, cfg.Port = "127.0.0.1", uint16(proxy.Port())
	cfg.ConnectTimeout = outageTimeout
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	db.SetConnMaxIdleTime(time.Second)
	w, err := sqldb.New(db, table, &sqldb.Options{RequireConnection: true})
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	runOutage(t, w, proxy)
}

func TestOutageOfACurlProvisioningServerLosesNoCachedObject(t *testing.T) {
	mem := memory.New()
	for i := range outageObjects {
		id := fmt.Sprintf("ep%02d", i)
		mem.Put(sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "context", Value: "ctx-" + id}}})
	}
	srv := httptest.NewServer(curl.NewHandler(mem, nil))
	t.Cleanup(srv.Close)
	proxy := testdb.NewProxy(t, srv.Listener.Addr().String())
	w, err := curl.New("http://"+proxy.Addr()+"/endpoint", &curl.Options{Timeout: 2 * outageTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	runOutage(t, w, proxy)
}
