package astconf_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/internal/astconf"
)

func TestIncludes(t *testing.T) {
	cases := []struct {
		name      string
		files     map[string]string // pjsip.conf is parsed
		want      []string
		wantFiles []string
	}{
		{"plain argument",
			map[string]string{"pjsip.conf": "[a]\nx=1\n#include b.conf\n", "b.conf": "[b]\ny=2\n"},
			[]string{"a: x=1", "b: y=2"}, []string{"pjsip.conf", "b.conf"}},
		{"quoted argument",
			map[string]string{"pjsip.conf": "#include \"b.conf\"\n", "b.conf": "[b]\n"},
			[]string{"b:"}, []string{"pjsip.conf", "b.conf"}},
		{"bracketed argument",
			map[string]string{"pjsip.conf": "#include <b.conf>\n", "b.conf": "[b]\n"},
			[]string{"b:"}, []string{"pjsip.conf", "b.conf"}},
		{"directive name without case and trailing comment",
			map[string]string{"pjsip.conf": "#INCLUDE b.conf ; endpoints\n", "b.conf": "[b]\n"},
			[]string{"b:"}, []string{"pjsip.conf", "b.conf"}},
		{"glob in sorted order",
			map[string]string{"pjsip.conf": "#include conf.d/*.conf\n", "conf.d/20-b.conf": "[b]\n", "conf.d/10-a.conf": "[a]\n", "conf.d/readme.txt": "junk"},
			[]string{"a:", "b:"}, []string{"pjsip.conf", "conf.d/10-a.conf", "conf.d/20-b.conf"}},
		{"glob skips directories",
			map[string]string{"pjsip.conf": "#include conf.d/*\n", "conf.d/a.conf": "[a]\n", "conf.d/sub/x.conf": "[x]\n"},
			[]string{"a:"}, []string{"pjsip.conf", "conf.d/a.conf"}},
		{"paths relative to the including file",
			map[string]string{"pjsip.conf": "#include sub/b.conf\n", "sub/b.conf": "[b]\n#include c.conf\n", "sub/c.conf": "[c]\n"},
			[]string{"b:", "c:"}, []string{"pjsip.conf", "sub/b.conf", "sub/c.conf"}},
		{"tryinclude of a missing file",
			map[string]string{"pjsip.conf": "[a]\n#tryinclude local.conf\nx=1\n"},
			[]string{"a: x=1"}, []string{"pjsip.conf"}},
		{"tryinclude of a present file",
			map[string]string{"pjsip.conf": "#tryinclude local.conf\n", "local.conf": "[l]\n"},
			[]string{"l:"}, []string{"pjsip.conf", "local.conf"}},
		{"tryinclude of an empty glob",
			map[string]string{"pjsip.conf": "[a]\n#tryinclude conf.d/*.conf\n"},
			[]string{"a:"}, []string{"pjsip.conf"}},
		{"a file included twice is read twice",
			map[string]string{"pjsip.conf": "[a]\n#include v.conf\n[b]\n#include v.conf\n", "v.conf": "x=1\n"},
			[]string{"a: x=1", "b: x=1"}, []string{"pjsip.conf", "v.conf", "v.conf"}},
		{"included variables join the current category",
			map[string]string{"pjsip.conf": "[a]\nx=1\n#include more.conf\ny=3\n", "more.conf": "z=2\n"},
			[]string{"a: x=1, z=2, y=3"}, []string{"pjsip.conf", "more.conf"}},
		{"the including file keeps its own category after the include",
			map[string]string{"pjsip.conf": "[a]\n#include b.conf\nx=1\n", "b.conf": "[b]\ny=2\n"},
			[]string{"a: x=1", "b: y=2"}, []string{"pjsip.conf", "b.conf"}},
		{"an include starts in the category current at that point",
			map[string]string{"pjsip.conf": "[a]\n#include b.conf\n#include c.conf\n", "b.conf": "[b]\n", "c.conf": "z=1\n"},
			[]string{"a:", "b: z=1"}, []string{"pjsip.conf", "b.conf", "c.conf"}},
		{"templates from an included file",
			map[string]string{"pjsip.conf": "#include templates.conf\n[alice](ep)\n", "templates.conf": "[ep](!)\nallow=ulaw\n"},
			[]string{"ep(!): allow=ulaw", "alice<ep>: allow=ulaw"}, []string{"pjsip.conf", "templates.conf"}},
		{"plus across files",
			map[string]string{"pjsip.conf": "[a]\nx=1\n#include local.conf\n", "local.conf": "[a](+)\ny=2\n"},
			[]string{"a: x=1, y=2"}, []string{"pjsip.conf", "local.conf"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: mapFS(tc.files)})
			require.NoError(t, err, "files %v", tc.files)
			assert.Equal(t, tc.want, summary(f))
			assert.Equal(t, tc.wantFiles, f.Files)
		})
	}
}

func TestIncludedVariablesRecordTheirFile(t *testing.T) {
	f, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: mapFS(map[string]string{
		"pjsip.conf":    "[a]\n#include sub/more.conf\n",
		"sub/more.conf": "\n\nz=2\n[b]\n",
	})})
	require.NoError(t, err)
	require.Len(t, f.Categories, 2)
	assert.Equal(t, []astconf.Variable{{Name: "z", Value: "2", File: "sub/more.conf", Line: 3}}, f.Categories[0].Vars)
	assert.Equal(t, "sub/more.conf", f.Categories[1].File)
	assert.Equal(t, 4, f.Categories[1].Line)
}

func TestIncludesOnDisk(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	write(t, filepath.Join(dir, "pjsip.conf"), "[a]\n#include conf.d/*.conf\n#include "+filepath.Join(other, "abs.conf")+"\n")
	write(t, filepath.Join(dir, "conf.d", "x.conf"), "[x]\n")
	write(t, filepath.Join(other, "abs.conf"), "[abs]\n")

	f, err := astconf.ParseFile(filepath.Join(dir, "pjsip.conf"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a:", "x:", "abs:"}, summary(f))
	assert.Equal(t, []string{filepath.Join(dir, "pjsip.conf"), filepath.Join(dir, "conf.d", "x.conf"), filepath.Join(other, "abs.conf")}, f.Files)
}

func TestIncludeOfADirectoryIsAnError(t *testing.T) {
	_, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: mapFS(map[string]string{
		"pjsip.conf": "[a]\n#tryinclude conf.d\n", "conf.d/x.conf": "[x]\n",
	})})
	assert.EqualError(t, err, "sorcery: pjsip.conf:2: #tryinclude conf.d: not a regular file")
}

func TestParseResolvesIncludesNextToName(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.conf"), "[b]\n")
	f, err := astconf.Parse(filepath.Join(dir, "virtual.conf"), []byte("[a]\n#include b.conf\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a:", "b:"}, summary(f))
	assert.Equal(t, []string{filepath.Join(dir, "b.conf")}, f.Files, "the top file is not read")
}

func write(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}
