package astconf_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/internal/astconf"
)

// settle sets every file under dir to a modification time well in the past, so that the
// parser trusts size and time, as it does for files not edited in the last moments.
func settle(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(path, old, old)
	}))
}

func TestChangeDetection(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   bool
	}{
		{"nothing changed", func(t *testing.T, dir string) {}, false},
		{"top file rewritten", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "pjsip.conf"), "[a]\nx=2\n#include inc.conf\n#tryinclude opt.conf\n#include conf.d/*.conf\n")
		}, true},
		{"top file touched only", func(t *testing.T, dir string) {
			now := time.Now()
			require.NoError(t, os.Chtimes(filepath.Join(dir, "pjsip.conf"), now, now))
		}, false},
		{"included file changed", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "inc.conf"), "[inc]\ny=changed\n")
		}, true},
		{"included file removed", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "inc.conf")))
		}, true},
		{"tryinclude file appeared", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "opt.conf"), "[opt]\n")
		}, true},
		{"file added to a glob", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "conf.d", "b.conf"), "[b]\n")
		}, true},
		{"file outside the globs added", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "conf.d", "notes.txt"), "x")
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "pjsip.conf"), "[a]\nx=1\n#include inc.conf\n#tryinclude opt.conf\n#include conf.d/*.conf\n")
			write(t, filepath.Join(dir, "inc.conf"), "[inc]\ny=1\n")
			write(t, filepath.Join(dir, "conf.d", "a.conf"), "[ca]\n")
			settle(t, dir)
			f, err := astconf.ParseFile(filepath.Join(dir, "pjsip.conf"), nil)
			require.NoError(t, err)
			require.False(t, f.Changed(), "right after parsing")
			tc.change(t, dir)
			assert.Equal(t, tc.want, f.Changed())
		})
	}
}

func TestChangeWithinTheSameClockTickIsDetected(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pjsip.conf")
	write(t, path, "[a]\nx=1\n")
	// A modification time at (or after) the moment of reading: a second write within the same
	// clock tick would leave size and time as they are.
	tick := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, tick, tick))
	f, err := astconf.ParseFile(path, nil)
	require.NoError(t, err)
	assert.False(t, f.Changed(), "a recently modified file that did not change")

	write(t, path, "[a]\nx=2\n")
	require.NoError(t, os.Chtimes(path, tick, tick))
	assert.True(t, f.Changed(), "a file modified just before it was read is checked by contents")
}

// readCounter is an fs.FS that counts whole-file reads.
type readCounter struct {
	fstest.MapFS
	reads int
}

func (r *readCounter) ReadFile(name string) ([]byte, error) {
	r.reads++
	return r.MapFS.ReadFile(name)
}

func TestUnchangedSettledFilesAreNotRead(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	r := &readCounter{MapFS: fstest.MapFS{
		"pjsip.conf": {Data: []byte("[a]\n#include b.conf\n"), ModTime: old},
		"b.conf":     {Data: []byte("[b]\n"), ModTime: old},
	}}
	f, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: r})
	require.NoError(t, err)
	require.Equal(t, 2, r.reads)
	assert.False(t, f.Changed())
	assert.Equal(t, 2, r.reads, "Changed trusts the size and time of files not modified just before they were read")

	r.MapFS["b.conf"] = &fstest.MapFile{Data: []byte("[b]\n"), ModTime: time.Now()}
	assert.False(t, f.Changed(), "touched, same contents")
	assert.Equal(t, 3, r.reads, "a new time makes Changed compare the contents")
}

func TestParsedBytesCheckOnlyIncludes(t *testing.T) {
	m := fstest.MapFS{"b.conf": {Data: []byte("[b]\n")}}
	f, err := astconf.Parse("pjsip.conf", []byte("#include b.conf\n"), &astconf.Options{FS: m})
	require.NoError(t, err)
	assert.False(t, f.Changed())
	m["b.conf"] = &fstest.MapFile{Data: []byte("[b]\nx=1\n")}
	assert.True(t, f.Changed())
}
