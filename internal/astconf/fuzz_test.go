package astconf_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
)

// FuzzParse checks that no input makes the parser panic, that every error it returns is an
// *astconf.Error naming a file, and that what it accepts is well formed. Includes resolve in
// a small in-memory tree, so the fuzzer can reach include handling, cycles and globs; #exec
// stays disabled.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"[a]\nx=1\n",
		"; c\n[a](!)\nallow=ulaw\n[b](a)\nallow+=,alaw\n[b](+)\ny=2\n",
		"[alice]\ntype=endpoint\n[alice]\ntype=aor\n[alice](+type=^aor$&TEMPLATES=include)\nk=v\n",
		"[a]\nx=1 ;-- c ;-- d --; --; y\n;--\n--;\n",
		"[a]\nx=a\\;b\n\\[n]=v\nexten => 1,1,Noop()\n",
		"\xEF\xBB\xBF[a]\r\nx=1\r\n",
		"[a]\n#include inc.conf\n#tryinclude \"nope.conf\"\n#include <sub/*.conf>\n",
		"#include loop.conf\n",
		"[a]\n#exec echo x\n",
		"x=1\n",
		"[a](nosuch)\n",
		"[a] (!)\n[b](!\n[c\n[](+)\n",
		"[a]\n;-- never closed\n",
		"[a]\n" + strings.Repeat("v", astconf.MaxLineLength+1) + "\n",
		"[a]\n" + strings.Repeat(";--", 130) + "\n",
		"[x](+TEMPLATES=bogus)\n[y](+(=)\n",
		"[t](!)\nx=1\n[t](+,t,t,t,t,t,t,t,t,t,t,t,t,t,t,t,t,t,t,t,t)\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fsys := fstest.MapFS{
		"inc.conf":     {Data: []byte("x=2\n[inc](!)\ny=1\n")},
		"sub/a.conf":   {Data: []byte("[sa](inc)\n")},
		"sub/b.conf":   {Data: []byte("[sb]\n#include ../inc.conf\n")},
		"loop.conf":    {Data: []byte("[l]\n#include loop.conf\n")},
		"broken.conf":  {Data: []byte("[b\n")},
		"comment.conf": {Data: []byte(";--\n")},
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := astconf.Parse("fuzz.conf", src, &astconf.Options{FS: fsys, MaxVariables: 1 << 14})
		if err != nil {
			var e *astconf.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *astconf.Error", err, err)
			}
			if e.File == "" || e.Line < 0 || !strings.HasPrefix(err.Error(), "sorcery: ") || !errors.Is(err, errors.ErrInvalid) {
				t.Fatalf("malformed error %#v: %v", e, err)
			}
			return
		}
		for _, c := range file.Categories {
			if c.Name == "" || c.Name != strings.TrimSpace(c.Name) || c.File == "" || c.Line < 1 {
				t.Fatalf("malformed category %#v", c)
			}
			for _, v := range c.Vars {
				if v.Name == "" || v.File == "" || v.Line < 1 {
					t.Fatalf("malformed variable %#v in [%s]", v, c.Name)
				}
			}
		}
		_ = file.Changed()
	})
}
