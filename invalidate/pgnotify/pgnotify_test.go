package pgnotify

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/tcpproxy"
	"github.com/gosorcery/gosorcery/internal/testbus"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestMain(m *testing.M) {
	slog.SetDefault(testbus.Quiet()) // the sources' warnings about outages are expected here
	os.Exit(m.Run())
}

const wait = 10 * time.Second

// schema creates a schema of the test's own, dropped when it ends, and returns a connection
// string whose search path is that schema and a database on it.
func schema(t *testing.T) (string, *sql.DB) {
	t.Helper()
	dsn := testbus.PostgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	name := testbus.Unique("sorcery_test")
	_, err = admin.ExecContext(t.Context(), "CREATE SCHEMA "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		assert.NoError(t, err)
		admin.Close()
	})
	sdsn := withParams(t, dsn, map[string]string{"search_path": name})
	db, err := sql.Open("pgx", sdsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return sdsn, db
}

// withParams returns dsn with its connection parameters set to params.
func withParams(t *testing.T, dsn string, params map[string]string) string {
	t.Helper()
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		dsn += " " + k + "=" + v
	}
	return dsn
}

// through returns dsn pointing at a loopback proxy to its server, and the proxy.
func through(t *testing.T, dsn string) (string, *tcpproxy.Proxy) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	require.NoError(t, err)
	p, err := tcpproxy.New(fmt.Sprintf("%s:%d", cfg.Host, cfg.Port))
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return withParams(t, dsn, map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(p.Port())}), p
}

func createEndpoints(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	_, err := db.ExecContext(t.Context(), "CREATE TABLE "+table+" (id varchar(40) PRIMARY KEY, context varchar(80))")
	require.NoError(t, err)
}

func startSource(t *testing.T, dsn string, target invalidate.Target, opts *Options) *invalidate.Source {
	t.Helper()
	s, err := NewSource(dsn, target, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	select {
	case <-s.Ready():
	case <-time.After(wait):
		t.Fatalf("the source did not connect: %+v", s.Stats())
	}
	return s
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	_, err := db.ExecContext(t.Context(), query, args...)
	require.NoError(t, err, query)
}

func TestPostgresTriggerAnnouncesInsertsUpdatesRenamesAndDeletes(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	createEndpoints(t, db, "ps_endpoints")
	channel := testbus.Unique("inval")
	require.NoError(t, Install(t.Context(), db, channel, Table{Name: "ps_endpoints", Type: "endpoint"}))
	rec := &testbus.Recorder{}
	startSource(t, dsn, rec, &Options{Channel: channel})

	exec(t, db, "INSERT INTO ps_endpoints (id, context) VALUES ('alice', 'a')")
	exec(t, db, "UPDATE ps_endpoints SET context = 'b' WHERE id = 'alice'")
	exec(t, db, "UPDATE ps_endpoints SET id = 'bob' WHERE id = 'alice'")
	exec(t, db, "DELETE FROM ps_endpoints WHERE id = 'bob'")
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(t.Context(), "INSERT INTO ps_endpoints (id) VALUES ('rolled-back')")
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	exec(t, db, "INSERT INTO ps_endpoints (id) VALUES ('dave')")

	got := rec.WaitInvalidations(t, 6, wait)
	assert.Equal(t, []sorcery.Invalidation{
		{Type: "endpoint", ID: "alice", Change: sorcery.Changed},
		{Type: "endpoint", ID: "alice", Change: sorcery.Changed},
		{Type: "endpoint", ID: "alice", Change: sorcery.Deleted},
		{Type: "endpoint", ID: "bob", Change: sorcery.Changed},
		{Type: "endpoint", ID: "bob", Change: sorcery.Deleted},
		{Type: "endpoint", ID: "dave", Change: sorcery.Changed},
	}, got)
}

func TestPostgresTriggerReadsTheConfiguredIDColumn(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	exec(t, db, "CREATE TABLE sippeers (name varchar(40) PRIMARY KEY, host varchar(40))")
	channel := testbus.Unique("inval")
	require.NoError(t, Install(t.Context(), db, channel, Table{Name: "sippeers", Type: "peer", IDColumn: "name"}))
	rec := &testbus.Recorder{}
	startSource(t, dsn, rec, &Options{Channel: channel})

	exec(t, db, "INSERT INTO sippeers (name, host) VALUES ('trunk', 'dynamic'), ('', 'ignored')")
	exec(t, db, "DELETE FROM sippeers")
	exec(t, db, "INSERT INTO sippeers (name) VALUES ('end')")
	assert.Equal(t, []sorcery.Invalidation{
		{Type: "peer", ID: "trunk", Change: sorcery.Changed},
		{Type: "peer", ID: "trunk", Change: sorcery.Deleted},
		{Type: "peer", ID: "end", Change: sorcery.Changed},
	}, rec.WaitInvalidations(t, 3, wait), "an empty id is not announced")
}

func TestPostgresShippedScriptAnnouncesEveryPSTable(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	for _, tb := range PSTables() {
		exec(t, db, "CREATE TABLE "+tb.Name+" (id varchar(255) PRIMARY KEY, extra text)")
	}
	exec(t, db, PSTablesSQL())
	exec(t, db, PSTablesSQL()) // running it again replaces what it installed
	// The shipped script announces on the default channel, which other runs may share: the
	// ids are unique and the source only looks for them.
	id := testbus.Unique("obj")
	rec := &testbus.Recorder{}
	startSource(t, dsn, rec, nil)
	var want []sorcery.Invalidation
	for _, tb := range PSTables() {
		exec(t, db, "INSERT INTO "+tb.Name+" (id) VALUES ($1)", id)
		want = append(want, sorcery.Invalidation{Type: tb.Type, ID: id, Change: sorcery.Changed})
	}
	deadline := time.Now().Add(wait)
	for {
		var mine []sorcery.Invalidation
		for _, inv := range rec.Invalidations() {
			if inv.ID == id {
				mine = append(mine, inv)
			}
		}
		if len(mine) >= len(want) || time.Now().After(deadline) {
			assert.Equal(t, want, mine)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPostgresPublisherReachesEverySourceInOrder(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	channel := testbus.Unique("inval")
	const sources, changes = 5, 200
	recs := make([]*testbus.Recorder, sources)
	for i := range recs {
		recs[i] = &testbus.Recorder{}
		startSource(t, dsn, recs[i], &Options{Channel: channel})
	}
	p, err := NewPublisher(db, &Options{Channel: channel})
	require.NoError(t, err)
	var want []sorcery.Invalidation
	for i := range changes {
		inv := sorcery.Invalidation{Type: "endpoint", ID: fmt.Sprintf("ep%03d", i), Change: sorcery.Change(i % 2)}
		require.NoError(t, p.Publish(t.Context(), inv))
		want = append(want, inv)
	}
	for i, rec := range recs {
		assert.Equal(t, want, rec.WaitInvalidations(t, changes, wait), "source %d", i)
	}
}

func TestPostgresNotificationsInsideARolledBackTransactionAreNotSent(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	channel := testbus.Unique("inval")
	rec := &testbus.Recorder{}
	startSource(t, dsn, rec, &Options{Channel: channel})

	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	p, err := NewPublisher(tx, &Options{Channel: channel})
	require.NoError(t, err)
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "rolled-back"}))
	require.NoError(t, tx.Rollback())

	tx, err = db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	p, err = NewPublisher(tx, &Options{Channel: channel})
	require.NoError(t, err)
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "committed"}))
	time.Sleep(50 * time.Millisecond)
	assert.Empty(t, rec.Invalidations(), "nothing is sent before the commit")
	require.NoError(t, tx.Commit())
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "committed"}}, rec.WaitInvalidations(t, 1, wait))
}

func TestPostgresSourceCountsMalformedNotifications(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	channel := testbus.Unique("inval")
	rec := &testbus.Recorder{}
	s := startSource(t, dsn, rec, &Options{Channel: channel, SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint"}}})
	exec(t, db, "SELECT pg_notify($1, 'not json')", channel)
	exec(t, db, `SELECT pg_notify($1, '{"v":1,"type":"aor","id":"filtered","change":"changed"}')`, channel)
	exec(t, db, `SELECT pg_notify($1, '{"v":1,"type":"endpoint","id":"last","change":"changed"}')`, channel)
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "last"}}, rec.WaitInvalidations(t, 1, wait))
	st := s.Stats()
	assert.EqualValues(t, 1, st.Malformed)
	assert.EqualValues(t, 2, st.Received)
	assert.EqualValues(t, 1, st.Ignored)
}

func TestPostgresSourceReconnectsAndMarksStaleAfterACut(t *testing.T) {
	testbus.CheckLeaks(t, "invalidate.(*Source)", "pgnotify.(*listener)", "pgconn.", "tcpproxy.(*Proxy)")
	dsn, db := schema(t)
	pdsn, proxy := through(t, dsn)
	channel := testbus.Unique("inval")
	rec := &testbus.Recorder{}
	s := startSource(t, pdsn, rec, &Options{
		Channel:       channel,
		PingInterval:  time.Second,
		SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint"}, Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
	})
	p, err := NewPublisher(db, &Options{Channel: channel})
	require.NoError(t, err)
	assert.Equal(t, []string{"endpoint"}, rec.WaitStales(t, 1, wait))

	proxy.Cut()
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "lost"}))
	time.Sleep(500 * time.Millisecond)
	assert.Empty(t, rec.Invalidations(), "the cut source hears nothing")
	assert.False(t, s.Stats().Connected)

	proxy.Restore()
	assert.Equal(t, []string{"endpoint", "endpoint"}, rec.WaitStales(t, 2, wait), "a reconnection marks the type stale")
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "after"}))
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "after"}}, rec.WaitInvalidations(t, 1, wait))
	st := s.Stats()
	assert.EqualValues(t, 2, st.Connects)
	assert.GreaterOrEqual(t, st.Failures, int64(1))
	assert.ErrorIs(t, st.LastError, errors.ErrUnavailable)

	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), errors.ErrClosed)
}

func TestPostgresSourceNoticesASilentlyDeadConnection(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	pdsn, proxy := through(t, dsn)
	channel := testbus.Unique("inval")
	rec := &testbus.Recorder{}
	s := startSource(t, pdsn, rec, &Options{
		Channel:        channel,
		PingInterval:   300 * time.Millisecond,
		ConnectTimeout: 500 * time.Millisecond,
		SourceOptions:  invalidate.SourceOptions{Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
	})
	proxy.Stall()
	require.Eventually(t, func() bool { return !s.Stats().Connected }, wait, 10*time.Millisecond, "an unanswered ping ends the connection")
	proxy.Restore()
	rec.WaitStales(t, 2, wait)
	p, err := NewPublisher(db, &Options{Channel: channel})
	require.NoError(t, err)
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "after"}))
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "after"}}, rec.WaitInvalidations(t, 1, wait))
}

// tableWizard reads endpoints from a table with columns id and context: the source of the
// cluster tests, written to with SQL so that the trigger announces the changes.
type tableWizard struct {
	db    *sql.DB
	table string
}

func (w tableWizard) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	var c sql.NullString
	err := w.db.QueryRowContext(ctx, "SELECT context FROM "+w.table+" WHERE id = $1", id).Scan(&c)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sorcery.Record{}, false, nil
	case err != nil:
		return sorcery.Record{}, false, fmt.Errorf("sorcery: %s: %w (%w)", w.table, err, errors.ErrUnavailable)
	}
	return sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "context", Value: c.String}}}, true, nil
}

func TestPostgresFiveInstancesSeeATriggeredChangeWithin100ms(t *testing.T) {
	dsn, db := schema(t)
	createEndpoints(t, db, "ps_endpoints")
	exec(t, db, "INSERT INTO ps_endpoints (id, context) VALUES ('alice', 'v0')")
	db.SetMaxIdleConns(10) // the five instances refresh at once: keep their connections open
	cl := testbus.NewCluster(t, 5, tableWizard{db: db, table: "ps_endpoints"})
	cl.RequireServing(t, "alice", "v0")
	exec(t, db, "UPDATE ps_endpoints SET context = 'unannounced' WHERE id = 'alice'") // no trigger yet
	cl.Holds(t, "alice", "v0", 200*time.Millisecond)                                  // the caches serve what they hold until told
	channel := testbus.Unique("inval")
	require.NoError(t, Install(t.Context(), db, channel, Table{Name: "ps_endpoints", Type: "endpoint"}))
	for _, in := range cl.Instances {
		startSource(t, dsn, in.Sorcery, &Options{Channel: channel, SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint"}}})
	}
	cl.Await(t, "alice", "unannounced", wait) // subscribing marks the caches stale: they catch up

	// The writer commits without waiting for the WAL to reach the disk: the change is
	// committed, visible and announced at the same moment, and the figure measures the
	// announcement rather than the disk's fsync.
	writer, err := sql.Open("pgx", withParams(t, dsn, map[string]string{"synchronous_commit": "off"}))
	require.NoError(t, err)
	defer writer.Close()
	lat := cl.MeasureWithin(t, "alice", 200, 100*time.Millisecond, func(value string) {
		exec(t, writer, "UPDATE ps_endpoints SET context = $1 WHERE id = 'alice'", value)
	})
	t.Logf("PostgreSQL, UPDATE visible on all 5 instances, best round: %v", lat)
	assert.LessOrEqual(t, lat.Percentile(99), 100*time.Millisecond, "%v", lat)

	exec(t, db, "DELETE FROM ps_endpoints WHERE id = 'alice'")
	t.Logf("PostgreSQL, DELETE visible on all 5 instances after %v", cl.Await(t, "alice", "", wait))
}

func TestPostgresOutageChangesArriveAfterTheReconnect(t *testing.T) {
	testbus.CheckLeaks(t, "invalidate.(*Source)", "pgnotify.(*listener)", "pgconn.", "tcpproxy.(*Proxy)")
	dsn, db := schema(t)
	pdsn, proxy := through(t, dsn)
	createEndpoints(t, db, "ps_endpoints")
	exec(t, db, "INSERT INTO ps_endpoints (id, context) VALUES ('alice', 'v0'), ('bob', 'v0')")
	db.SetMaxIdleConns(10)
	cl := testbus.NewCluster(t, 5, tableWizard{db: db, table: "ps_endpoints"})
	cl.RequireServing(t, "alice", "v0")
	cl.RequireServing(t, "bob", "v0")
	exec(t, db, "UPDATE ps_endpoints SET context = 'v0b'") // before the trigger: not announced
	channel := testbus.Unique("inval")
	require.NoError(t, Install(t.Context(), db, channel, Table{Name: "ps_endpoints", Type: "endpoint"}))
	var sources []*invalidate.Source
	for _, in := range cl.Instances {
		sources = append(sources, startSource(t, pdsn, in.Sorcery, &Options{
			Channel:       channel,
			SourceOptions: invalidate.SourceOptions{Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		}))
	}
	// Subscribing marked the caches stale: the reads here refresh them; wait until they have.
	cl.Await(t, "alice", "v0b", wait)
	cl.Await(t, "bob", "v0b", wait)

	proxy.Cut()
	require.Eventually(t, func() bool {
		for _, s := range sources {
			if s.Stats().Connected {
				return false
			}
		}
		return true
	}, wait, 10*time.Millisecond)
	exec(t, db, "UPDATE ps_endpoints SET context = 'v1' WHERE id = 'alice'")
	exec(t, db, "DELETE FROM ps_endpoints WHERE id = 'bob'")
	cl.Holds(t, "alice", "v0b", 300*time.Millisecond) // the bus is down: the caches serve what they hold
	cl.Holds(t, "bob", "v0b", 0)

	proxy.Restore()
	t.Logf("after the reconnect, the change is visible everywhere in %v", cl.Await(t, "alice", "v1", wait))
	cl.Await(t, "bob", "", wait)
	for _, s := range sources {
		assert.EqualValues(t, 2, s.Stats().Connects)
		require.NoError(t, s.Close())
	}
}

func TestPostgresObjectCreatedWhileTheBusWasCutIsFoundAfterTheReconnect(t *testing.T) {
	dsn, _ := schema(t)
	pdsn, proxy := through(t, dsn)
	channel := testbus.Unique("inval")
	testbus.CreatedWhileCutIsFoundAfterTheReconnect(t, proxy, func(in *testbus.Instance) func() bool {
		s := startSource(t, pdsn, in.Sorcery, &Options{
			Channel:       channel,
			PingInterval:  time.Second,
			SourceOptions: invalidate.SourceOptions{Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		})
		return func() bool { return s.Stats().Connected }
	})
}

func TestPostgresTriggerAnnouncesTheObjectIDNotTheRealtimeEscapes(t *testing.T) {
	t.Parallel()
	dsn, db := schema(t)
	exec(t, db, "CREATE TABLE ps_contacts (id varchar(255) PRIMARY KEY, uri varchar(511))")
	channel := testbus.Unique("inval")
	require.NoError(t, Install(t.Context(), db, channel, Table{Name: "ps_contacts", Type: "contact"}))
	rec := &testbus.Recorder{}
	startSource(t, dsn, rec, &Options{Channel: channel})

	// As Asterisk's realtime drivers and sqldb store them: ';' as ^3B, '^' as ^5E.
	exec(t, db, "INSERT INTO ps_contacts (id) VALUES ('1001^3B@a1b2')")
	exec(t, db, "UPDATE ps_contacts SET id = 'x^5E3By' WHERE id = '1001^3B@a1b2'")
	exec(t, db, "DELETE FROM ps_contacts")
	// Not escapes: a lone '^', a '^' without two hexadecimal digits after it, one at the end,
	// and one whose byte is not UTF-8 (kept as stored; the write is never refused).
	exec(t, db, "INSERT INTO ps_contacts (id) VALUES ('a^'), ('b^zz'), ('c^3'), ('d^FF')")
	got := rec.WaitInvalidations(t, 8, wait)
	assert.Equal(t, []sorcery.Invalidation{
		{Type: "contact", ID: "1001;@a1b2", Change: sorcery.Changed},
		{Type: "contact", ID: "1001;@a1b2", Change: sorcery.Deleted},
		{Type: "contact", ID: "x^3By", Change: sorcery.Changed},
		{Type: "contact", ID: "x^3By", Change: sorcery.Deleted},
		{Type: "contact", ID: "a^", Change: sorcery.Changed},
		{Type: "contact", ID: "b^zz", Change: sorcery.Changed},
		{Type: "contact", ID: "c^3", Change: sorcery.Changed},
		{Type: "contact", ID: "d^FF", Change: sorcery.Changed},
	}, got)
}
