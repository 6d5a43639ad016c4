package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// dialectCase is one database the tests run against.
type dialectCase struct {
	name    string
	dialect sqldb.Dialect
	open    func(testing.TB) *sql.DB
}

var dialects = []dialectCase{
	{"sqlite", sqldb.SQLite, testdb.SQLite},
	{"postgres", sqldb.PostgreSQL, testdb.Postgres},
	{"mysql", sqldb.MySQL, testdb.MySQL},
}

// eachDialect runs f as a subtest per dialect, on a database of that dialect. PostgreSQL
// and MySQL subtests skip when their DSN is unset, and fail instead with
// SORCERY_TEST_REQUIRE_DB=1.
func eachDialect(t *testing.T, f func(t *testing.T, dc dialectCase, db *sql.DB)) {
	for _, dc := range dialects {
		t.Run(dc.name, func(t *testing.T) {
			f(t, dc, dc.open(t))
		})
	}
}

// quote quotes an identifier for the dialect, for the tests' own DDL.
func quote(d sqldb.Dialect, name string) string {
	if d == sqldb.MySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// ph returns the n-th placeholder of the dialect.
func ph(d sqldb.Dialect, n int) string {
	if d == sqldb.PostgreSQL {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// createTable creates a table with a unique name from column definitions, dropped when the
// test ends, and returns its name.
func createTable(t testing.TB, db *sql.DB, prefix, columns string) string {
	t.Helper()
	name := testdb.Name(t, prefix)
	testdb.Exec(t, db, "CREATE TABLE "+name+" ("+columns+")")
	testdb.Cleanup(t, db, "DROP TABLE IF EXISTS "+name)
	return name
}

// conformanceColumns are the columns of sorcerytest's records.
const conformanceColumns = "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(255), " +
	"context VARCHAR(40), max_contacts INTEGER, allow VARCHAR(200)"

// insertRaw inserts a row as the database holds it, bypassing the wizard: values maps column
// names to values, nil being NULL.
func insertRaw(t testing.TB, db *sql.DB, d sqldb.Dialect, table string, values map[string]any) {
	t.Helper()
	var cols, marks []string
	var args []any
	for c, v := range values {
		cols = append(cols, quote(d, c))
		args = append(args, v)
		marks = append(marks, ph(d, len(args)))
	}
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := db.ExecContext(ctx, q, args...)
	require.NoError(t, err, "insert %v", values)
}

// rawValue returns a column's value as the database holds it, and false for NULL.
func rawValue(t testing.TB, db *sql.DB, d sqldb.Dialect, table, column, id string) (string, bool) {
	t.Helper()
	var v sql.NullString
	q := "SELECT " + quote(d, column) + " FROM " + table + " WHERE id = " + ph(d, 1)
	require.NoError(t, db.QueryRowContext(context.Background(), q, id).Scan(&v), "raw %s of %q", column, id)
	return v.String, v.Valid
}

// seedRaw stores records the way Asterisk would find them: repeated fields joined with ';'.
func seedRaw(t testing.TB, db *sql.DB, d sqldb.Dialect, table string, seed []sorcery.Record) {
	t.Helper()
	for _, r := range seed {
		values := map[string]any{"id": r.ID}
		for _, name := range r.Fields.Names() {
			values[name] = strings.Join(r.Fields.Values(name), ";")
		}
		insertRaw(t, db, d, table, values)
	}
}

// newWizard opens a wizard on table, closed when the test ends.
func newWizard(t testing.TB, db *sql.DB, table string, opts *sqldb.Options) *sqldb.Wizard {
	t.Helper()
	w, err := sqldb.New(db, table, opts)
	require.NoError(t, err, "sqldb.New(%q)", table)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// ctxTimeout returns a context bounded by d, cancelled when the test ends.
func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// ids returns the records' ids, sorted.
func ids(rs []sorcery.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// testdbSQLite opens a new SQLite database.
func testdbSQLite(t testing.TB) *sql.DB { return dialects[0].open(t) }

// sqlDeadline is the error a call past its ctx's deadline matches.
var sqlDeadline = context.DeadlineExceeded

// sqldbRecord returns a record with one field, name.
func sqldbRecord(id, name string) sorcery.Record {
	return sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "name", Value: name}}}
}
