package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// changedConf returns a copy of the test configuration with the auth 1003 removed, an aor
// 1004 added and the language of the endpoint 1002 changed, and its users file.
func changedConf(t *testing.T) (conf, users string) {
	t.Helper()
	conf = copyTestConf(t, map[string][][2]string{
		"pjsip_users.conf": {
			{"[1003](auth-phone)\nusername=1003\npassword=rec3ption\n", ""},
			{"language=fr ", "language=de "},
			{"[1003](aor-phone)\n", "[1003](aor-phone)\n\n[1004](aor-phone)\nmax_contacts=2\n"},
		},
	})
	return conf, filepath.Join(filepath.Dir(conf), "pjsip_users.conf")
}

func TestDiffOfEqualSourcesIsEmpty(t *testing.T) {
	same := copyTestConf(t, map[string][][2]string{
		// Other spellings of the same objects: comments, case of option names, order of
		// different options, a value overridden later.
		"pjsip_trunk.conf": {
			{"context=from-trunk\n", "CONTEXT=from-elsewhere ; changed below\n"},
			{"trust_id_inbound=yes\n", "trust_id_inbound=yes\ncontext=from-trunk\n"},
		},
	})
	out, errOut := mustRun(t, exitOK, "diff", testConf, same)
	assert.Empty(t, out+errOut)
}

func TestDiffShowsAddedRemovedAndChangedObjects(t *testing.T) {
	conf, users := changedConf(t)
	want := strings.Join([]string{
		"--- " + testConf,
		"+++ " + conf,
		"+ aor 1004  (" + users + ":43)",
		"    + max_contacts=2  (" + users + ":44)",
		"    + remove_existing=yes  (" + filepath.Join(filepath.Dir(conf), "pjsip.conf") + ":44)",
		"    + qualify_frequency=60  (" + filepath.Join(filepath.Dir(conf), "pjsip.conf") + ":45)",
		"- auth 1003  (" + testUsers + ":40)",
		"    - auth_type=userpass  (" + testConf + ":38)",
		"    - realm=office.example.com  (" + testConf + ":39)",
		"    - username=1003  (" + testUsers + ":41)",
		"    - password=rec3ption  (" + testUsers + ":42)",
		"~ endpoint 1002  (" + testUsers + ":16)",
		"    - language=fr  (" + testUsers + ":22)",
		"    + language=de  (" + users + ":22)",
		"",
	}, "\n")
	code, out, errOut := runTool(t, "diff", testConf, conf)
	assert.Equal(t, exitFailure, code, errOut)
	assert.Equal(t, want, out)
	assert.Equal(t, "provision: 3 objects differ: 1 only in "+testConf+", 1 only in "+conf+", 1 changed\n", errOut)

	code, out, _ = runTool(t, "diff", "-q", testConf, conf)
	assert.Equal(t, exitFailure, code)
	assert.Equal(t, testConf+" and "+conf+" differ\n", out)
}

func TestDiffBetweenDatabaseAndFileShowsTheChanges(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	conf, users := changedConf(t)

	code, out, errOut := runTool(t, "diff", db, conf)
	assert.Equal(t, exitFailure, code, errOut)
	assert.Contains(t, out, "--- "+db+"\n+++ "+conf+"\n")
	assert.Contains(t, out, "\n- auth 1003\n    - auth_type=userpass\n    - password=rec3ption\n", "no file lines for the database's objects")
	assert.Contains(t, out, "\n+ aor 1004  ("+users+":43)\n")
	assert.Contains(t, out, "\n~ endpoint 1002  ("+users+":16)\n    - language=fr\n    + language=de  ("+users+":22)\n")
	assert.Contains(t, errOut, "3 objects differ")

	code, out, _ = runTool(t, "diff", "-types", "endpoint", db, conf)
	assert.Equal(t, exitFailure, code)
	assert.NotContains(t, out, "aor 1004", "-types endpoint leaves aors out")
	assert.Contains(t, out, "~ endpoint 1002")
}

func TestDiffOfTwoDatabases(t *testing.T) {
	a, b := sqliteDB(t), sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", a)
	mustRun(t, exitOK, "import", testConf, "-db", b)
	mustRun(t, exitOK, "diff", a, b)
	mustRun(t, exitOK, "diff", strings.TrimPrefix(a, "sqlite:"), b) // an SQLite file is known by its header

	conf, _ := changedConf(t)
	mustRun(t, exitOK, "import", conf, "-db", b, "-replace")
	out, _ := mustRun(t, exitFailure, "diff", a, b)
	assert.Contains(t, out, "~ endpoint 1002\n    - language=fr\n    + language=de\n")
}

func TestDiffCannotCompareIsExitStatusTwo(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"diff", testConf, "testdata/nowhere.conf"}, "testdata/nowhere.conf"},
		{"missing database", []string{"diff", testConf, "sqlite:" + filepath.Join(t.TempDir(), "none.db")}, "none.db"},
		{"unknown type", []string{"diff", "-types", "endpoint,bogus", testConf, testConf}, `unknown type "bogus"`},
		{"one source", []string{"diff", testConf}, "want 2 arguments, got 1"},
		{"database with a type that has no table", []string{"diff", "-types", "transport", testConf, db}, "type transport has no realtime table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, tt.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.want)
		})
	}
}

func TestDiffComparesFileOnlyTypesWhenAsked(t *testing.T) {
	conf := copyTestConf(t, map[string][][2]string{
		"pjsip.conf": {{"local_net=10.0.0.0/8\n", "local_net=172.16.0.0/12\n"}},
	})
	mustRun(t, exitOK, "diff", testConf, conf)
	out, _ := mustRun(t, exitFailure, "diff", "-types", "transport", testConf, conf)
	assert.Contains(t, out, "~ transport transport-udp")
	assert.Contains(t, out, "    - local_net=192.168.1.0/24  ("+testConf+":16)\n    - local_net=10.0.0.0/8  ("+testConf+":17)\n")
}
