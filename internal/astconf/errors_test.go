package astconf_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
)

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func TestErrorsNameFileAndLine(t *testing.T) {
	deep := map[string]string{"pjsip.conf": "#include d1.conf\n"}
	for i := 1; i < astconf.MaxIncludeDepth; i++ {
		deep[fmt.Sprintf("d%d.conf", i)] = fmt.Sprintf("#include d%d.conf\n", i+1)
	}
	deep[fmt.Sprintf("d%d.conf", astconf.MaxIncludeDepth)] = "[a]\n"
	// Each template inherits its predecessor twice: the variables double line by line. The
	// limit is 1000 (below): after t8 the file holds 511 variables, and t9 (line 11) would
	// bring it to 1023.
	doubling := "[t0](!)\nx=1\n"
	for i := 1; i <= 30; i++ {
		doubling += fmt.Sprintf("[t%d](!,t%d,t%d)\n", i, i-1, i-1)
	}

	cases := []struct {
		name     string
		files    map[string]string // pjsip.conf is parsed
		file     string
		line     int
		contains string
	}{
		{"variable before the first category", map[string]string{"pjsip.conf": "; top\n\nallow=ulaw\n[a]\n"},
			"pjsip.conf", 3, `variable "allow" comes before the first [category]`},
		{"unknown template", map[string]string{"pjsip.conf": "[a](nosuch)\n"},
			"pjsip.conf", 1, `[a] inherits from "nosuch", which is not defined above this line`},
		{"template defined later", map[string]string{"pjsip.conf": "[alice](base)\ntype=endpoint\n[base](!)\nallow=ulaw\n"},
			"pjsip.conf", 1, `[alice] inherits from "base", which is not defined above this line`},
		{"unterminated block comment", map[string]string{"pjsip.conf": "[a]\nx=1\n;-- commented out\n[b]\ny=2\n"},
			"pjsip.conf", 3, "block comment ';--' is never closed with '--;'"},
		{"unterminated nested block comment names the inner one", map[string]string{"pjsip.conf": "[a]\n;-- outer\n;-- inner --;\n;-- inner2\n--;\n"},
			"pjsip.conf", 2, "never closed"},
		{"missing include", map[string]string{"pjsip.conf": "[a]\nx=1\n#include endpoints.conf\n"},
			"pjsip.conf", 3, "#include endpoints.conf: file does not exist"},
		{"glob include matching nothing", map[string]string{"pjsip.conf": "#include conf.d/*.conf\n"},
			"pjsip.conf", 1, "#include conf.d/*.conf: no file matches"},
		{"error inside an included file", map[string]string{"pjsip.conf": "[a]\n#include b.conf\n", "b.conf": "[b]\n\nnovalue\n"},
			"b.conf", 3, `not a name = value line (7 bytes`},
		{"include cycle", map[string]string{"pjsip.conf": "[a]\n#include b.conf\n", "b.conf": "\n#include pjsip.conf\n"},
			"b.conf", 2, "include cycle: pjsip.conf includes b.conf includes pjsip.conf"},
		{"file including itself", map[string]string{"pjsip.conf": "[a]\n#tryinclude pjsip.conf\n"},
			"pjsip.conf", 2, "include cycle: pjsip.conf includes pjsip.conf"},
		{"includes nested too deep", deep,
			fmt.Sprintf("d%d.conf", astconf.MaxIncludeDepth-1), 1, "nested more than 10 files deep"},
		{"line over the limit", map[string]string{"pjsip.conf": "[a]\nx=" + strings.Repeat("v", astconf.MaxLineLength-1) + "\n"},
			"pjsip.conf", 2, "line is 8191 bytes long, over the limit of 8190"},
		{"header without closing bracket", map[string]string{"pjsip.conf": "[a\n"},
			"pjsip.conf", 1, `category header "[a" has no closing ']'`},
		{"header without name", map[string]string{"pjsip.conf": "[ ]\n"},
			"pjsip.conf", 1, "has no name"},
		{"options without closing parenthesis", map[string]string{"pjsip.conf": "[a](!\n"},
			"pjsip.conf", 1, "have no closing ')'"},
		{"space before options", map[string]string{"pjsip.conf": "[a] (!)\n"},
			"pjsip.conf", 1, `unexpected " (!)" after ']'`},
		{"text after options", map[string]string{"pjsip.conf": "[a](!) x\n"},
			"pjsip.conf", 1, `unexpected "x" after ')'`},
		{"empty option", map[string]string{"pjsip.conf": "[t](!)\n[a](t,)\n"},
			"pjsip.conf", 2, "empty option"},
		{"plus without earlier category", map[string]string{"pjsip.conf": "[a]\n[b](+)\n"},
			"pjsip.conf", 2, `[b](+) adds to category "b", which is not defined above this line`},
		{"plus filter matching nothing", map[string]string{"pjsip.conf": "[b]\ntype=auth\n[b](+type=aor)\n"},
			"pjsip.conf", 3, `adds to a category "b" matching "type=aor"`},
		{"plus filter with a bad regexp", map[string]string{"pjsip.conf": "[b]\n[b](+type=(x)\n"},
			"pjsip.conf", 2, "filter"},
		{"plus filter without equals", map[string]string{"pjsip.conf": "[b]\n[b](+type)\n"},
			"pjsip.conf", 2, `"type" is not name=value`},
		{"line without equals", map[string]string{"pjsip.conf": "[a]\njunk\n"},
			"pjsip.conf", 2, `not a name = value line (4 bytes`},
		{"variable without name", map[string]string{"pjsip.conf": "[a]\n = 1\n"},
			"pjsip.conf", 2, "has no variable name"},
		{"append without name", map[string]string{"pjsip.conf": "[a]\n+= 1\n"},
			"pjsip.conf", 2, "has no variable name"},
		{"bad escape", map[string]string{"pjsip.conf": "[a]\n\\ x=1\n"},
			"pjsip.conf", 2, "invalid escape"},
		{"unknown directive", map[string]string{"pjsip.conf": "[a]\n#inclde b.conf\n"},
			"pjsip.conf", 2, "unknown directive #inclde"},
		{"include without argument", map[string]string{"pjsip.conf": "#include \"\"\n"},
			"pjsip.conf", 1, "#include needs a file name"},
		{"exec not enabled", map[string]string{"pjsip.conf": "[a]\n#exec /bin/echo x=1\n"},
			"pjsip.conf", 2, "#exec runs only when Options.Exec is set"},
		{"NUL byte", map[string]string{"pjsip.conf": "[a]\nx=\x00\n"},
			"pjsip.conf", 2, "NUL byte"},
		{"variables growing exponentially through templates", map[string]string{"pjsip.conf": doubling},
			"pjsip.conf", 11, "grows past 1000 variables"},
		{"block comments nested too deep", map[string]string{"pjsip.conf": "[a]\n" + strings.Repeat(";-- ", astconf.MaxCommentDepth+1) + "\n"},
			"pjsip.conf", 2, "nested more than 128 deep"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: mapFS(tc.files), MaxVariables: 1000})
			require.Error(t, err, "files %v", tc.files)
			var e *astconf.Error
			require.True(t, errors.As(err, &e), "error %v is an *astconf.Error", err)
			assert.Equal(t, tc.file, e.File, "file of %v", err)
			assert.Equal(t, tc.line, e.Line, "line of %v", err)
			assert.Contains(t, err.Error(), tc.contains)
			assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("sorcery: %s:%d: ", tc.file, tc.line)), "message %q", err)
			assert.ErrorIs(t, err, errors.ErrInvalid)
		})
	}
}

func TestMissingIncludeMatchesNotExist(t *testing.T) {
	_, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: mapFS(map[string]string{"pjsip.conf": "#include nope.conf\n"})})
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestMissingTopFileIsAnErrorWithoutLine(t *testing.T) {
	_, err := astconf.ParseFile("pjsip.conf", &astconf.Options{FS: fstest.MapFS{}})
	var e *astconf.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "pjsip.conf", e.File)
	assert.Zero(t, e.Line)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "sorcery: pjsip.conf: "), "message %q", err)
}

func TestTopFileThatIsADirectoryIsAnError(t *testing.T) {
	_, err := astconf.ParseFile(t.TempDir(), nil)
	assert.ErrorContains(t, err, "not a regular file")
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestCancelledContextStopsParsing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	m := mapFS(map[string]string{"pjsip.conf": "[a]\n"})
	_, err := astconf.ParseFileContext(ctx, "pjsip.conf", &astconf.Options{FS: m})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = astconf.ParseContext(ctx, "pjsip.conf", []byte("[a]\n"), &astconf.Options{FS: m})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestErrorMessageWithoutCause(t *testing.T) {
	e := &astconf.Error{File: "x.conf", Line: 4}
	assert.Equal(t, "sorcery: x.conf:4: invalid", e.Error())
	e = &astconf.Error{File: "x.conf", Err: errors.Errorf("boom")}
	assert.Equal(t, "sorcery: x.conf: boom", e.Error(), "the library is named once")
}
