package realtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/backends/realtime"
	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorcerytest"
)

var alice = sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "default"}}}

// chain opens the wizard of ps_endpoints over memory wizards, one per database name, with
// the extconfig.conf lines given.
func chain(t *testing.T, lines string, dbs ...string) (*realtime.Wizard, map[string]*memory.Wizard) {
	t.Helper()
	mem := map[string]*memory.Wizard{}
	for _, db := range dbs {
		mem[db] = memory.New()
	}
	c, err := realtime.ParseConfig("extconfig.conf", []byte("[settings]\n"+lines))
	require.NoError(t, err)
	w, err := c.Open("ps_endpoints", &realtime.Options{Drivers: map[string]realtime.Driver{
		"mem": func(m realtime.Mapping) (sorcery.Wizard, error) {
			if w, ok := mem[m.Database]; ok {
				return w, nil
			}
			return nil, fmt.Errorf("no database %q: %w", m.Database, errors.ErrInvalid)
		},
	}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	return w, mem
}

const twoPriorities = "ps_endpoints => mem,primary,ps_endpoints,1\nps_endpoints => mem,backup,ps_endpoints,2\n"

// Priority 1 down: priority 2 answers.
func TestPriorityOneDownPriorityTwoAnswers(t *testing.T) {
	w, mem := chain(t, twoPriorities, "primary", "backup")
	mem["backup"].Put(alice)
	mem["primary"].SetError(fmt.Errorf("connection refused: %w", errors.ErrUnavailable))
	ctx := t.Context()

	got, found, err := w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, alice, got)

	rs, err := w.Search(ctx, sorcery.Query{})
	require.NoError(t, err)
	assert.Len(t, rs, 1)

	require.NoError(t, w.Create(ctx, sorcery.Record{ID: "bob"}), "a write fails over too")
	_, found, _ = mem["backup"].Retrieve(ctx, "bob")
	assert.True(t, found, "bob went to priority 2")
}

// Priority 1 says "not found": that is the answer, priority 2 is not asked (Asterisk's
// issue #1305 is that it is).
func TestPriorityOneNotFoundDoesNotFailOver(t *testing.T) {
	w, mem := chain(t, twoPriorities, "primary", "backup")
	mem["backup"].Put(alice) // a stale copy that must not come back
	ctx := t.Context()

	_, found, err := w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Zero(t, mem["backup"].Calls().Total(), "priority 2 was not asked")

	rs, err := w.Search(ctx, sorcery.Query{})
	require.NoError(t, err)
	assert.Empty(t, rs, "an empty answer is an answer")

	mem["primary"].Put(alice)
	assert.ErrorIs(t, w.Create(ctx, alice), errors.ErrExists, "exists is an answer")
	assert.ErrorIs(t, w.Delete(ctx, "ghost"), errors.ErrNotFound, "not found is an answer")
	assert.Zero(t, mem["backup"].Calls().Total(), "priority 2 was never asked")
}

// Every priority down: the errors are joined, and the result is unavailable, never absent.
func TestEveryPriorityDownIsUnavailable(t *testing.T) {
	w, mem := chain(t, twoPriorities, "primary", "backup")
	for _, m := range mem {
		m.SetError(fmt.Errorf("down: %w", errors.ErrUnavailable))
	}
	_, found, err := w.Retrieve(t.Context(), "alice")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorContains(t, err, "priority 1")
	assert.ErrorContains(t, err, "priority 2")
	_, err = w.Search(t.Context(), sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorIs(t, w.Update(t.Context(), alice), errors.ErrUnavailable)
}

// A caller that gave up is not failed over: the next priority is not asked.
func TestCancelledCallDoesNotFailOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, mem := chain(t, twoPriorities, "primary", "backup")
		mem["primary"].SetDelay(time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := w.Retrieve(ctx, "alice")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "returns at the deadline")
		assert.Zero(t, mem["backup"].Calls().Total())
	})
}

// Configuration errors are found when the wizard opens.
func TestOpenRejectsBadChains(t *testing.T) {
	for name, lines := range map[string]string{
		"no family":        "ps_aors => mem,primary\n",
		"unknown driver":   "ps_endpoints => oracle,primary\n",
		"unknown database": "ps_endpoints => mem,nowhere\n",
		"unknown SQL db":   "ps_endpoints => pgsql,asterisk\n",
	} {
		c, err := realtime.ParseConfig("extconfig.conf", []byte("[settings]\n"+lines))
		require.NoError(t, err, name)
		_, err = c.Open("ps_endpoints", &realtime.Options{Drivers: map[string]realtime.Driver{
			"mem": func(m realtime.Mapping) (sorcery.Wizard, error) {
				if m.Database == "primary" {
					return memory.New(), nil
				}
				return nil, errors.ErrInvalid
			},
		}})
		assert.ErrorIs(t, err, errors.ErrInvalid, name)
	}
}

// The family wizard passes the conformance suite over SQL tables.
func TestConformanceOverSQLite(t *testing.T) {
	db := testdb.SQLite(t)
	sorcerytest.Run(t, func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
		table := testdb.Name(t, "rt")
		testdb.Exec(t, db, "CREATE TABLE "+table+" (id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(255), "+
			"context VARCHAR(40), max_contacts INTEGER, allow VARCHAR(200))")
		t.Cleanup(func() { _, _ = db.Exec("DROP TABLE " + table) })
		loader, err := sqldb.New(db, table, nil)
		require.NoError(t, err)
		for _, r := range seed {
			require.NoError(t, loader.Create(t.Context(), r))
		}
		require.NoError(t, loader.Close())
		c, err := realtime.ParseConfig("extconfig.conf", []byte("[settings]\nps_endpoints => sqlite3,asterisk,"+table+"\n"))
		require.NoError(t, err)
		w, err := c.Open("ps_endpoints", &realtime.Options{Databases: map[string]*sql.DB{"asterisk": db}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return w
	})
}

// A real database going down fails over to the next priority, and a real "not found" does
// not.
func TestSQLFailover(t *testing.T) {
	for _, tc := range []struct {
		name    string
		driver  string
		through func(testing.TB) (*sql.DB, *testdb.Proxy)
		direct  func(testing.TB) *sql.DB
	}{
		{"postgres", "pgsql", testdb.PostgresThrough, testdb.Postgres},
		{"mysql", "mysql", testdb.MySQLThrough, testdb.MySQL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct := tc.direct(t)
			table := testdb.Name(t, "ps_endpoints")
			testdb.Exec(t, direct, "CREATE TABLE "+table+" (id VARCHAR(255) NOT NULL PRIMARY KEY, context VARCHAR(40))")
			testdb.Cleanup(t, direct, "DROP TABLE IF EXISTS "+table)
			primary, proxy := tc.through(t)

			backup := testdb.SQLite(t)
			testdb.Exec(t, backup, "CREATE TABLE "+table+" (id VARCHAR(255) NOT NULL PRIMARY KEY, context VARCHAR(40))",
				"INSERT INTO "+table+" (id, context) VALUES ('alice', 'backup'), ('bob', 'backup')")
			_, err := direct.Exec("INSERT INTO " + table + " (id, context) VALUES ('alice', 'primary')")
			require.NoError(t, err)

			lines := fmt.Sprintf("[settings]\nps_endpoints => %s,main,%s,1\nps_endpoints => sqlite3,local,%s,2\n", tc.driver, table, table)
			c, err := realtime.ParseConfig("extconfig.conf", []byte(lines))
			require.NoError(t, err)
			w, err := c.Open("ps_endpoints", &realtime.Options{
				Databases: map[string]*sql.DB{"main": primary, "local": backup},
				SQL:       &sqldb.Options{Timeout: 5 * time.Second},
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = w.Close() })
			ctx := t.Context()

			got, found, err := w.Retrieve(ctx, "alice")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, "primary", got.Fields.Value("context"), "priority 1 answers while up")
			_, found, err = w.Retrieve(ctx, "bob")
			require.NoError(t, err)
			assert.False(t, found, "priority 1 does not have bob: no failover to the backup's bob")

			proxy.Cut()
			got, found, err = w.Retrieve(ctx, "alice")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, "backup", got.Fields.Value("context"), "priority 2 answers while priority 1 is down")

			proxy.Restore()
			var ok bool
			for range 50 {
				got, found, err = w.Retrieve(ctx, "alice")
				if err == nil && found && got.Fields.Value("context") == "primary" {
					ok = true
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			assert.True(t, ok, "priority 1 answers again once it is back")
		})
	}
}

// Reload re-reads extconfig.conf when it changed and rebuilds the chain.
func TestReloadRereadsChangedConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "extconfig.conf")
	write := func(s string) {
		require.NoError(t, os.WriteFile(path, []byte("[settings]\n"+s), 0o600))
	}
	write("ps_endpoints => mem,one\n")
	mem := map[string]*memory.Wizard{"one": memory.New(), "two": memory.New()}
	mem["two"].Put(alice)
	w, err := realtime.New("ps_endpoints", &realtime.Options{Dir: dir, Drivers: map[string]realtime.Driver{
		"mem": func(m realtime.Mapping) (sorcery.Wizard, error) { return mem[m.Database], nil },
	}})
	require.NoError(t, err)
	defer w.Close()
	_, found, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.False(t, found)

	require.NoError(t, w.Reload(t.Context()), "unchanged: members reload")
	assert.Equal(t, int64(1), mem["one"].Calls().Reload)

	write("ps_endpoints => mem,two\n")
	require.NoError(t, w.Reload(t.Context()))
	_, found, err = w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.True(t, found, "the new chain serves")
	assert.Equal(t, "two", w.Mappings()[0].Database)

	write("ps_endpoints => nosuchdriver,two\n")
	assert.ErrorIs(t, w.Reload(t.Context()), errors.ErrInvalid)
	assert.Equal(t, "two", w.Mappings()[0].Database, "a bad reload keeps the chain")

	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Close(), errors.ErrClosed)
	_, _, err = w.Retrieve(t.Context(), "alice")
	assert.ErrorIs(t, err, errors.ErrClosed)
}

// The factory serves sorcery.conf's "realtime" wizard: Apply("endpoint", "realtime",
// "ps_endpoints").
func TestFactoryAppliesRealtimeMapping(t *testing.T) {
	db := testdb.SQLite(t)
	testdb.Exec(t, db, "CREATE TABLE ps_endpoints (id VARCHAR(255) NOT NULL PRIMARY KEY, context VARCHAR(40), allow VARCHAR(200))",
		"INSERT INTO ps_endpoints VALUES ('1001', 'from-internal', 'opus;ulaw')")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extconfig.conf"), []byte("[settings]\nps_endpoints => sqlite3,asterisk\n"), 0o600))

	type endpoint struct {
		ID      string   `sorcery:"id"`
		Context string   `sorcery:"context"`
		Allow   []string `sorcery:"allow"`
	}
	factory := realtime.Factory(&realtime.Options{Dir: dir, Databases: map[string]*sql.DB{"asterisk": db}})
	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{"realtime": factory}})
	defer s.Close()
	eps, err := sorcery.Register[endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, s.Apply("endpoint", "realtime", "ps_endpoints"))
	got, found, err := eps.Retrieve(t.Context(), "1001")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, endpoint{ID: "1001", Context: "from-internal", Allow: []string{"opus", "ulaw"}}, got)

	_, err = factory("endpoint", "ps_aors")
	assert.ErrorIs(t, err, errors.ErrInvalid, "a family extconfig.conf lacks")
	assert.ErrorIs(t, s.Apply("endpoint", "realtime", "ps_endpoints_extra"), errors.ErrExists, "a second realtime mapping of endpoint is ignored")
}

// The curl driver reaches a provisioning service at the line's base URL; when the service
// fails, the next priority answers, and its "not found" is an answer.
func TestCurlFailover(t *testing.T) {
	source := memory.New()
	source.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "from-curl"}}})
	srv := httptest.NewServer(curl.NewHandler(source, nil))
	defer srv.Close()

	local := testdb.SQLite(t)
	testdb.Exec(t, local, "CREATE TABLE ps_endpoints (id VARCHAR(255) PRIMARY KEY, context VARCHAR(40))",
		"INSERT INTO ps_endpoints VALUES ('alice', 'from-sqlite'), ('bob', 'from-sqlite')")
	c, err := realtime.ParseConfig("extconfig.conf", []byte(fmt.Sprintf(
		"[settings]\nps_endpoints => curl,\"%s/ps_endpoints\"\nps_endpoints => sqlite3,local,ps_endpoints,2\n", srv.URL)))
	require.NoError(t, err)
	w, err := c.Open("ps_endpoints", &realtime.Options{
		Databases: map[string]*sql.DB{"local": local},
		Curl:      &curl.Options{Timeout: 2 * time.Second},
	})
	require.NoError(t, err)
	defer w.Close()
	ctx := t.Context()

	got, found, err := w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "from-curl", got.Fields.Value("context"))
	_, found, err = w.Retrieve(ctx, "bob")
	require.NoError(t, err)
	assert.False(t, found, "the service said not found: no failover")

	source.SetError(fmt.Errorf("database behind the service is down: %w", errors.ErrUnavailable))
	got, found, err = w.Retrieve(ctx, "alice")
	require.NoError(t, err, "the service fails (5xx): priority 2 answers")
	require.True(t, found)
	assert.Equal(t, "from-sqlite", got.Fields.Value("context"))

	srv.Close() // the service is gone
	got, found, err = w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "from-sqlite", got.Fields.Value("context"))
}
