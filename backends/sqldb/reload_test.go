package sqldb_test

import (
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Reload sees columns added since the wizard opened.
func TestReloadSeesNewColumns(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "rel", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)
		r := sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}, {Name: "webrtc", Value: "yes"}}}
		assert.ErrorIs(t, w.Create(ctx, r), errors.ErrInvalid, "no webrtc column yet")

		testdb.Exec(t, db, "ALTER TABLE "+table+" ADD COLUMN webrtc VARCHAR(5)")
		require.NoError(t, w.Reload(ctx))
		assert.Equal(t, []string{"id", "name", "webrtc"}, w.Columns())
		require.NoError(t, w.Create(ctx, r))
		got, found, err := w.Retrieve(ctx, "alice")
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, r.Fields, got.Fields)
	})
}

// A Reload that fails leaves the wizard serving with the columns it had.
func TestFailedReloadKeepsServing(t *testing.T) {
	db := testdbSQLite(t)
	table := createTable(t, db, "frel", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
	insertRaw(t, db, sqldb.SQLite, table, map[string]any{"id": "alice", "name": "Alice"})
	w := newWizard(t, db, table, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	testdb.Exec(t, db, "ALTER TABLE "+table+" RENAME TO "+table+"_moved")
	testdb.Cleanup(t, db, "DROP TABLE IF EXISTS "+table+"_moved")
	assert.ErrorIs(t, w.Reload(ctx), errors.ErrInvalid, "the table is gone")
	assert.Equal(t, []string{"id", "name"}, w.Columns())
	testdb.Exec(t, db, "ALTER TABLE "+table+"_moved RENAME TO "+table)
	_, found, err := w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, found)
}

// Calls running while the wizard reloads or closes are not broken by statements closed under
// them.
func TestReloadAndCloseDuringCalls(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "busy", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
		insertRaw(t, db, dc.dialect, table, map[string]any{"id": "alice", "name": "Alice"})
		w, err := sqldb.New(db, table, nil)
		require.NoError(t, err)
		ctx := ctxTimeout(t, 30*time.Second)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, found, err := w.Retrieve(ctx, "alice")
					if errors.Is(err, errors.ErrClosed) {
						return
					}
					if err != nil || !found {
						t.Errorf("Retrieve during reloads: found=%v err=%v", found, err)
						return
					}
					if _, err := w.Search(ctx, sorcery.Query{IDPrefix: "al"}); err != nil && !errors.Is(err, errors.ErrClosed) {
						t.Errorf("Search during reloads: %v", err)
						return
					}
				}
			})
		}
		for range 20 {
			require.NoError(t, w.Reload(ctx))
		}
		require.NoError(t, w.Close())
		close(stop)
		wg.Wait()
		assert.ErrorIs(t, w.Reload(ctx), errors.ErrClosed)
		assert.NoError(t, db.PingContext(ctx), "Close leaves the database open")
	})
}

// The statements a wizard runs are prepared once and reused: the database sees no new
// prepare for repeated calls.
func TestStatementsArePreparedOnce(t *testing.T) {
	db := testdb.Postgres(t)
	table := createTable(t, db, "prep", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
	insertRaw(t, db, sqldb.PostgreSQL, table, map[string]any{"id": "alice", "name": "Alice"})
	db.SetMaxOpenConns(1) // one connection, whose prepared statements we can list
	w := newWizard(t, db, table, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	for range 20 {
		_, _, err := w.Retrieve(ctx, "alice")
		require.NoError(t, err)
		_, err = w.Search(ctx, sorcery.Query{IDPrefix: "a"})
		require.NoError(t, err)
	}
	rows, err := db.QueryContext(ctx, "SELECT statement FROM pg_prepared_statements")
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		if strings.HasPrefix(s, "SELECT") && strings.Contains(s, table) {
			n++
		}
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 2, n, "one statement for Retrieve, one for the Search, on the connection")
}
