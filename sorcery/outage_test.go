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

// runOutage caches outageObjects objects served by w (reached through proxy), then, for a
// cut and for a blackhole of outagePhase each, with the source restored in between, reads
// every object every outageReadStep and fails the test on any read that does not serve it.
func runOutage(t *testing.T, w sorcery.Wizard, proxy *tcpproxy.Proxy) {
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.DiscardHandler)}) // the outage warnings are expected
	t.Cleanup(func() { s.Close() })
	ep, err := sorcery.Register[outageEndpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, ep.AddCache(&cache.Options{
		LifetimeStale: outageStale, LifetimeMaximum: outageMaximum, RefreshTimeout: outageTimeout,
	}))
	log := &callLog{w: w, calls: map[string][][2]time.Time{}}
	require.NoError(t, ep.AddWizard("source", log, nil))

	ids := make([]string, outageObjects)
	for i := range ids {
		ids[i] = fmt.Sprintf("ep%02d", i)
		got, found, err := ep.Retrieve(t.Context(), ids[i])
		require.NoError(t, err)
		require.True(t, found, ids[i])
		require.Equal(t, "ctx-"+ids[i], got.Context)
	}

	read := func(phase string, d time.Duration) {
		t.Helper()
		failed, reads := 0, 0
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(outageReadStep) {
			for _, id := range ids {
				got, found, err := ep.Retrieve(t.Context(), id)
				reads++
				if err != nil || !found || got.Context != "ctx-"+id {
					failed++
					if failed <= 3 {
						t.Errorf("%s: read of %s: found %v, err %v", phase, id, found, err)
					}
				}
			}
		}
		t.Logf("%s: %d reads, %d failed", phase, reads, failed)
		assert.Zero(t, failed, "%s: failed reads of cached objects", phase)
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

	assert.Empty(t, log.tooSoon(start, outageStale), "source calls of one id closer than ErrorRecheck (%v)", outageStale)
	st := ep.Cache().Stats()
	t.Logf("cache: %d refresh errors, %d expired, %d updated", st.RefreshErrors, st.Expired, st.RefreshUpdated)
	assert.Zero(t, st.Expired, "cached objects expired during the outages")
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
	w, err := curl.New("http://"+proxy.Addr()+"/endpoint", &curl.Options{Timeout: 2 * outageTimeout, ConnectTimeout: outageTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	runOutage(t, w, proxy)
}
