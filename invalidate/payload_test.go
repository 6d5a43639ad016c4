package invalidate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestEncodeWritesCompactVersionedJSON(t *testing.T) {
	b, err := Encode(sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Deleted})
	require.NoError(t, err)
	assert.Equal(t, `{"v":1,"type":"endpoint","id":"alice","change":"deleted"}`, string(b))
}

func TestEncodeThenDecodeReturnsTheInvalidation(t *testing.T) {
	for _, inv := range []sorcery.Invalidation{
		{Type: "endpoint", ID: "alice", Change: sorcery.Changed},
		{Type: "aor", ID: "bob", Change: sorcery.Deleted},
		{Type: "outbound-publish", ID: `we"ird <id> \ ünïcode ;^3B`, Change: sorcery.Changed},
		{Type: "auth", ID: strings.Repeat("x", 7000), Change: sorcery.Changed},
	} {
		b, err := Encode(inv)
		require.NoError(t, err, "%+v", inv)
		got, err := Decode(b)
		require.NoError(t, err, "%s", b)
		assert.Equal(t, inv, got, "%s", b)
	}
}

func TestEncodeRejectsWhatCannotBeSent(t *testing.T) {
	for name, inv := range map[string]sorcery.Invalidation{
		"empty type":     {ID: "a"},
		"empty id":       {Type: "endpoint"},
		"dotted type":    {Type: "end.point", ID: "a"},
		"wildcard type":  {Type: "*", ID: "a"},
		"spaced type":    {Type: "end point", ID: "a"},
		"slashed type":   {Type: "endpoint/cache", ID: "a"},
		"unknown change": {Type: "endpoint", ID: "a", Change: 7},
		"id not UTF-8":   {Type: "endpoint", ID: "a\xff"},
		"too large":      {Type: "endpoint", ID: strings.Repeat("x", MaxPayload)},
	} {
		_, err := Encode(inv)
		assert.ErrorIs(t, err, errors.ErrInvalid, name)
	}
}

func TestDecodeAcceptsTriggerAndToolPayloads(t *testing.T) {
	for payload, want := range map[string]sorcery.Invalidation{
		// What PostgreSQL's json_build_object writes.
		`{"v" : 1, "type" : "endpoint", "id" : "alice", "change" : "changed"}`: {Type: "endpoint", ID: "alice", Change: sorcery.Changed},
		// Synonyms of sorcery.ParseChange, and members a later version 1 may add.
		`{"v":1,"type":"aor","id":"a","change":"DELETE","ts":"2026-01-01"}`:    {Type: "aor", ID: "a", Change: sorcery.Deleted},
		`{"v":1,"type":"auth","id":"a","change":"insert"}`:                     {Type: "auth", ID: "a", Change: sorcery.Changed},
		" \n{\"v\":1,\"type\":\"auth\",\"id\":\"a\",\"change\":\"updated\"}\n": {Type: "auth", ID: "a", Change: sorcery.Changed},
	} {
		got, err := Decode([]byte(payload))
		require.NoError(t, err, payload)
		assert.Equal(t, want, got, payload)
	}
}

func TestDecodeRejectsGarbageWithErrInvalid(t *testing.T) {
	for _, payload := range []string{
		``,
		`null`,
		`[]`,
		`"x"`,
		`{`,
		`{}`,
		`{"type":"endpoint","id":"a","change":"changed"}`,
		`{"v":2,"type":"endpoint","id":"a","change":"changed"}`,
		`{"v":"1","type":"endpoint","id":"a","change":"changed"}`,
		`{"v":1.5,"type":"endpoint","id":"a","change":"changed"}`,
		`{"v":1,"id":"a","change":"changed"}`,
		`{"v":1,"type":"endpoint","change":"changed"}`,
		`{"v":1,"type":"endpoint","id":"a"}`,
		`{"v":1,"type":"endpoint","id":"","change":"changed"}`,
		`{"v":1,"type":"","id":"a","change":"changed"}`,
		`{"v":1,"type":"end.point","id":"a","change":"changed"}`,
		`{"v":1,"type":"endpoint","id":"a","change":"exploded"}`,
		`{"v":1,"type":"endpoint","id":7,"change":"changed"}`,
		`{"v":1,"type":null,"id":"a","change":"changed"}`,
		`{"v":1,"type":"endpoint","id":"a","change":"changed"} {}`,
		`{"v":1,"type":"endpoint","id":"a","change":"changed"`,
		`{"v":1,"type":"endpoint","id":"` + strings.Repeat("x", MaxPayload) + `","change":"changed"}`,
		"\xff\xfe",
	} {
		inv, err := Decode([]byte(payload))
		assert.ErrorIs(t, err, errors.ErrInvalid, "%q", payload)
		assert.Zero(t, inv, "%q", payload)
	}
}

// FuzzDecode checks that Decode never panics, rejects what it refuses with ErrInvalid, and
// that whatever it accepts survives Encode and Decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"endpoint","id":"alice","change":"changed"}`,
		`{"v" : 1, "type" : "aor", "id" : "bob", "change" : "deleted"}`,
		`{"v":1,"type":"auth","id":"\u00e9\ud83d\ude00","change":"DELETE","x":[1,{"y":null}]}`,
		`{"v":2}`,
		`[1,2,3]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		inv, err := Decode(payload)
		if err != nil {
			if !errors.Is(err, errors.ErrInvalid) {
				t.Fatalf("Decode(%q) = %v, want an error wrapping ErrInvalid", payload, err)
			}
			if inv != (sorcery.Invalidation{}) {
				t.Fatalf("Decode(%q) returned %+v with an error", payload, inv)
			}
			return
		}
		b, err := Encode(inv)
		if err != nil {
			t.Fatalf("Encode(%+v) of a decoded payload %q: %v", inv, payload, err)
		}
		again, err := Decode(b)
		if err != nil || again != inv {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", payload, again, err, inv)
		}
	})
}

func TestValidTypeAcceptsAsteriskTypeNames(t *testing.T) {
	for _, name := range []string{"endpoint", "aor", "auth", "contact", "identify", "outbound-publish", "resource_list", "domain_alias", "phoneprov"} {
		assert.NoError(t, ValidType(name), name)
	}
	for _, name := range []string{"", "a b", "a\tb", "a\nb", "a.b", "a*", "a>", "a:b", "a?", "[a]", `a\b`, "a/b", strings.Repeat("a", 256), "\xff", "a\u00a0b"} {
		assert.ErrorIs(t, ValidType(name), errors.ErrInvalid, "%q", name)
	}
}
