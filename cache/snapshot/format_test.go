package snapshot

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func encodeSnapshot(t testing.TB, meta snapMeta, entries []snapEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := newSnapEncoder(&b)
	for _, e := range entries {
		enc.add(e.id, e.loaded, e.value)
	}
	require.NoError(t, enc.finish(meta))
	return b.Bytes()
}

var snapSamples = []struct {
	meta    snapMeta
	entries []snapEntry
}{
	{snapMeta{written: 1}, nil},
	{snapMeta{written: 1_700_000_000_000_000_000}, []snapEntry{{id: "alice", loaded: 1_699_999_999_000_000_000, value: []byte(`{"id":"alice"}`)}}},
	{snapMeta{complete: true, written: 5, setLoaded: 4}, []snapEntry{
		{id: "", loaded: -1, value: nil},
		{id: "bob", loaded: 3, value: []byte{0, 1, 2, 0xff}},
		{id: strings.Repeat("x", 300), loaded: 2, value: bytes.Repeat([]byte{7}, 70000)},
	}},
}

func TestSnapshotFileRoundTrips(t *testing.T) {
	for _, s := range snapSamples {
		b := encodeSnapshot(t, s.meta, s.entries)
		meta, entries, err := decodeSnapshot(b)
		require.NoError(t, err)
		assert.Equal(t, s.meta, meta)
		require.Len(t, entries, len(s.entries))
		for i, e := range entries {
			assert.Equal(t, s.entries[i].id, e.id)
			assert.Equal(t, s.entries[i].loaded, e.loaded)
			assert.Equal(t, len(s.entries[i].value), len(e.value))
			assert.True(t, bytes.Equal(s.entries[i].value, e.value), "value of %q", e.id)
		}
	}
}

func TestSnapshotFileRejectsEveryTruncation(t *testing.T) {
	s := snapSamples[2]
	b := encodeSnapshot(t, s.meta, s.entries)
	for n := range len(b) {
		_, _, err := decodeSnapshot(b[:n])
		require.Error(t, err, "a file cut at %d of %d bytes was accepted", n, len(b))
	}
}

// withChecksum returns body behind a version 1 header, with a right checksum: input that
// gets past the checks of the whole file, so the fuzzer reaches the parser of the entries
// and the trailer.
func withChecksum(body []byte) []byte {
	b := append([]byte(snapMagic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[len(snapMagic):], snapVersion)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, snapCRC))
}

// FuzzDecodeSnapshot checks that no input makes the decoder panic or allocate without bound,
// and that what it accepts encodes back to a file that decodes to the same thing.
func FuzzDecodeSnapshot(f *testing.F) {
	// Small seeds: the fuzzer minimises what it finds interesting, slowly for large inputs.
	seeds := append(snapSamples[:2:2], struct {
		meta    snapMeta
		entries []snapEntry
	}{snapMeta{complete: true, written: 5, setLoaded: 4}, []snapEntry{
		{id: "", loaded: -1},
		{id: "bob", loaded: 3, value: []byte{0, 1, 2, 0xff}},
		{id: "carol", loaded: 2, value: bytes.Repeat([]byte{7}, 130)},
	}})
	for _, s := range seeds {
		b := encodeSnapshot(f, s.meta, s.entries)
		f.Add(b)
		f.Add(b[snapHeaderLen : len(b)-4]) // the body, for withChecksum
	}
	f.Add([]byte(snapMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSnapshotDecoding(t, b)
		checkSnapshotDecoding(t, withChecksum(b))
	})
}

func checkSnapshotDecoding(t *testing.T, b []byte) {
	meta, entries, err := decodeSnapshot(b)
	if err != nil {
		return
	}
	if len(entries) > len(b)/snapMinEntry {
		t.Fatalf("%d entries from %d bytes", len(entries), len(b))
	}
	again := encodeSnapshot(t, meta, entries)
	meta2, entries2, err := decodeSnapshot(again)
	if err != nil {
		t.Fatalf("a file the decoder accepted does not decode once encoded again: %v", err)
	}
	if meta2 != meta || len(entries2) != len(entries) {
		t.Fatalf("round trip changed the file: %+v %d entries, then %+v %d entries", meta, len(entries), meta2, len(entries2))
	}
	for i := range entries {
		if entries[i].id != entries2[i].id || entries[i].loaded != entries2[i].loaded || !bytes.Equal(entries[i].value, entries2[i].value) {
			t.Fatalf("round trip changed entry %d", i)
		}
	}
}
