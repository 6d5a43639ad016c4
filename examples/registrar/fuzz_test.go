package registrar

import (
	"strings"
	"testing"
)

// FuzzParseCredentials feeds arbitrary Authorization header values to the digest parser, as
// any UDP packet may: no panic, and parsed credentials print back to a header that parses to
// the same credentials.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{
		`Digest username="alice", realm="pbx", nonce="abc", uri="sip:pbx", response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, cnonce="xyz"`,
		`Digest username="a\"b", realm="r"`, `Basic YWxhZGRpbjpvcGVuc2VzYW1l`, `Digest`, `Digest =`, `Digest a="`, `Digest a=b,,c=d`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, err := parseCredentials(h)
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString("Digest ")
		for i, p := range [][2]string{
			{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce}, {"uri", c.URI},
			{"response", c.Response}, {"algorithm", c.Algorithm}, {"cnonce", c.CNonce},
			{"opaque", c.Opaque}, {"qop", c.QOP}, {"nc", c.NC},
		} {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p[0] + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p[1]) + `"`)
		}
		back, err := parseCredentials(b.String())
		if err != nil {
			t.Fatalf("parseCredentials(%q) = %+v, whose header %q does not parse: %v", h, c, b.String(), err)
		}
		if back != c {
			t.Fatalf("round trip of %q: %+v, then %+v", h, c, back)
		}
	})
}
