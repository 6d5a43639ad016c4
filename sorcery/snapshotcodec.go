package sorcery

import (
	"encoding/binary"
	"slices"

	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
)

// snapshotRecordV1 tags the encoding of a record in a cache snapshot: after the tag, the id
// then the number of fields as unsigned varints, each string as its length (an unsigned
// varint) then its bytes, fields as name then value, in order. It is several times faster
// to decode than JSON, which matters when a cache of 100,000 objects starts from its
// snapshot.
const snapshotRecordV1 = 1

// snapshotCodec is the codec of a cache snapshot that stores objects as the records the
// type's codec encodes them to.
type snapshotCodec[T any] struct{ t *Type[T] }

var _ snapshot.Codec[int] = snapshotCodec[int]{}

// Marshal encodes v as the record the type's codec makes of it.
func (c snapshotCodec[T]) Marshal(v T) ([]byte, error) {
	rec, err := c.t.codec.Encode(v)
	if err != nil {
		return nil, err
	}
	return appendSnapshotRecord(nil, rec), nil
}

// Unmarshal decodes a record written by Marshal with the type's codec.
func (c snapshotCodec[T]) Unmarshal(b []byte) (T, error) {
	rec, err := parseSnapshotRecord(b)
	if err != nil {
		var zero T
		return zero, errors.Errorf("%s: snapshot record: %w", c.t.name, err)
	}
	return c.t.codec.Decode(rec)
}

func appendSnapshotRecord(b []byte, r Record) []byte {
	n := 1 + 2*binary.MaxVarintLen32 + len(r.ID)
	for _, f := range r.Fields {
		n += 2*binary.MaxVarintLen32 + len(f.Name) + len(f.Value)
	}
	b = append(slices.Grow(b, n), snapshotRecordV1)
	b = appendSnapshotString(b, r.ID)
	b = binary.AppendUvarint(b, uint64(len(r.Fields)))
	for _, f := range r.Fields {
		b = appendSnapshotString(b, f.Name)
		b = appendSnapshotString(b, f.Value)
	}
	return b
}

func appendSnapshotString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// parseSnapshotRecord decodes what appendSnapshotRecord encoded. Errors match
// errors.ErrInvalid.
func parseSnapshotRecord(b []byte) (Record, error) {
	var r Record
	if len(b) == 0 || b[0] != snapshotRecordV1 {
		return r, errors.Errorf("not a version %d record: %w", snapshotRecordV1, errors.ErrInvalid)
	}
	b = b[1:]
	var ok bool
	if r.ID, b, ok = parseSnapshotString(b); !ok {
		return r, errors.Errorf("bad id: %w", errors.ErrInvalid)
	}
	n, k := binary.Uvarint(b)
	// A field takes two bytes at least: a larger count is a lie.
	if k <= 0 || n > uint64(len(b)-k)/2 {
		return r, errors.Errorf("bad field count: %w", errors.ErrInvalid)
	}
	b = b[k:]
	r.Fields = make(Fields, n)
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.Name, b, ok = parseSnapshotString(b); !ok {
			return r, errors.Errorf("field %d: bad name: %w", i, errors.ErrInvalid)
		}
		if f.Value, b, ok = parseSnapshotString(b); !ok {
			return r, errors.Errorf("field %q: bad value: %w", f.Name, errors.ErrInvalid)
		}
	}
	if len(b) != 0 {
		return r, errors.Errorf("%d bytes after the record: %w", len(b), errors.ErrInvalid)
	}
	return r, nil
}

func parseSnapshotString(b []byte) (s string, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}
