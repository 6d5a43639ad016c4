package astconf_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
)

func requireShell(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
}

func TestExecOutputIsParsedInPlace(t *testing.T) {
	requireShell(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "gen.sh"), "printf 'x=2\\n[gen]\\ny=3\\n'\n")
	write(t, filepath.Join(dir, "pjsip.conf"), "[a]\nx=1\n#exec \"sh gen.sh\"\nz=4\n")
	f, err := astconf.ParseFile(filepath.Join(dir, "pjsip.conf"), &astconf.Options{Exec: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"a: x=1, x=2, z=4", "gen: y=3"}, summary(f), "the command runs in the directory of the file")
	assert.Equal(t, "exec(sh gen.sh)", f.Categories[1].File)
	assert.True(t, f.Changed(), "a file with #exec always counts as changed")
}

func TestExecFailures(t *testing.T) {
	requireShell(t)
	cases := []struct {
		name     string
		command  string
		timeout  time.Duration
		contains string
	}{
		{"non-zero exit with its message", `echo broken >&2 \; exit 3`, 0, "exit status 3: broken"},
		{"timeout", "sleep 5", 50 * time.Millisecond, "did not finish within 50ms"},
		{"bad output", "echo 'no category'", 0, `exec(echo 'no category'):1: variable "no category" comes before the first [category]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "\n#exec " + tc.command + "\n"
			start := time.Now()
			_, err := astconf.Parse("pjsip.conf", []byte(src), &astconf.Options{Exec: true, ExecTimeout: tc.timeout})
			assert.Less(t, time.Since(start), 3*time.Second)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.contains)
			assert.ErrorIs(t, err, errors.ErrInvalid)
		})
	}
}

func TestExecFailureNamesTheDirectiveLine(t *testing.T) {
	requireShell(t)
	_, err := astconf.Parse("pjsip.conf", []byte("[a]\n\n#exec exit 1\n"), &astconf.Options{Exec: true})
	var e *astconf.Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, "pjsip.conf", e.File)
	assert.Equal(t, 3, e.Line)
}

func TestExecHonoursCancellation(t *testing.T) {
	requireShell(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := astconf.ParseContext(ctx, "pjsip.conf", []byte("#exec sleep 5\n"), &astconf.Options{Exec: true})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, errors.ErrInvalid, "the caller's deadline is not a configuration error")
	assert.Less(t, time.Since(start), 3*time.Second)
}
