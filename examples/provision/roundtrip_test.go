package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/internal/testdb"
)

// roundTrip imports the test pjsip.conf into db, exports it back, and requires the export
// to hold the same objects, with the same options, as the original; and diff to find no
// difference between the original, the export and the database.
func roundTrip(t *testing.T, db string) {
	t.Helper()
	orig := load(t, testConf)
	require.Equal(t, 15, orig.len(), "the test configuration's realtime objects: %s", orig.count())

	out, _ := mustRun(t, exitOK, "import", testConf, "-db", db)
	assert.Regexp(t, `(?m)^\s+total\s+15\s+0\s+0$`, out, "every object created")

	exported, _ := mustRun(t, exitOK, "export", "-db", db)
	path := filepath.Join(t.TempDir(), "exported.conf")
	require.NoError(t, os.WriteFile(path, []byte(exported), 0o644))
	back := load(t, path)
	requireSameObjects(t, orig, back)
	assert.Equal(t, orig.count(), back.count())

	out, errOut := mustRun(t, exitOK, "diff", testConf, path)
	assert.Empty(t, out+errOut, "diff of the original and the export")
	out, errOut = mustRun(t, exitOK, "diff", testConf, db)
	assert.Empty(t, out+errOut, "diff of the original and the database")

	// Importing again finds everything as it is.
	out, _ = mustRun(t, exitOK, "import", testConf, "-db", db)
	assert.Regexp(t, `(?m)^\s+total\s+0\s+0\s+15$`, out, "every object unchanged")
}

func TestRoundTripThroughSQLiteKeepsEveryObject(t *testing.T) {
	roundTrip(t, sqliteDB(t))
}

func TestRoundTripThroughPostgresKeepsEveryObject(t *testing.T) {
	db := testdb.Postgres(t)
	schema := testdb.Name(t, "provision")
	testdb.Exec(t, db, "CREATE SCHEMA "+schema)
	testdb.Cleanup(t, db, "DROP SCHEMA "+schema+" CASCADE")
	dsn := testdb.PostgresDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	roundTrip(t, dsn+sep+"search_path="+schema)
}

func TestRoundTripThroughMySQLKeepsEveryObject(t *testing.T) {
	db := testdb.MySQL(t)
	name := testdb.Name(t, "provision")
	testdb.Exec(t, db, "CREATE DATABASE "+name)
	testdb.Cleanup(t, db, "DROP DATABASE "+name)
	cfg, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	require.NoError(t, err)
	cfg.DBName = name
	roundTrip(t, "mysql:"+cfg.FormatDSN())
}

func TestExportWritesTypeFirstSortedByTypeThenID(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	exported, _ := mustRun(t, exitOK, "export", "-db", db)

	var headers []string
	lines := strings.Split(exported, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "[") {
			require.Less(t, i+1, len(lines))
			headers = append(headers, l+" "+lines[i+1])
		}
	}
	assert.Equal(t, []string{
		"[1001] type=aor", "[1002] type=aor", "[1003] type=aor", "[itsp] type=aor",
		"[1001] type=auth", "[1002] type=auth", "[1003] type=auth", "[itsp-auth] type=auth",
		"[office.example.com] type=domain_alias",
		"[1001] type=endpoint", "[1002] type=endpoint", "[1003] type=endpoint", "[itsp] type=endpoint",
		"[itsp] type=identify",
		"[itsp-reg] type=registration",
	}, headers)
	assert.Contains(t, exported, "\npassword=Secr3t\\;1001\n", "';' escaped")
	assert.Contains(t, exported, "\nallow=opus\nallow=g722\nallow=ulaw\n", "multi-valued option as repeated lines, in order")
	assert.Contains(t, exported, "\nmatch=203.0.113.10\nmatch=203.0.113.11/32\n")
	assert.NotContains(t, exported, "transport-udp]", "transports are not exported")

	again, _ := mustRun(t, exitOK, "export", "-db", db)
	assert.Equal(t, exported, again, "export is stable")
}

func TestExportOnlyTheTypesAsked(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	exported, errOut := mustRun(t, exitOK, "export", "-db", db, "-types", "auth,aor")
	assert.Equal(t, 8, strings.Count(exported, "\n["), exported)
	assert.NotContains(t, exported, "type=endpoint")
	assert.Contains(t, errOut, "exported 4 auths, 4 aors from "+db)
}

func TestExportToFileReplacesIt(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	path := filepath.Join(t.TempDir(), "out.conf")
	require.NoError(t, os.WriteFile(path, []byte("old contents\n"), 0o644))
	out, _ := mustRun(t, exitOK, "export", "-db", db, "-o", path)
	assert.Empty(t, out, "nothing on stdout with -o")
	requireSameObjects(t, load(t, testConf), load(t, path))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
