package main

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/internal/pjsipgen"
	"github.com/gosorcery/gosorcery/internal/testdb"
)

// usersConf writes a pjsip.conf of n users (3n objects) and returns its path.
func usersConf(t *testing.T, n int) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, pjsipgen.Write(&b, n))
	path := filepath.Join(t.TempDir(), "users.conf")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

// interruptedImport imports the test configuration into db, then a large one into through
// (the same database, reached another way), calling interrupt after the second batch, or
// cancelling the import's context when interrupt is nil; it requires the import to fail, and the tables to hold exactly what they held
// before it.
func interruptedImport(t *testing.T, db, through string, interrupt func()) {
	t.Helper()
	mustRun(t, exitOK, "import", testConf, "-db", db)
	before, _ := mustRun(t, exitOK, "export", "-db", db)

	big := usersConf(t, 1500) // 4500 objects: five batches
	batches := 0
	o := &importOptions{db: through, createTables: true, progress: "never", afterBatch: func(int) {
		if batches++; batches == 2 {
			interrupt()
		}
	}}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if interrupt == nil {
		o.afterBatch = func(int) {
			if batches++; batches == 2 {
				cancel()
			}
		}
	}
	err := importConf(ctx, big, o, &out, &errOut)
	require.Error(t, err, "an import whose database went away mid-way")
	assert.Contains(t, err.Error(), "nothing was written")
	assert.Equal(t, 2, batches, "batches made before the interruption")

	after, _ := mustRun(t, exitOK, "export", "-db", db)
	assert.Equal(t, before, after, "the tables after an interrupted import")
}

func TestImportInterruptedLeavesSQLiteAsItWas(t *testing.T) {
	db := sqliteDB(t)
	interruptedImport(t, db, db, nil) // the interrupt: a cancelled context
}

func TestImportCutOffFromPostgresLeavesTablesAsTheyWere(t *testing.T) {
	db := testdb.Postgres(t)
	schema := testdb.Name(t, "provision")
	testdb.Exec(t, db, "CREATE SCHEMA "+schema)
	testdb.Cleanup(t, db, "DROP SCHEMA "+schema+" CASCADE")
	u, err := url.Parse(testdb.PostgresDSN(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	host := u.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "5432")
	}
	p := testdb.NewProxy(t, host)
	via := *u
	via.Host = p.Addr()
	interruptedImport(t, u.String(), via.String(), p.Cut)
}

func TestImportCutOffFromMySQLLeavesTablesAsTheyWere(t *testing.T) {
	db := testdb.MySQL(t)
	name := testdb.Name(t, "provision")
	testdb.Exec(t, db, "CREATE DATABASE "+name)
	testdb.Cleanup(t, db, "DROP DATABASE "+name)
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	require.NoError(t, err)
	cfg.DBName = name
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:3306"
	}
	p := testdb.NewProxy(t, cfg.Addr)
	via := cfg.Clone()
	via.Addr = p.Addr()
	interruptedImport(t, "mysql:"+cfg.FormatDSN(), "mysql:"+via.FormatDSN(), p.Cut)
}

func TestImportOpensSQLiteForBulkWork(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	sqlDB, err := sql.Open("sqlite", strings.TrimPrefix(db, "sqlite:"))
	require.NoError(t, err)
	defer sqlDB.Close()
	var mode string
	require.NoError(t, sqlDB.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)

	assert.Equal(t, "x.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)",
		withPragmas("x.db", "busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"))
	assert.Equal(t, "x.db?_pragma=journal_mode(DELETE)&_pragma=synchronous(NORMAL)",
		withPragmas("x.db?_pragma=journal_mode(DELETE)", bulkPragmas...), "a pragma given is kept")
}
