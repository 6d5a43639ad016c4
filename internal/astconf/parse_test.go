package astconf_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/internal/astconf"
)

// summary renders a file compactly: one string per category, "name(!)<parents>: k=v, k=v".
func summary(f *astconf.File) []string {
	out := make([]string, 0, len(f.Categories))
	for _, c := range f.Categories {
		var b strings.Builder
		b.WriteString(c.Name)
		if c.IsTemplate {
			b.WriteString("(!)")
		}
		if len(c.Templates) > 0 {
			b.WriteString("<" + strings.Join(c.Templates, ",") + ">")
		}
		b.WriteString(":")
		for i, v := range c.Vars {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(" " + v.Name + "=" + v.Value)
		}
		out = append(out, b.String())
	}
	return out
}

func parseString(t *testing.T, src string) *astconf.File {
	t.Helper()
	f, err := astconf.Parse("test.conf", []byte(src), &astconf.Options{FS: fstest.MapFS{}})
	require.NoError(t, err, "Parse(%q)", src)
	return f
}

func TestParseSyntax(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{"categories and variables in order", "[a]\nx=1\ny = 2\n[b]\nz=3\n", []string{"a: x=1, y=2", "b: z=3"}},
		{"white space trimmed", "  [ a ]  \n\t x \t=\t 1 2 \t\n", []string{"a: x=1 2"}},
		{"empty file", "", []string{}},
		{"no final newline", "[a]\nx=1", []string{"a: x=1"}},
		{"line comment", "; header\n[a] ; the a\nx=1 ; one\n;y=2\n", []string{"a: x=1"}},
		{"escaped semicolon is text", "[a]\nx=a\\;b;comment\n", []string{"a: x=a;b"}},
		{"escaped semicolon keeps an earlier backslash", "[a]\nx=a\\\\;b\n", []string{`a: x=a\;b`}},
		{"block comment within a line", "[a]\nx=1 ;-- gone --; 2\n", []string{"a: x=1  2"}},
		{"block comment over lines", "[a]\nx=1\n;-- y=2\n[b]\nz=3 --;\nw=4\n", []string{"a: x=1, w=4"}},
		{"block comment ending mid-line keeps the rest", "[a]\n;-- skipped\nstill --; x=1\n", []string{"a: x=1"}},
		{"nested block comments", "[a]\n;-- outer ;-- inner --; still out --;x=1\n", []string{"a: x=1"}},
		{"semicolon inside a block comment", "[a]\n;-- a ; b --; x=1\n", []string{"a: x=1"}},
		{"three dashes are a line comment", "[a]\n;--- not a block\nx=1\n", []string{"a: x=1"}},
		{"block end outside a block is an ordinary comment", "[a]\nx=1 --; rest\ny=2\n", []string{"a: x=1 --, y=2"}},
		{"arrow is equals", "[a]\nexten => 1,1,Answer()\n", []string{"a: exten=1,1,Answer()"}},
		{"value keeps later equals signs", "[a]\nx = a=b=c\n", []string{"a: x=a=b=c"}},
		{"empty value", "[a]\nx =\n", []string{"a: x="}},
		{"repeated keys kept in order", "[a]\nallow=ulaw\nallow=alaw\nallow=g722\n", []string{"a: allow=ulaw, allow=alaw, allow=g722"}},
		{"plus equals appends as written", "[a]\nx = one\nx += two\ny=a\ny+=,b\n", []string{"a: x=one two, y=a,b"}},
		{"plus equals appends to the last value", "[a]\nallow=ulaw\nallow=alaw\nallow+=,g722\n", []string{"a: allow=ulaw, allow=alaw,g722"}},
		{"plus equals matches without case", "[a]\nAllow=ulaw\nallow+=,alaw\n", []string{"a: Allow=ulaw,alaw"}},
		{"plus equals without earlier value sets it", "[a]\nx += 1\n", []string{"a: x=1"}},
		{"a run of plus equals", "[a]\nx=1\nx+=2\nx+= 3 \nx+=4\ny=5\nx+=6\n", []string{"a: x=12 346, y=5"}},
		{"plus equals of blanks adds nothing", "[a]\nx=1\nx+=   \nx+=2\n", []string{"a: x=12"}},
		{"plus equals on an empty value trims the start", "[a]\nx=\nx+= a \nx+= b\n", []string{"a: x=a b"}},
		{"plus equals across categories and back", "[a]\nx=1\nx+=2\n[b]\nx=9\nx+=8\n[a](+)\nx+=3\n", []string{"a: x=123", "b: x=98"}},
		{"plus equals then a template reads the value", "[t](!)\nx=1\nx+=2\n[a](t)\nx+=3\n", []string{"t(!): x=12", "a<t>: x=123"}},
		{"plus finds the next category once the first becomes a template", "[a]\ny=1\n[a]\ny=2\n[a](+,!)\n[a](+)\nz=3\n", []string{"a(!): y=1", "a: y=2, z=3"}},
		{"escaped first character of a name", "[a]\n\\[x] = 1\n\\#y=2\n", []string{"a: [x]=1, #y=2"}},
		{"template is marked", "[t](!)\nx=1\n", []string{"t(!): x=1"}},
		{"inheritance puts parents first", "[t](!)\nx=1\n[a](t)\ny=2\n", []string{"t(!): x=1", "a<t>: x=1, y=2"}},
		{"several parents in order", "[t1](!)\nx=1\n[t2](!)\ny=2\n[a](t2,t1)\nz=3\n", []string{"t1(!): x=1", "t2(!): y=2", "a<t2,t1>: y=2, x=1, z=3"}},
		{"template of a template", "[t1](!)\nx=1\n[t2](!,t1)\ny=2\n[a](t2)\n", []string{"t1(!): x=1", "t2(!)<t1>: x=1, y=2", "a<t2>: x=1, y=2"}},
		{"mixed options with spaces", "[t](!)\nx=1\n[a]( t , ! )\n", []string{"t(!): x=1", "a(!)<t>: x=1"}},
		{"inherit from an ordinary category", "[base]\nx=1\n[a](base)\n", []string{"base: x=1", "a<base>: x=1"}},
		{"parent names match without case", "[Tpl](!)\nx=1\n[a](tpl)\n", []string{"Tpl(!): x=1", "a<Tpl>: x=1"}},
		{"plus equals on an inherited value", "[t](!)\nallow=ulaw\n[a](t)\nallow+=,alaw\n[b](t)\n", []string{"t(!): allow=ulaw", "a<t>: allow=ulaw,alaw", "b<t>: allow=ulaw"}},
		{"plus adds to the earlier category", "[a]\nx=1\n[b]\ny=2\n[a](+)\nz=3\n", []string{"a: x=1, z=3", "b: y=2"}},
		{"plus adds to the first of several", "[a]\nx=1\n[a]\nx=2\n[a](+)\nz=3\n", []string{"a: x=1, z=3", "a: x=2"}},
		{"plus skips templates", "[a](!)\nx=1\n[a]\nx=2\n[a](+)\nz=3\n", []string{"a(!): x=1", "a: x=2, z=3"}},
		{"plus filter picks by type", "[alice]\ntype=endpoint\n[alice]\ntype=aor\n[alice](+type=aor)\nmax_contacts=1\n", []string{"alice: type=endpoint", "alice: type=aor, max_contacts=1"}},
		{"plus filter is an unanchored regexp", "[x]\ntype=aors\n[x](+type=aor)\nk=v\n", []string{"x: type=aors, k=v"}},
		{"plus filter anchored", "[x]\ntype=aors\n[x]\ntype=aor\n[x](+type=^aor$)\nk=v\n", []string{"x: type=aors", "x: type=aor, k=v"}},
		{"plus filter with several expressions", "[x]\ntype=aor\nq=1\n[x]\ntype=aor\nq=2\n[x](+type=aor&q=2)\nk=v\n", []string{"x: type=aor, q=1", "x: type=aor, q=2, k=v"}},
		{"plus filter including templates", "[x](!)\nk=1\n[x](+TEMPLATES=include)\nk=2\n", []string{"x(!): k=1, k=2"}},
		{"plus with inheritance", "[t](!)\nx=1\n[a]\ny=2\n[a](t,+)\nz=3\n", []string{"t(!): x=1", "a<t>: y=2, x=1, z=3"}},
		{"plus and template mark the earlier category", "[a]\ny=2\n[a](+,!)\n", []string{"a(!): y=2"}},
		{"same name different types", "[alice]\ntype=endpoint\n[alice]\ntype=auth\n[alice]\ntype=aor\n", []string{"alice: type=endpoint", "alice: type=auth", "alice: type=aor"}},
		{"byte order mark ignored", "\xEF\xBB\xBF[a]\nx=1\n", []string{"a: x=1"}},
		{"CRLF line ends", "[a]\r\nx=1\r\ny = 2 ; c\r\n", []string{"a: x=1, y=2"}},
		{"category names keep their case", "[Alice]\nX=1\n", []string{"Alice: X=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := parseString(t, tc.src)
			assert.Equal(t, tc.want, summary(f), "Parse(%q)", tc.src)
		})
	}
}

func TestParseRecordsFileAndLine(t *testing.T) {
	src := "; pjsip.conf\n[tpl](!)\nallow=ulaw\n\n[alice](tpl)\ntype=endpoint\nallow=alaw\n[alice](+)\ncontext=default\n"
	f := parseString(t, src)
	require.Len(t, f.Categories, 2)
	alice := f.Categories[1]
	assert.Equal(t, "test.conf", alice.File)
	assert.Equal(t, 5, alice.Line, "the header's line, not the (+) one")
	want := []astconf.Variable{
		{Name: "allow", Value: "ulaw", File: "test.conf", Line: 3},
		{Name: "type", Value: "endpoint", File: "test.conf", Line: 6},
		{Name: "allow", Value: "alaw", File: "test.conf", Line: 7},
		{Name: "context", Value: "default", File: "test.conf", Line: 9},
	}
	assert.Equal(t, want, alice.Vars)
}

func TestCategoryLookupIgnoresCaseAndTemplates(t *testing.T) {
	f := parseString(t, "[Alice](!)\nx=0\n[alice]\nX=1\nallow=ulaw\nALLOW=alaw\n[alice]\nx=2\n")
	c := f.Category("ALICE")
	require.NotNil(t, c)
	assert.Equal(t, 3, c.Line, "the first category that is not a template")
	v, ok := c.Get("x")
	assert.True(t, ok)
	assert.Equal(t, "1", v)
	assert.Equal(t, []string{"ulaw", "alaw"}, c.Values("Allow"))
	_, ok = c.Get("missing")
	assert.False(t, ok)
	assert.Nil(t, c.Values("missing"))
	assert.Nil(t, f.Category("bob"))
}

func TestLineAtTheLengthLimitIsAccepted(t *testing.T) {
	value := strings.Repeat("v", astconf.MaxLineLength-len("x="))
	f := parseString(t, "[a]\nx="+value+"\n")
	got, _ := f.Categories[0].Get("x")
	assert.Equal(t, value, got)
}

func TestManyCategoriesKeepOrder(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "[c%d]\nn=%d\n", i, i)
	}
	f := parseString(t, b.String())
	require.Len(t, f.Categories, 1000)
	for i, c := range f.Categories {
		assert.Equal(t, fmt.Sprintf("c%d", i), c.Name)
		assert.Equal(t, 2*i+1, c.Line)
	}
}
