package sorcery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// FuzzParseCondition: field names carrying operators, as Asterisk's realtime lookups and the
// curl handler receive them. No panic; an accepted condition writes back to a name that
// parses to the same condition.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"context", "name LIKE", "qualify_frequency >", "n <=", "id REGEXP", "x ~", "", " ", "a b c", "n BETWEEN"} {
		f.Add(s, "v")
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		c, err := sorcery.ParseCondition(name, value)
		if err != nil {
			if !errors.Is(err, errors.ErrInvalid) {
				t.Fatalf("ParseCondition(%q): %v is not ErrInvalid", name, err)
			}
			return
		}
		back, err := sorcery.ParseCondition(c.Name(), value)
		if err != nil || back != c {
			t.Fatalf("ParseCondition(%q) = %+v, its Name %q parses to %+v, %v", name, c, c.Name(), back, err)
		}
		q := sorcery.Query{Conditions: []sorcery.Condition{c}}
		if m, err := q.Compile(); err == nil {
			m.Match(sorcery.Record{ID: value, Fields: sorcery.Fields{{Name: c.Field, Value: value}}})
		} else if !errors.Is(err, errors.ErrInvalid) {
			t.Fatalf("Compile(%+v): %v is not ErrInvalid", q, err)
		}
	})
}

// FuzzCodecDecode: arbitrary field names and values through the default codec. No panic;
// failures are ErrInvalid; what decodes encodes, and decodes again to the same object.
func FuzzCodecDecode(f *testing.F) {
	f.Add("alice", "context", "internal", "allow", "ulaw,alaw", "direct_media", "no")
	f.Add("x", "@vendor", "acme", "timeout", "1m30s", "ports", "5060,5061")
	f.Add("y", "on", "maybe", "i8", "300", "level", "**")
	c, err := sorcery.NewCodec[Kinds](&sorcery.CodecOptions{IgnoreUnknown: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, n1, v1, n2, v2, n3, v3 string) {
		r := sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: n1, Value: v1}, {Name: n2, Value: v2}, {Name: n3, Value: v3}}}
		obj, err := c.Decode(r)
		if err != nil {
			if !errors.Is(err, errors.ErrInvalid) || !strings.HasPrefix(err.Error(), "sorcery: ") {
				t.Fatalf("Decode(%+v): %v", r, err)
			}
			return
		}
		enc, err := c.Encode(obj)
		if err != nil {
			t.Fatalf("Encode of a decoded object: %v", err)
		}
		again, err := c.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(r))) of %+v: %v", r, err)
		}
		enc2, err := c.Encode(again)
		if err != nil || !enc.Equal(enc2) {
			t.Fatalf("not a round trip: %+v then %+v (%v)", enc, enc2, err)
		}
	})
}

// Direct has only fields the codec sets through typed pointers (its direct path).
type Direct struct {
	ID      string            `sorcery:"id"`
	Name    string            `sorcery:"name,default=x"`
	On      bool              `sorcery:"on,default=yes"`
	I8      int8              `sorcery:"i8"`
	U16     uint16            `sorcery:"u16"`
	I       int               `sorcery:"i"`
	F32     float32           `sorcery:"f32"`
	Timeout time.Duration     `sorcery:"timeout,default=1.5"`
	Allow   []string          `sorcery:"allow,default=ulaw,alaw"`
	Ext     map[string]string `sorcery:"@"`
}

// FuzzCodecDecodeDirect is FuzzCodecDecode on the codec's direct path.
func FuzzCodecDecodeDirect(f *testing.F) {
	f.Add("a", "allow", "ulaw, ,alaw", "i8", "-128", "timeout", "0.000000001")
	f.Add("b", "ALLOW", "", "u16", "65536", "@x", "y")
	f.Add("c", "on", "maybe", "f32", "1e39", "name", "")
	c, err := sorcery.NewCodec[Direct](nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, n1, v1, n2, v2, n3, v3 string) {
		r := sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: n1, Value: v1}, {Name: n2, Value: v2}, {Name: n3, Value: v3}}}
		obj, err := c.Decode(r)
		if err != nil {
			if !errors.Is(err, errors.ErrInvalid) {
				t.Fatalf("Decode(%+v): %v", r, err)
			}
			return
		}
		enc, err := c.Encode(obj)
		if err != nil {
			t.Fatalf("Encode of a decoded object: %v", err)
		}
		again, err := c.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(r))) of %+v: %v", r, err)
		}
		if enc2, err := c.Encode(again); err != nil || !enc.Equal(enc2) {
			t.Fatalf("not a round trip: %+v then %+v (%v)", enc, enc2, err)
		}
	})
}
