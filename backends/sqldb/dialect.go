package sqldb

import (
	"context"
	"database/sql"
	"reflect"
	"strconv"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
)

// Dialect is an SQL dialect the wizard speaks. The zero Dialect means "detect it".
type Dialect string

// The dialects the wizard speaks.
const (
	PostgreSQL Dialect = "postgres" // PostgreSQL, through pgx's stdlib or lib/pq
	MySQL      Dialect = "mysql"    // MySQL and MariaDB, through go-sql-driver/mysql
	SQLite     Dialect = "sqlite"   // SQLite, through modernc.org/sqlite or mattn/go-sqlite3
)

// ParseDialect returns the dialect a name stands for. It accepts the dialect names and the
// usual aliases of drivers and of Asterisk's realtime drivers, in any case: postgres,
// postgresql, pgsql, pgx, pq; mysql, mariadb; sqlite, sqlite3.
func ParseDialect(name string) (Dialect, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "postgres", "postgresql", "pgsql", "pgx", "pq":
		return PostgreSQL, nil
	case "mysql", "mariadb":
		return MySQL, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return "", errors.Errorf("sqldb: unknown dialect %q: %w", name, errors.ErrInvalid)
}

// String returns the dialect's name.
func (d Dialect) String() string { return string(d) }

func (d Dialect) valid() bool {
	return d == PostgreSQL || d == MySQL || d == SQLite
}

// quote returns name as a quoted identifier of the dialect. Only names read from the
// database's catalog reach it; quoting is the second line of defence.
func (d Dialect) quote(name string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// placeholder returns the n-th (1-based) bind parameter marker.
func (d Dialect) placeholder(n int) string {
	if d == PostgreSQL {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// driverDialects maps the package paths of the usual drivers to their dialect. Detection
// looks at the driver's type only; the library imports no driver.
var driverDialects = []struct {
	pkg     string
	dialect Dialect
}{
	{"github.com/jackc/pgx", PostgreSQL},
	{"github.com/lib/pq", PostgreSQL},
	{"github.com/go-sql-driver/mysql", MySQL},
	{"modernc.org/sqlite", SQLite},
	{"github.com/mattn/go-sqlite3", SQLite},
	{"github.com/ncruces/go-sqlite3", SQLite},
	{"zombiezen.com/go/sqlite", SQLite},
}

// dialectOfDriver returns the dialect of db's driver when it is one of the usual ones.
func dialectOfDriver(db *sql.DB) (Dialect, bool) {
	t := reflect.TypeOf(db.Driver())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "", false
	}
	pkg := t.PkgPath()
	for _, dd := range driverDialects {
		if pkg == dd.pkg || strings.HasPrefix(pkg, dd.pkg+"/") {
			return dd.dialect, true
		}
	}
	return "", false
}

// probeDialect asks the server what it is, for drivers dialectOfDriver does not know.
func probeDialect(ctx context.Context, db *sql.DB) (Dialect, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err == nil {
		return SQLite, nil
	} else if kind := classify(ctx, err); kind != nil && errors.Is(kind, errors.ErrUnavailable) {
		return "", wrapDB(ctx, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", wrapDB(ctx, err)
	}
	lv := strings.ToLower(v)
	switch {
	case strings.Contains(lv, "postgres"):
		return PostgreSQL, nil
	case strings.Contains(lv, "mariadb"), strings.Contains(lv, "mysql"):
		return MySQL, nil
	}
	// MySQL's version() is a bare number such as "8.4.2"; PostgreSQL and MariaDB name
	// themselves.
	if len(v) > 0 && v[0] >= '0' && v[0] <= '9' {
		return MySQL, nil
	}
	return "", errors.Errorf("sqldb: cannot tell the dialect of server %q; set Options.Dialect: %w", v, errors.ErrInvalid)
}
