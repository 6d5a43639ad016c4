package sqldb_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/internal/testdb"
)

// unknownDriver hides a driver behind a type of this package, which dialect detection by
// driver does not know.
type unknownDriver struct{ driver.Driver }

type connector struct {
	dsn string
	d   driver.Driver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

// A driver the package does not know is no obstacle: the dialect is asked from the server.
func TestDialectIsProbedForUnknownDrivers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dialect sqldb.Dialect
		open    func(t *testing.T) (*sql.DB, string)
	}{
		{"sqlite", sqldb.SQLite, func(t *testing.T) (*sql.DB, string) {
			return testdb.SQLite(t), "file:" + filepath.Join(t.TempDir(), "probe.db")
		}},
		{"postgres", sqldb.PostgreSQL, func(t *testing.T) (*sql.DB, string) { return testdb.Postgres(t), testdb.PostgresDSN(t) }},
		{"mysql", sqldb.MySQL, func(t *testing.T) (*sql.DB, string) { return testdb.MySQL(t), testdb.MySQLDSN(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known, dsn := tc.open(t)
			db := sql.OpenDB(connector{dsn: dsn, d: unknownDriver{known.Driver()}})
			t.Cleanup(func() { _ = db.Close() })
			table := createTable(t, db, "probe", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
			w := newWizard(t, db, table, nil)
			assert.Equal(t, tc.dialect, w.Dialect())
			require.NoError(t, w.Create(ctxTimeout(t, 10*time.Second), sqldbRecord("a", "A")))
			got, found, err := w.Retrieve(ctxTimeout(t, 10*time.Second), "a")
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, "A", got.Fields.Value("name"))
		})
	}
}
