package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
)

func TestDatabaseSpecsOpenTheRightDriver(t *testing.T) {
	tests := []struct {
		spec string
		want dbSpec
	}{
		{"sqlite:provision.db", dbSpec{driver: "sqlite", dsn: "provision.db?_pragma=busy_timeout(10000)",
			dialect: sqldb.SQLite, path: "provision.db", name: "sqlite:provision.db"}},
		{"sqlite:///var/lib/p.db", dbSpec{driver: "sqlite", dsn: "/var/lib/p.db?_pragma=busy_timeout(10000)",
			dialect: sqldb.SQLite, path: "/var/lib/p.db", name: "sqlite:///var/lib/p.db"}},
		{"sqlite3:file:p.db?mode=rwc", dbSpec{driver: "sqlite", dsn: "file:p.db?mode=rwc&_pragma=busy_timeout(10000)",
			dialect: sqldb.SQLite, path: "p.db", name: "sqlite3:file:p.db?mode=rwc"}},
		{"postgres://asterisk:s3cret@db.example.com/asterisk?sslmode=disable", dbSpec{driver: "pgx",
			dsn:     "postgres://asterisk:s3cret@db.example.com/asterisk?sslmode=disable",
			dialect: sqldb.PostgreSQL, name: "postgres://asterisk:xxx@db.example.com/asterisk?sslmode=disable"}},
		{"mysql://asterisk:s3cret@db.example.com/asterisk?timeout=5s", dbSpec{driver: "mysql",
			dsn:     "asterisk:s3cret@tcp(db.example.com:3306)/asterisk?timeout=5s",
			dialect: sqldb.MySQL, name: "mysql://asterisk:xxx@db.example.com/asterisk?timeout=5s"}},
		{"mysql:root@tcp(127.0.0.1:3307)/test", dbSpec{driver: "mysql", dsn: "root@tcp(127.0.0.1:3307)/test",
			dialect: sqldb.MySQL, name: "mysql:root@tcp(127.0.0.1:3307)/test"}},
		{"mariadb:root:pw@tcp(127.0.0.1)/test", dbSpec{driver: "mysql", dsn: "root:pw@tcp(127.0.0.1:3306)/test",
			dialect: sqldb.MySQL, name: "mysql:root:xxx@tcp(127.0.0.1)/test"}},
	}
	for _, tt := range tests {
		got, err := parseDB(tt.spec)
		require.NoError(t, err, tt.spec)
		assert.Equal(t, tt.want, got, tt.spec)
		assert.True(t, isDBSpec(tt.spec), tt.spec)
	}
}

func TestBadDatabaseSpecsAreRefused(t *testing.T) {
	for _, spec := range []string{"provision.db", "sqlite:", "oracle://db", "mysql://root@db.example.com/", "mysql:root@tcp(db"} {
		_, err := parseDB(spec)
		assert.Error(t, err, spec)
	}
}

func TestExportOfAMissingDatabaseFileCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	code, out, errOut := runTool(t, "export", "-db", "sqlite:"+path)
	assert.Equal(t, exitFailure, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "provision: database sqlite:"+path+": ")
	assert.NoFileExists(t, path)
}

func TestExportOfATypeWithoutTableFails(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db, "-types", "endpoint")
	code, _, errOut := runTool(t, "export", "-db", db, "-types", "endpoint,identify")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "provision: database "+db+" has no table ps_endpoint_id_ips (type identify)\n")

	out, _ := mustRun(t, exitOK, "export", "-db", db)
	assert.Contains(t, out, "type=endpoint", "without -types, the tables that exist")
}

func TestSchemaStatementsOfATable(t *testing.T) {
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS ps_a (id TEXT)",
		"CREATE INDEX ps_a_x ON ps_a (x)",
		"CREATE TABLE `ps_b` (id TEXT)",
		"CREATE TABLE IF NOT EXISTS ps_a (id INTEGER)",
	}
	assert.Equal(t, stmts[:2], tableStatements(stmts, "ps_a"), "the first schema wins, with what follows it")
	assert.Equal(t, stmts[2:3], tableStatements(stmts, "PS_B"))
	assert.Empty(t, tableStatements(stmts, "ps_c"))

	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.PostgreSQL, sqldb.MySQL} {
		stmts, err := sqldb.SchemaStatements(d)
		require.NoError(t, err)
		for _, ot := range types {
			if ot.table != "" {
				assert.Len(t, tableStatements(stmts, ot.table), 1, "%s in %s", ot.table, d)
			}
		}
	}
}
