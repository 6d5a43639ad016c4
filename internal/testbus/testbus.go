// Package testbus is shared test support for the invalidation engines: where the servers are
// (from the environment), unique channel names, a goroutine leak check, and a cluster of
// library instances that measures how fast a change becomes visible on all of them.
//
// A test that needs a server gets its address from one of [PostgresDSN], [RedisAddr] and
// [NATSURL]: when the variable is unset or the server does not answer, the test is skipped —
// or fails, when SORCERY_TEST_REQUIRE_DB is set (CI sets it).
package testbus

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The environment variables the tests read.
const (
	EnvPostgres = "SORCERY_TEST_POSTGRES_DSN" // postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	EnvRedis    = "SORCERY_TEST_REDIS_ADDR"   // 127.0.0.1:6379
	EnvNATS     = "SORCERY_TEST_NATS_URL"     // nats://127.0.0.1:4222
	EnvRequire  = "SORCERY_TEST_REQUIRE_DB"   // set: a missing or unreachable server fails the test
)

// PostgresDSN returns the PostgreSQL connection string of EnvPostgres.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := lookup(t, EnvPostgres)
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	reachable(t, EnvPostgres, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	return dsn
}

// RedisAddr returns the Redis host:port of EnvRedis.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := lookup(t, EnvRedis)
	reachable(t, EnvRedis, addr)
	return addr
}

// NATSURL returns the NATS server URL of EnvNATS.
func NATSURL(t testing.TB) string {
	t.Helper()
	u := lookup(t, EnvNATS)
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		t.Fatalf("%s: %q is not a nats:// URL", EnvNATS, u)
	}
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), "4222")
	}
	reachable(t, EnvNATS, host)
	return u
}

func lookup(t testing.TB, name string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		unavailable(t, "%s is not set: no server to test against", name)
	}
	return v
}

func reachable(t testing.TB, name, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		unavailable(t, "%s: server %s does not answer: %v", name, addr, err)
		return
	}
	c.Close()
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(EnvRequire) != "" {
		t.Fatalf(format+" (and "+EnvRequire+" is set)", args...)
	}
	t.Skipf(format, args...)
}

// Unique returns prefix followed by an underscore and 12 random hex digits: a name no other
// test uses, valid as a PostgreSQL identifier, NATS subject token and Redis key part.
func Unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// Quiet returns a logger that drops everything.
func Quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// CheckLeaks records the goroutines running now and, when the test ends, fails it if
// goroutines whose stacks mention any of markers are still running after a bounded wait (5 s),
// or if there are more goroutines than at the start. Use it in tests that do not run in
// parallel.
func CheckLeaks(t testing.TB, markers ...string) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		t.Helper()
		var leaked []string
		var n int
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked, n = Goroutines(markers...), runtime.NumGoroutine()
			if len(leaked) == 0 && n <= before || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		if n > before {
			t.Errorf("%d goroutines at the end, %d at the start:\n%s", n, before, Goroutines())
		}
	})
}

// Goroutines returns the stacks of the running goroutines, other than the caller's, that
// mention any of markers (every goroutine when there are none).
func Goroutines(markers ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := strings.Split(string(buf), "\n\n")
	var out []string
	for _, s := range stacks[1:] { // the first is the caller's
		if len(markers) == 0 {
			out = append(out, s)
			continue
		}
		for _, m := range markers {
			if strings.Contains(s, m) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
