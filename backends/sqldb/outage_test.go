package sqldb_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// proxied is a networked database reached through a loopback proxy the test controls.
type proxied struct {
	name    string
	dialect sqldb.Dialect
	through func(testing.TB) (*sql.DB, *testdb.Proxy)
	direct  func(testing.TB) *sql.DB
}

var networked = []proxied{
	{"postgres", sqldb.PostgreSQL, testdb.PostgresThrough, testdb.Postgres},
	{"mysql", sqldb.MySQL, testdb.MySQLThrough, testdb.MySQL},
}

// eachNetworked runs f per networked dialect with a table holding alice, created directly,
// and a pool that reaches the server through the proxy.
func eachNetworked(t *testing.T, f func(t *testing.T, pc proxied, db *sql.DB, p *testdb.Proxy, table string)) {
	for _, pc := range networked {
		t.Run(pc.name, func(t *testing.T) {
			direct := pc.direct(t)
			table := createTable(t, direct, "out", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
			insertRaw(t, direct, pc.dialect, table, map[string]any{"id": "alice", "name": "Alice"})
			db, p := pc.through(t)
			db.SetConnMaxIdleTime(time.Minute)
			f(t, pc, db, p, table)
		})
	}
}

// calls are one of each of the wizard's calls, for outage checks.
func calls(w *sqldb.Wizard) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Retrieve": func(ctx context.Context) error {
			_, found, err := w.Retrieve(ctx, "alice")
			if found {
				return errors.New("found during an outage")
			}
			return err
		},
		"Search": func(ctx context.Context) error {
			_, err := w.Search(ctx, sorcery.Query{IDPrefix: "a"})
			return err
		},
		"Create": func(ctx context.Context) error {
			return w.Create(ctx, sorcery.Record{ID: "bob", Fields: sorcery.Fields{{Name: "name", Value: "Bob"}}})
		},
		"Update": func(ctx context.Context) error {
			return w.Update(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}}})
		},
		"Delete": func(ctx context.Context) error { return w.Delete(ctx, "nobody") },
	}
}

// retrieveAlice retrieves alice, retrying for a few seconds while the pool gets rid of
// connections that died, and reports whether it was found in the end.
func retrieveAlice(t *testing.T, w *sqldb.Wizard) bool {
	t.Helper()
	var err error
	for range 50 {
		var found bool
		_, found, err = w.Retrieve(ctxTimeout(t, 5*time.Second), "alice")
		if err == nil {
			return found
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("Retrieve(alice) after recovery: %v", err)
	return false
}

// A database that goes away is errors.ErrUnavailable for every call, within the caller's
// deadline; when it comes back the same wizard serves again.
func TestOutageIsUnavailableAndRecovers(t *testing.T) {
	eachNetworked(t, func(t *testing.T, pc proxied, db *sql.DB, p *testdb.Proxy, table string) {
		w := newWizard(t, db, table, nil)
		require.True(t, retrieveAlice(t, w), "alice before the outage")
		for name, call := range calls(w) {
			require.NotErrorIs(t, call(ctxTimeout(t, 5*time.Second)), errors.ErrUnavailable, "%s before the outage", name)
		}

		p.Cut()
		for name, call := range calls(w) {
			const deadline = 5 * time.Second
			start := time.Now()
			err := call(ctxTimeout(t, deadline))
			assert.ErrorIs(t, err, errors.ErrUnavailable, "%s with the server cut off", name)
			assert.Less(t, time.Since(start), deadline, "%s returns within its deadline", name)
		}

		p.Restore()
		assert.True(t, retrieveAlice(t, w), "alice after the outage, same wizard")
	})
}

// A server that stops answering is errors.ErrUnavailable once the deadline (the caller's or
// Options.Timeout) passes.
func TestHungServerTimesOutAsUnavailable(t *testing.T) {
	eachNetworked(t, func(t *testing.T, pc proxied, db *sql.DB, p *testdb.Proxy, table string) {
		w := newWizard(t, db, table, nil)
		bounded := newWizard(t, db, table, &sqldb.Options{Timeout: 300 * time.Millisecond})
		require.True(t, retrieveAlice(t, w))
		p.Stall()

		start := time.Now()
		_, _, err := w.Retrieve(ctxTimeout(t, 300*time.Millisecond), "alice")
		assert.ErrorIs(t, err, errors.ErrUnavailable, "caller's deadline")
		assert.ErrorIs(t, err, context.DeadlineExceeded, "caller's deadline")
		assert.Less(t, time.Since(start), 3*time.Second, "returns soon after the deadline")

		start = time.Now()
		_, _, err = bounded.Retrieve(context.Background(), "alice")
		assert.ErrorIs(t, err, errors.ErrUnavailable, "Options.Timeout")
		assert.Less(t, time.Since(start), 3*time.Second, "returns soon after Options.Timeout")

		// A wizard opened while the server hangs opens (New gives up on the columns after
		// its Timeout) and fails its calls as unavailable within their deadline.
		start = time.Now()
		late, err := sqldb.New(db, table, &sqldb.Options{Timeout: 300 * time.Millisecond})
		require.NoError(t, err, "New while the server hangs")
		t.Cleanup(func() { _ = late.Close() })
		assert.Less(t, time.Since(start), 3*time.Second, "New returns soon after its Timeout")
		start = time.Now()
		_, _, err = late.Retrieve(ctxTimeout(t, 300*time.Millisecond), "alice")
		assert.ErrorIs(t, err, errors.ErrUnavailable, "columns not known, server hung")
		assert.ErrorIs(t, err, context.DeadlineExceeded, "columns not known, server hung")
		assert.Less(t, time.Since(start), 3*time.Second)

		p.Restore()
		assert.True(t, retrieveAlice(t, w), "alice once the server answers again")
		assert.True(t, retrieveAlice(t, late), "the late wizard learns its columns and serves")
	})
}

// A wizard opened while its database is down learns its columns when the database comes
// up; until then every call is errors.ErrUnavailable. With RequireConnection, New fails.
func TestWizardOpenedWhileDatabaseDownStartsServingLater(t *testing.T) {
	eachNetworked(t, func(t *testing.T, pc proxied, db *sql.DB, p *testdb.Proxy, table string) {
		p.Cut()
		_, err := sqldb.NewContext(ctxTimeout(t, 5*time.Second), db, table, &sqldb.Options{RequireConnection: true})
		assert.ErrorIs(t, err, errors.ErrUnavailable, "RequireConnection")

		w, err := sqldb.NewContext(ctxTimeout(t, 5*time.Second), db, table, nil)
		require.NoError(t, err, "New while the database is down")
		t.Cleanup(func() { _ = w.Close() })
		assert.Nil(t, w.Columns(), "columns unknown yet")
		assert.Equal(t, pc.dialect, w.Dialect(), "dialect known from the driver")
		for name, call := range calls(w) {
			assert.ErrorIs(t, call(ctxTimeout(t, 5*time.Second)), errors.ErrUnavailable, "%s before the database came up", name)
		}

		p.Restore()
		assert.True(t, retrieveAlice(t, w), "alice once the database is up")
		assert.Equal(t, []string{"id", "name"}, w.Columns())
	})
}
