package sorcery_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// level implements encoding.TextMarshaler and TextUnmarshaler.
type level int

func (l level) MarshalText() ([]byte, error) { return []byte(strings.Repeat("*", int(l))), nil }
func (l *level) UnmarshalText(b []byte) error {
	if strings.Trim(string(b), "*") != "" {
		return fmt.Errorf("stars only")
	}
	*l = level(len(b))
	return nil
}

type Common struct {
	Context string `sorcery:"context,default=default"`
}

type Kinds struct {
	ID       string `sorcery:"id"`
	Common          // flattened
	Name     string `sorcery:"name"`
	On       bool   `sorcery:"on"`
	I        int    `sorcery:"i"`
	I8       int8   `sorcery:"i8"`
	I16      int16
	I32      int32             `sorcery:"i32"`
	I64      int64             `sorcery:"i64"`
	U        uint              `sorcery:"u"`
	U8       uint8             `sorcery:"u8"`
	U16      uint16            `sorcery:"u16"`
	U32      uint32            `sorcery:"u32"`
	U64      uint64            `sorcery:"u64"`
	F32      float32           `sorcery:"f32"`
	F64      float64           `sorcery:"f64"`
	Timeout  time.Duration     `sorcery:"timeout,default=30"`
	Allow    []string          `sorcery:"allow,default=ulaw,alaw"`
	Ports    []int             `sorcery:"ports"`
	Addr     netip.Addr        `sorcery:"addr"`
	Level    level             `sorcery:"level"`
	Ext      map[string]string `sorcery:"@"`
	Secret   string            `sorcery:"-"`
	MaxCalls int               // untagged: max_calls
	private  int               // unexported: not mapped
}

func TestCodecDecodesEveryKind(t *testing.T) {
	c, err := sorcery.NewCodec[Kinds](nil)
	require.NoError(t, err)
	r := rec("k1",
		"context", "internal", "name", "Kind One", "on", "Yes",
		"i", "-1", "i8", "-8", "I16", "-16", "i32", "-32", "i64", "-64",
		"u", "1", "u8", "8", "u16", "16", "u32", "32", "u64", "64",
		"f32", "1.5", "f64", "-2.25", "timeout", "1m30s",
		"allow", "g722", "allow", "opus, g729", "ports", "5060,5061",
		"addr", "192.0.2.1", "level", "***", "@vendor", "acme", "max_calls", "7",
	)
	got, err := c.Decode(r)
	require.NoError(t, err)
	assert.Equal(t, Kinds{
		ID: "k1", Common: Common{Context: "internal"}, Name: "Kind One", On: true,
		I: -1, I8: -8, I16: -16, I32: -32, I64: -64,
		U: 1, U8: 8, U16: 16, U32: 32, U64: 64, F32: 1.5, F64: -2.25,
		Timeout: 90 * time.Second, Allow: []string{"g722", "opus", "g729"}, Ports: []int{5060, 5061},
		Addr: netip.MustParseAddr("192.0.2.1"), Level: 3, Ext: map[string]string{"vendor": "acme"},
		MaxCalls: 7,
	}, got)
}

func TestCodecAppliesDefaults(t *testing.T) {
	c, err := sorcery.NewCodec[Kinds](nil)
	require.NoError(t, err)
	got, err := c.Decode(rec("k"))
	require.NoError(t, err)
	assert.Equal(t, "default", got.Context)
	assert.Equal(t, 30*time.Second, got.Timeout, "a bare number is seconds")
	assert.Equal(t, []string{"ulaw", "alaw"}, got.Allow)

	got, err = c.Decode(rec("k", "allow", "opus"))
	require.NoError(t, err)
	assert.Equal(t, []string{"opus"}, got.Allow, "given values replace a slice's default")

	ep, err := sorcery.NewCodec[Endpoint](nil)
	require.NoError(t, err)
	e, err := ep.Decode(rec("alice"))
	require.NoError(t, err)
	assert.True(t, e.DirectMedia)
}

func TestCodecTruthValues(t *testing.T) {
	c, err := sorcery.NewCodec[Endpoint](nil)
	require.NoError(t, err)
	for _, v := range []string{"yes", "YES", "true", "True", "on", "1", "y", "t", " yes "} {
		e, err := c.Decode(rec("a", "direct_media", v))
		require.NoError(t, err, v)
		assert.True(t, e.DirectMedia, v)
	}
	for _, v := range []string{"no", "No", "false", "off", "OFF", "0", "n", "f"} {
		e, err := c.Decode(rec("a", "direct_media", v))
		require.NoError(t, err, v)
		assert.False(t, e.DirectMedia, v)
	}
}

func TestCodecRejectsBadValuesNamingTheFieldNotTheValue(t *testing.T) {
	c, err := sorcery.NewCodec[Kinds](nil)
	require.NoError(t, err)
	cases := []struct{ field, value, want string }{
		{"on", "maybe", "truth value"},
		{"i", "12x", "not a number"},
		{"i8", "300", "out of range"},
		{"u", "-1", "not a number"},
		{"f64", "pi", "not a number"},
		{"timeout", "soon", "not a duration"},
		{"ports", "5060,http", "not a number"},
		{"addr", "not-an-ip", "not a valid netip.Addr"},
		{"level", "**x", "not a valid sorcery_test.level"},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			_, err := c.Decode(rec("k", tc.field, tc.value))
			require.Error(t, err, "%s=%s", tc.field, tc.value)
			assert.ErrorIs(t, err, errors.ErrInvalid)
			assert.ErrorContains(t, err, fmt.Sprintf("%q", tc.field))
			assert.NotContains(t, err.Error(), fmt.Sprintf("%q", tc.value), "values may be secrets: never in errors")
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCodecUnknownFields(t *testing.T) {
	strict, err := sorcery.NewCodec[Endpoint](nil)
	require.NoError(t, err)
	_, err = strict.Decode(rec("a", "contxt", "typo"))
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, `unknown field "contxt"`)

	lax, err := sorcery.NewCodec[Endpoint](&sorcery.CodecOptions{IgnoreUnknown: true})
	require.NoError(t, err)
	e, err := lax.Decode(rec("a", "contxt", "typo", "context", "ok"))
	require.NoError(t, err)
	assert.Equal(t, "ok", e.Context)

	_, err = strict.Decode(rec("a", "CONTEXT", "upper", "id", "a"))
	assert.NoError(t, err, "names match without case, and a repeated id is not unknown")
}

func TestCodecRoundTrips(t *testing.T) {
	c, err := sorcery.NewCodec[Kinds](nil)
	require.NoError(t, err)
	v := Kinds{
		private: 0,
		ID:      "k1", Common: Common{Context: "internal"}, Name: "x", On: true, I: -1, U64: 1 << 63,
		F32: 0.1, F64: 1e-9, Timeout: 1500 * time.Millisecond, Allow: []string{}, Ports: []int{1},
		Addr: netip.MustParseAddr("::1"), Level: 2, Ext: map[string]string{"b": "2", "a": "1"}, MaxCalls: 3,
	}
	r, err := c.Encode(v)
	require.NoError(t, err)
	back, err := c.Decode(r)
	require.NoError(t, err)
	v.Allow = nil // an empty slice decodes as nil
	assert.Equal(t, v, back, "Decode(Encode(v))")
	again, err := c.Encode(back)
	require.NoError(t, err)
	assert.Equal(t, r, again, "Encode(Decode(r)) for a record in encoded form")

	assert.Equal(t, "1.5s", r.Fields.Value("timeout"))
	assert.Equal(t, "yes", r.Fields.Value("on"))
	assert.Equal(t, []string{"@a", "@b"}, []string{r.Fields[len(r.Fields)-3].Name, r.Fields[len(r.Fields)-2].Name}, "extended fields sorted, in struct position")
	assert.Equal(t, []string{""}, r.Fields.Values("allow"), "an empty slice with a default writes an empty value")
}

func TestCodecRejectsBadStructs(t *testing.T) {
	type noID struct{ Name string }
	type badDefault struct {
		ID string `sorcery:"id"`
		N  int    `sorcery:"n,default=ten"`
	}
	type badType struct {
		ID string   `sorcery:"id"`
		C  chan int `sorcery:"c"`
	}
	type badExt struct {
		ID string         `sorcery:"id"`
		E  map[string]int `sorcery:"@"`
	}
	type dupName struct {
		ID string `sorcery:"id"`
		A  string `sorcery:"x"`
		B  string `sorcery:"X"`
	}
	_, err := sorcery.NewCodec[noID](nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = sorcery.NewCodec[badDefault](nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, `"ten"`)
	_, err = sorcery.NewCodec[badType](nil)
	assert.ErrorContains(t, err, "unsupported type chan int")
	_, err = sorcery.NewCodec[badExt](nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = sorcery.NewCodec[dupName](nil)
	assert.ErrorContains(t, err, "used twice")
}

func TestRecordCodecPassesRecordsThrough(t *testing.T) {
	c, err := sorcery.NewCodec[sorcery.Record](nil)
	require.NoError(t, err)
	r := rec("a", "x", "1", "x", "2")
	got, err := c.Decode(r)
	require.NoError(t, err)
	assert.True(t, r.Equal(got))
	got.Fields[0].Value = "changed"
	assert.Equal(t, "1", r.Fields[0].Value, "decode copies")
}

func TestCodecDefaultsAreNotSharedBetweenObjects(t *testing.T) {
	c, err := sorcery.NewCodec[Kinds](nil)
	require.NoError(t, err)
	a, err := c.Decode(rec("a"))
	require.NoError(t, err)
	assert.Equal(t, []string{"ulaw", "alaw"}, a.Allow)
	assert.Equal(t, 30*time.Second, a.Timeout)
	assert.Equal(t, "default", a.Context)
	a.Allow[0] = "changed"
	b, err := c.Decode(rec("b"))
	require.NoError(t, err)
	assert.Equal(t, []string{"ulaw", "alaw"}, b.Allow, "a default slice is each object's own")
	b.Allow = append(b.Allow[:1], "opus")
	again, err := c.Decode(rec("c", "allow", "g722"))
	require.NoError(t, err)
	assert.Equal(t, []string{"g722"}, again.Allow, "a slice given replaces its default")
}

// Wide has more fields than one word of the codec's bit set holds.
type Wide struct {
	ID string `sorcery:"id"`
	A  [70]struct {
		V string
	} `sorcery:"-"`
	F00, F01, F02, F03, F04, F05, F06, F07, F08, F09 []string
	F10, F11, F12, F13, F14, F15, F16, F17, F18, F19 []string
	F20, F21, F22, F23, F24, F25, F26, F27, F28, F29 []string
	F30, F31, F32, F33, F34, F35, F36, F37, F38, F39 []string
	F40, F41, F42, F43, F44, F45, F46, F47, F48, F49 []string
	F50, F51, F52, F53, F54, F55, F56, F57, F58, F59 []string
	F60, F61, F62, F63, F64, F65, F66, F67, F68, F69 []string
	Last                                             []string `sorcery:"last,default=x,y"`
}

func TestCodecDecodesStructsOfManyFields(t *testing.T) {
	c, err := sorcery.NewCodec[Wide](nil)
	require.NoError(t, err)
	w, err := c.Decode(rec("w", "f69", "a", "F69", "b", "last", "z", "LAST", "q", "f00", "c"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, w.F69)
	assert.Equal(t, []string{"z", "q"}, w.Last)
	assert.Equal(t, []string{"c"}, w.F00)
	w, err = c.Decode(rec("w"))
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, w.Last)
	_, err = c.Decode(rec("w", "f70", "a"))
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

// Endpoint4 is the struct of the codec benchmark: strings, and a list from repeated fields.
type Endpoint4 struct {
	ID      string   `sorcery:"id"`
	Context string   `sorcery:"context"`
	Allow   []string `sorcery:"allow"`
	Aors    string   `sorcery:"aors"`
}

// decodeByHand is what a program would write instead of the codec for Endpoint4, doing the
// same work: names without case, comma lists, unknown fields rejected.
func decodeByHand(r sorcery.Record) (Endpoint4, error) {
	e := Endpoint4{ID: r.ID}
	for _, f := range r.Fields {
		switch {
		case f.Name == "context" || strings.EqualFold(f.Name, "context"):
			e.Context = f.Value
		case f.Name == "allow" || strings.EqualFold(f.Name, "allow"):
			for s := f.Value; s != ""; {
				var part string
				part, s, _ = strings.Cut(s, ",")
				if part = strings.TrimSpace(part); part != "" {
					e.Allow = append(e.Allow, part)
				}
			}
		case f.Name == "aors" || strings.EqualFold(f.Name, "aors"):
			e.Aors = f.Value
		default:
			return Endpoint4{}, fmt.Errorf("sorcery: unknown field %q: %w", f.Name, errors.ErrInvalid)
		}
	}
	return e, nil
}

func TestDecodeByHandAgreesWithTheCodec(t *testing.T) {
	c, err := sorcery.NewCodec[Endpoint4](nil)
	require.NoError(t, err)
	r := rec("alice", "context", "internal", "allow", "ulaw", "allow", "alaw, g722", "aors", "alice")
	want, err := decodeByHand(r)
	require.NoError(t, err)
	got, err := c.Decode(r)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// BenchmarkCodecDecode4 compares the default codec with decodeByHand on the same record:
// run them together, side by side.
func BenchmarkCodecDecode4(b *testing.B) {
	r := rec("alice", "context", "internal", "allow", "ulaw", "allow", "alaw", "aors", "alice")
	b.Run("codec", func(b *testing.B) {
		c, err := sorcery.NewCodec[Endpoint4](nil)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeByHand(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCodecDecode(b *testing.B) {
	c, err := sorcery.NewCodec[Endpoint](nil)
	require.NoError(b, err)
	r := rec("alice", "context", "internal", "allow", "ulaw", "allow", "alaw", "direct_media", "no", "@x", "y")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(r); err != nil {
			b.Fatal(err)
		}
	}
}
