package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuiltBinaryRoundTripsAndExitsLikeDiff builds the command and runs it as a user would:
// import, export to a file, and diff, whose exit status says equal (0), different (1) or
// cannot tell (2).
func TestBuiltBinaryRoundTripsAndExitsLikeDiff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "provision")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	// exec runs the binary in dir, where its default database goes, and returns its exit
	// status and output.
	exec := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		require.NoError(t, err, "%v: %s", args, out)
		return 0, string(out)
	}
	conf, err := filepath.Abs(testConf)
	require.NoError(t, err)

	code, out1 := exec("import", conf)
	require.Equal(t, exitOK, code, out1)
	assert.FileExists(t, filepath.Join(dir, "provision.db"), "the default database")
	assert.Contains(t, out1, "imported "+conf+" into sqlite:provision.db\n")

	code, out1 = exec("export", "-o", "exported.conf")
	require.Equal(t, exitOK, code, out1)
	requireSameObjects(t, load(t, testConf), load(t, filepath.Join(dir, "exported.conf")))

	code, out1 = exec("diff", conf, "exported.conf")
	assert.Equal(t, exitOK, code, out1)
	assert.Empty(t, out1)

	changed, _ := changedConf(t)
	code, out1 = exec("diff", "-q", "provision.db", changed)
	assert.Equal(t, exitFailure, code, out1)
	assert.Equal(t, "sqlite:provision.db and "+changed+" differ\n", out1)

	code, out1 = exec("diff", conf, filepath.Join(dir, "missing.conf"))
	assert.Equal(t, exitUsage, code, out1)

	code, out1 = exec("help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out1, "Usage:\n  provision import")

	require.NoError(t, os.Remove(filepath.Join(dir, "provision.db")))
	code, _ = exec("export")
	assert.Equal(t, exitFailure, code, "export of a database that does not exist")
	assert.NoFileExists(t, filepath.Join(dir, "provision.db"), "export creates no database")
}
