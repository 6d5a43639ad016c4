package sorcery

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
)

func TestSnapshotRecordRoundTripsAndRejectsDamage(t *testing.T) {
	r := Record{ID: "alice", Fields: Fields{{"allow", "ulaw"}, {"allow", "alaw"}, {"@password", "s;e,c=r\x00t"}, {"", ""}}}
	b := appendSnapshotRecord(nil, r)
	got, err := parseSnapshotRecord(b)
	require.NoError(t, err)
	assert.Equal(t, r, got)

	for n := range len(b) {
		_, err := parseSnapshotRecord(b[:n])
		assert.ErrorIs(t, err, errors.ErrInvalid, "a record cut at %d of %d bytes", n, len(b))
	}
	_, err = parseSnapshotRecord(append(b, 0))
	assert.ErrorIs(t, err, errors.ErrInvalid, "a record with bytes after it")
	other := append([]byte{2}, b[1:]...)
	_, err = parseSnapshotRecord(other)
	assert.ErrorIs(t, err, errors.ErrInvalid, "a record of another version")
}

// FuzzSnapshotRecord checks that no input makes the record decoder panic, and that what it
// accepts encodes back to the same bytes.
func FuzzSnapshotRecord(f *testing.F) {
	f.Add(appendSnapshotRecord(nil, Record{ID: "alice", Fields: Fields{{"context", "default"}, {"allow", "ulaw"}}}))
	f.Add(appendSnapshotRecord(nil, Record{}))
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseSnapshotRecord(b)
		if err != nil {
			return
		}
		again, err := parseSnapshotRecord(appendSnapshotRecord(nil, r))
		if err != nil {
			t.Fatalf("a record the decoder accepted does not decode once encoded again: %v", err)
		}
		if again.ID != r.ID || len(again.Fields) != len(r.Fields) {
			t.Fatalf("round trip changed %+v into %+v", r, again)
		}
		for i := range r.Fields {
			if r.Fields[i] != again.Fields[i] {
				t.Fatalf("round trip changed field %d", i)
			}
		}
	})
}
