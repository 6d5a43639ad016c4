package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// The environment variables the package reads.
const (
	PostgresEnv = "SORCERY_TEST_POSTGRES_DSN"
	MySQLEnv    = "SORCERY_TEST_MYSQL_DSN"
	RequireEnv  = "SORCERY_TEST_REQUIRE_DB"
)

// Required reports whether SORCERY_TEST_REQUIRE_DB=1: a database that is not configured or
// not reachable then fails the test instead of skipping it.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// unavailable skips the test, or fails it when databases are required.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s=1: database tests must not skip)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// PostgresDSN returns the PostgreSQL DSN, skipping (or failing) the test when it is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		unavailable(t, "%s is not set; set it to run the PostgreSQL tests, e.g. %s=%q",
			PostgresEnv, PostgresEnv, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// MySQLDSN returns the MySQL/MariaDB DSN, skipping (or failing) the test when it is unset.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(MySQLEnv)
	if dsn == "" {
		unavailable(t, "%s is not set; set it to run the MySQL/MariaDB tests, e.g. %s=%q",
			MySQLEnv, MySQLEnv, "root@tcp(127.0.0.1:3306)/test")
	}
	return dsn
}

// Postgres returns a pool on the PostgreSQL test database, closed when the test ends.
func Postgres(t testing.TB) *sql.DB {
	t.Helper()
	return Open(t, "pgx", PostgresDSN(t))
}

// MySQL returns a pool on the MySQL/MariaDB test database, closed when the test ends.
func MySQL(t testing.TB) *sql.DB {
	t.Helper()
	return Open(t, "mysql", MySQLDSN(t))
}

// SQLite returns a pool on a new SQLite database file of the test's own, closed when the
// test ends.
func SQLite(t testing.TB) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Open opens dsn with the driver and checks, within 10 seconds, that the server answers;
// a server that does not skips (or fails) the test. The pool is closed when the test ends.
func Open(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		unavailable(t, "%s database at %s does not answer: %v", driver, redact(dsn), err)
	}
	return db
}

// redact hides a DSN's password.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
			return u.String()
		}
		return dsn
	}
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		if colon := strings.Index(dsn[:at], ":"); colon >= 0 {
			return dsn[:colon+1] + "xxx" + dsn[at:]
		}
	}
	return dsn
}

// Name returns a table name no other test uses: prefix, an underscore and random letters,
// all lower case.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte(strings.ToLower(prefix) + "_")
	for range 10 {
		b = append(b, letters[rand.IntN(len(letters))])
	}
	return string(b)
}

// Exec runs each statement, failing the test on an error.
func Exec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// Cleanup runs the statements when the test ends (after the cleanups registered later),
// reporting errors without stopping: typically DROP TABLE of the test's tables.
func Cleanup(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				t.Errorf("cleanup %q: %v", s, err)
			}
		}
	})
}

// PostgresThrough returns a pool on the PostgreSQL test database that connects through a
// new loopback proxy, and the proxy.
func PostgresThrough(t testing.TB) (*sql.DB, *Proxy) {
	t.Helper()
	dsn := PostgresDSN(t)
	target, via, err := postgresVia(dsn)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	Postgres(t) // skip or fail now when the server does not answer
	p := NewProxy(t, target)
	return Open(t, "pgx", via(p.Addr())), p
}

// MySQLThrough returns a pool on the MySQL/MariaDB test database that connects through a
// new loopback proxy, and the proxy.
func MySQLThrough(t testing.TB) (*sql.DB, *Proxy) {
	t.Helper()
	dsn := MySQLDSN(t)
	target, via, err := mysqlVia(dsn)
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	MySQL(t)
	p := NewProxy(t, target)
	return Open(t, "mysql", via(p.Addr())), p
}

// postgresVia returns the server address of a PostgreSQL URL DSN, and a function that
// rewrites the DSN to another address.
func postgresVia(dsn string) (string, func(addr string) string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("a proxy needs a postgres:// URL DSN")
	}
	host := u.Host
	if host == "" {
		host = "127.0.0.1:5432"
	} else if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "5432")
	}
	return host, func(addr string) string {
		v := *u
		v.Host = addr
		return v.String()
	}, nil
}

// mysqlVia returns the server address of a go-sql-driver/mysql DSN, and a function that
// rewrites the DSN to another address.
func mysqlVia(dsn string) (string, func(addr string) string, error) {
	at := strings.LastIndex(dsn, "@")
	rest := dsn[at+1:]
	slash := strings.Index(rest, "/")
	if slash < 0 {
		return "", nil, fmt.Errorf("a proxy needs a DSN of the form user@tcp(host:port)/db")
	}
	netaddr := rest[:slash]
	target := "127.0.0.1:3306"
	switch {
	case netaddr == "":
	case strings.HasPrefix(netaddr, "tcp(") && strings.HasSuffix(netaddr, ")"):
		target = netaddr[len("tcp(") : len(netaddr)-1]
		if _, _, err := net.SplitHostPort(target); err != nil {
			target = net.JoinHostPort(target, "3306")
		}
	default:
		return "", nil, fmt.Errorf("a proxy needs a TCP DSN, not %q", netaddr)
	}
	return target, func(addr string) string {
		return dsn[:at+1] + "tcp(" + addr + ")" + rest[slash:]
	}, nil
}
