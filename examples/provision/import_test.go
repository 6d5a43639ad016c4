package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exportObjects exports db and returns its objects as the tool reads a pjsip.conf.
func exportObjects(t *testing.T, db string) *objectSet {
	t.Helper()
	out, _ := mustRun(t, exitOK, "export", "-db", db)
	path := filepath.Join(t.TempDir(), "export.conf")
	writeFiles(t, filepath.Dir(path), map[string]string{"export.conf": out})
	return load(t, path)
}

const unknownOptionsConf = `[100]
type=endpoint
context=office
colour=blue

[100]
type=aor
max_contact=2
max_contacts=1
`

func TestImportRefusesUnknownOptionsNamingFileAndLine(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pjsip.conf": unknownOptionsConf})
	conf := filepath.Join(dir, "pjsip.conf")
	db := sqliteDB(t)

	code, out, errOut := runTool(t, "import", conf, "-db", db)
	assert.Equal(t, exitFailure, code)
	assert.Empty(t, out)
	assert.Equal(t,
		"provision: "+conf+":8: aor 100: option max_contact: table ps_aors has no column for it (-ignore-unknown skips it)\n"+
			"provision: "+conf+":4: endpoint 100: option colour: table ps_endpoints has no column for it (-ignore-unknown skips it)\n",
		errOut, "every unknown option, in the order objects are imported")
	assert.Zero(t, exportObjects(t, db).len(), "nothing written")
}

func TestImportIgnoreUnknownSkipsThemWithWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pjsip.conf": unknownOptionsConf})
	conf := filepath.Join(dir, "pjsip.conf")
	db := sqliteDB(t)

	_, errOut := mustRun(t, exitOK, "import", conf, "-db", db, "-ignore-unknown")
	assert.Contains(t, errOut, "provision: warning: "+conf+":4: endpoint 100: option colour skipped: table ps_endpoints has no column for it\n")
	assert.Contains(t, errOut, "provision: warning: "+conf+":8: aor 100: option max_contact skipped")

	got := exportObjects(t, db)
	assert.Equal(t, []string{"context=office"}, fieldsOf(got.get(lookupType("endpoint"), "100")))
	assert.Equal(t, []string{"max_contacts=1"}, fieldsOf(got.get(lookupType("aor"), "100")))
}

func TestImportRefusesChangedObjectsUnlessReplace(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	conf, users := changedConf(t)

	code, out, errOut := runTool(t, "import", conf, "-db", db)
	assert.Equal(t, exitFailure, code)
	assert.Empty(t, out)
	assert.Equal(t, "provision: "+users+":16: endpoint 1002 exists in ps_endpoints with other options; -replace updates it\n", errOut)
	mustRun(t, exitOK, "diff", testConf, db) // nothing written, not even the new aor 1004

	out, _ = mustRun(t, exitOK, "import", conf, "-db", db, "-replace")
	assert.Regexp(t, `(?m)^\s+endpoint\s+ps_endpoints\s+0\s+1\s+3$`, out)
	assert.Regexp(t, `(?m)^\s+aor\s+ps_aors\s+1\s+0\s+4$`, out)
	assert.Regexp(t, `(?m)^\s+total\s+1\s+1\s+13$`, out)
	// import never deletes: the auth 1003 that conf no longer has is still there.
	out, _ = mustRun(t, exitFailure, "diff", conf, db)
	assert.Equal(t, "--- "+conf+"\n+++ "+db+"\n+ auth 1003\n    + auth_type=userpass\n    + password=rec3ption\n    + realm=office.example.com\n    + username=1003\n", out)
}

func TestImportDryRunWritesNothing(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	conf, users := changedConf(t)

	out, _ := mustRun(t, exitOK, "import", conf, "-db", db, "-replace", "-dry-run")
	assert.Equal(t, "create aor 1004  ("+users+":43)\n"+
		"    + max_contacts=2  ("+users+":44)\n"+
		"    + remove_existing=yes  ("+filepath.Join(filepath.Dir(conf), "pjsip.conf")+":44)\n"+
		"    + qualify_frequency=60  ("+filepath.Join(filepath.Dir(conf), "pjsip.conf")+":45)\n"+
		"update endpoint 1002  ("+users+":16)\n"+
		"    - language=fr\n"+
		"    + language=de  ("+users+":22)\n"+
		"dry run: 2 of 15 objects would be written, nothing was\n", out)
	mustRun(t, exitOK, "diff", testConf, db)
}

func TestImportDropsEmptyValuesWithAWarning(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pjsip.conf": "[100]\ntype=endpoint\ncontext=office\nmailboxes=\n"})
	conf := filepath.Join(dir, "pjsip.conf")
	db := sqliteDB(t)
	_, errOut := mustRun(t, exitOK, "import", conf, "-db", db)
	assert.Contains(t, errOut, "provision: warning: "+conf+":4: endpoint 100: option mailboxes= skipped: it is empty")
	assert.Equal(t, []string{"context=office"}, fieldsOf(exportObjects(t, db).get(lookupType("endpoint"), "100")))
}

func TestImportRefusesDisallowAfterAllow(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pjsip.conf": "[tpl](!)\ntype=endpoint\nallow=ulaw,alaw\n\n[100](tpl)\ndisallow=alaw\n"})
	conf := filepath.Join(dir, "pjsip.conf")
	code, _, errOut := runTool(t, "import", conf, "-db", sqliteDB(t))
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "provision: "+conf+":6: endpoint 100: disallow=alaw comes after allow=, but Asterisk applies a realtime row's disallow before its allow")
}

func TestImportOnlyTheTypesAsked(t *testing.T) {
	db := sqliteDB(t)
	out, _ := mustRun(t, exitOK, "import", testConf, "-db", db, "-types", "auth")
	assert.Regexp(t, `(?m)^\s+total\s+4\s+0\s+0$`, out)
	assert.Contains(t, out, "not imported, as -types leaves them out: 4 endpoints, 4 aors, 1 identify, 1 domain_alias, 1 registration\n")
	assert.Equal(t, "4 auths", exportObjects(t, db).count())

	code, _, errOut := runTool(t, "import", testConf, "-db", db, "-types", "transport")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "provision: -types: type transport has no realtime table: Asterisk loads transports from pjsip.conf")
}

func TestImportListsWhatStaysInPjsipConf(t *testing.T) {
	out, _ := mustRun(t, exitOK, "import", testConf, "-db", sqliteDB(t))
	assert.Contains(t, out, "not imported, as they have no realtime table (keep them in pjsip.conf):\n"+
		"  global global  ("+testConf+":7): res_pjsip reads its global settings from pjsip.conf\n"+
		"  transport transport-udp  ("+testConf+":12): Asterisk loads transports from pjsip.conf at start and cannot reload them from realtime\n")
}

func TestImportWithoutCreateTablesNeedsThem(t *testing.T) {
	db := sqliteDB(t)
	code, _, errOut := runTool(t, "import", testConf, "-db", db, "-create-tables=false")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "has no table ps_endpoints for the endpoint objects of "+testConf+"; let import create it: -create-tables")

	out, _ := mustRun(t, exitOK, "import", testConf, "-db", db, "-types", "auth")
	assert.Contains(t, out, "  created table ps_auths\n")
	out, _ = mustRun(t, exitOK, "import", testConf, "-db", db, "-types", "auth", "-create-tables=false", "-replace")
	assert.NotContains(t, out, "created table")
}

func TestImportWritesAProgressBarWhenAsked(t *testing.T) {
	db := sqliteDB(t)
	_, errOut := mustRun(t, exitOK, "import", testConf, "-db", db, "-progress", "always")
	assert.True(t, strings.HasPrefix(errOut, "\rimporting ["), "%q", errOut)
	assert.Regexp(t, `\rimporting \[#{30}\] 15/15 100% +\d+/s  done in [0-9.]+m?s\n$`, errOut)

	_, errOut = mustRun(t, exitOK, "import", testConf, "-db", db)
	assert.Empty(t, errOut, "no bar when stderr is not a terminal")

	code, _, errOut := runTool(t, "import", testConf, "-db", db, "-progress", "sometimes")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "-progress=sometimes: want auto, always or never")
}

func TestImportReportsWriteErrorsAtTheObjectAndWritesNothing(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db, "-types", "aor")
	// A table whose id must be short: the third aor cannot be written.
	sqlDB, err := sql.Open("sqlite", strings.TrimPrefix(db, "sqlite:"))
	require.NoError(t, err)
	defer sqlDB.Close()
	_, err = sqlDB.Exec("CREATE TABLE ps_auths (id TEXT NOT NULL PRIMARY KEY CHECK (length(id) < 5), auth_type TEXT, password TEXT, realm TEXT, username TEXT)")
	require.NoError(t, err)

	code, _, errOut := runTool(t, "import", testConf, "-db", db, "-types", "auth")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "provision: "+testTrunk+":16: auth itsp-auth: table ps_auths refused the create: invalid: ")
	assert.Contains(t, errOut, "provision: nothing was written: the import is one transaction\n")
	assert.Equal(t, "4 aors", exportObjects(t, db).count(), "the auths written before the failure are rolled back")
}
