package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The test configuration: a realistic pjsip.conf with two #include files.
const (
	testConf  = "testdata/pjsip.conf"
	testUsers = "testdata/pjsip_users.conf"
	testTrunk = "testdata/pjsip_trunk.conf"
)

// runTool runs the tool in-process with args and returns its exit status and output.
func runTool(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs the tool and requires exit status want.
func mustRun(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := runTool(t, args...)
	require.Equal(t, want, code, "provision %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout, stderr)
	return stdout, stderr
}

// sqliteDB returns the spec of a new SQLite database file of the test's own.
func sqliteDB(t *testing.T) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "provision.db")
}

// load reads a pjsip.conf as the tool does, keeping the realtime types only.
func load(t *testing.T, path string) *objectSet {
	t.Helper()
	set, err := loadConf(context.Background(), path)
	require.NoError(t, err, "load %s", path)
	return set.only(realtimeTypes())
}

// requireSameObjects fails the test, showing the difference, unless a and b hold the same
// objects with the same options.
func requireSameObjects(t *testing.T, a, b *objectSet) {
	t.Helper()
	ds := diffSets(a, b)
	if len(ds) > 0 {
		var buf bytes.Buffer
		require.NoError(t, writeDiff(&buf, "want", "got", ds))
		t.Fatalf("objects differ:\n%s", buf.String())
	}
}

// writeFiles writes files (name → contents) into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
}

// copyTestConf copies the test configuration into a new directory, applying edits (file
// base name → old → new, each old text required to be there), and returns the copy's
// pjsip.conf.
func copyTestConf(t *testing.T, edits map[string][][2]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, src := range []string{testConf, testUsers, testTrunk} {
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		text := string(data)
		for _, e := range edits[filepath.Base(src)] {
			require.Contains(t, text, e[0], "edit of %s", src)
			text = strings.Replace(text, e[0], e[1], 1)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(src)), []byte(text), 0o644))
	}
	return filepath.Join(dir, "pjsip.conf")
}
