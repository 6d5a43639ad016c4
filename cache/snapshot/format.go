package snapshot

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/gosorcery/gosorcery/errors"
)

// The snapshot file, version 1. Integers are little-endian; lengths are unsigned varints
// (encoding/binary).
//
//	header   magic "GSORCSNP" (8 bytes), version uint32 = 1
//	entries  each: loaded int64 (Unix nanoseconds of the entry's last successful load),
//	         id length, id, value length, value (the Codec's bytes)
//	trailer  entry count uint64, flags uint32 (bit 0: a complete full-backend set),
//	         written int64 (Unix nanoseconds), set loaded int64 (Unix nanoseconds of the
//	         full-backend set's last whole load; 0 otherwise),
//	         CRC-32C (Castagnoli) uint32 of every byte before it
//
// The version comes first, so that a file of another version is reported as such, not as
// a bad checksum. The count, flags and times are at the end because they are known only
// once every value has been encoded. The checksum catches corruption and truncation; it is
// not a defence against someone who can write the file.
const (
	snapMagic      = "GSORCSNP"
	snapVersion    = 1
	snapHeaderLen  = len(snapMagic) + 4
	snapTrailerLen = 8 + 4 + 8 + 8 + 4
	snapMinEntry   = 8 + 1 + 1 // loaded, two empty lengths

	snapFlagComplete uint32 = 1 << 0
)

var snapCRC = crc32.MakeTable(crc32.Castagnoli)

// snapMeta is what a snapshot says about itself.
type snapMeta struct {
	complete  bool  // written from a complete full-backend set
	written   int64 // Unix nanoseconds
	setLoaded int64 // Unix nanoseconds; 0 when not a full-backend set
}

// snapEntry is one object of a snapshot. value aliases the decoded buffer.
type snapEntry struct {
	id     string
	loaded int64 // Unix nanoseconds
	value  []byte
}

// snapEncoder writes a snapshot file to w: the header when made, then the entries, then
// the trailer on finish.
type snapEncoder struct {
	w   io.Writer
	bw  *bufio.Writer // writes to w and crc
	crc hash.Hash32
	n   uint64
	buf [8 + binary.MaxVarintLen64]byte
}

func newSnapEncoder(w io.Writer) *snapEncoder {
	e := &snapEncoder{w: w, crc: crc32.New(snapCRC)}
	e.bw = bufio.NewWriterSize(io.MultiWriter(w, e.crc), 256<<10)
	e.bw.WriteString(snapMagic)
	e.bw.Write(binary.LittleEndian.AppendUint32(e.buf[:0], snapVersion))
	return e
}

// add appends one entry.
func (e *snapEncoder) add(id string, loaded int64, value []byte) {
	b := binary.LittleEndian.AppendUint64(e.buf[:0], uint64(loaded))
	b = binary.AppendUvarint(b, uint64(len(id)))
	e.bw.Write(b)
	e.bw.WriteString(id)
	e.bw.Write(binary.AppendUvarint(e.buf[:0], uint64(len(value))))
	e.bw.Write(value)
	e.n++
}

// finish writes the trailer and flushes. It returns the first error met by any write.
func (e *snapEncoder) finish(m snapMeta) error {
	var flags uint32
	if m.complete {
		flags |= snapFlagComplete
	}
	var t [snapTrailerLen - 4]byte
	b := binary.LittleEndian.AppendUint64(t[:0], e.n)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(m.written))
	b = binary.LittleEndian.AppendUint64(b, uint64(m.setLoaded))
	e.bw.Write(b)
	if err := e.bw.Flush(); err != nil { // bufio keeps the first error of every write
		return err
	}
	_, err := e.w.Write(binary.LittleEndian.AppendUint32(e.buf[:0], e.crc.Sum32()))
	return err
}

// decodeSnapshot checks and decodes a whole snapshot file. Its errors say what is wrong
// with the file, for a report; the entries' values alias b.
func decodeSnapshot(b []byte) (snapMeta, []snapEntry, error) {
	var m snapMeta
	if n := min(len(b), len(snapMagic)); string(b[:n]) != snapMagic[:n] {
		return m, nil, errors.New("not a snapshot file")
	}
	if len(b) < snapHeaderLen {
		return m, nil, fmt.Errorf("truncated: %d bytes", len(b))
	}
	if v := binary.LittleEndian.Uint32(b[len(snapMagic):]); v != snapVersion {
		return m, nil, fmt.Errorf("version %d, this release reads version %d", v, snapVersion)
	}
	if len(b) < snapHeaderLen+snapTrailerLen {
		return m, nil, fmt.Errorf("truncated: %d bytes", len(b))
	}
	end := len(b) - 4
	if got, want := crc32.Checksum(b[:end], snapCRC), binary.LittleEndian.Uint32(b[end:]); got != want {
		return m, nil, errors.New("checksum mismatch: the file is corrupt or truncated")
	}
	t := b[end-(snapTrailerLen-4) : end]
	count := binary.LittleEndian.Uint64(t)
	flags := binary.LittleEndian.Uint32(t[8:])
	m.written = int64(binary.LittleEndian.Uint64(t[12:]))
	m.setLoaded = int64(binary.LittleEndian.Uint64(t[20:]))
	if flags&^snapFlagComplete != 0 {
		return m, nil, fmt.Errorf("unknown flags %#x", flags)
	}
	m.complete = flags&snapFlagComplete != 0

	body := b[snapHeaderLen : end-(snapTrailerLen-4)]
	if count > uint64(len(body)/snapMinEntry) {
		return m, nil, fmt.Errorf("%d entries cannot fit in %d bytes", count, len(body))
	}
	entries := make([]snapEntry, 0, count)
	for len(body) > 0 {
		if uint64(len(entries)) == count {
			return m, nil, fmt.Errorf("%d bytes after the %d entries", len(body), count)
		}
		var e snapEntry
		if len(body) < 8 {
			return m, nil, fmt.Errorf("entry %d: truncated", len(entries))
		}
		e.loaded = int64(binary.LittleEndian.Uint64(body))
		body = body[8:]
		id, rest, ok := snapBytes(body)
		if !ok {
			return m, nil, fmt.Errorf("entry %d: bad id length", len(entries))
		}
		e.id = string(id)
		e.value, body, ok = snapBytes(rest)
		if !ok {
			return m, nil, fmt.Errorf("entry %d (%q): bad value length", len(entries), e.id)
		}
		entries = append(entries, e)
	}
	if uint64(len(entries)) != count {
		return m, nil, fmt.Errorf("%d entries, the trailer says %d", len(entries), count)
	}
	return m, entries, nil
}

// snapBytes reads a length-prefixed byte string off b.
func snapBytes(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
