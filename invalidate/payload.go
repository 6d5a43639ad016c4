package invalidate

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Version is the version of the wire encoding that [Encode] writes and [Decode] reads. A
// payload of another version is rejected, so that a newer publisher is noticed (counted as
// malformed) instead of being misread.
const Version = 1

// MaxPayload is the size, in bytes, of the largest payload [Encode] writes and [Decode]
// reads. It is below PostgreSQL's limit on a NOTIFY payload (8000 bytes), so every engine can
// carry every payload.
const MaxPayload = 7900

// wire is the JSON form of an invalidation. Pointers tell a missing member from an empty one.
type wire struct {
	V      *int    `json:"v"`
	Type   *string `json:"type"`
	ID     *string `json:"id"`
	Change *string `json:"change"`
}

// Encode returns the wire form of inv: one compact JSON object,
//
//	{"v":1,"type":"endpoint","id":"alice","change":"changed"}
//
// with "change" either "changed" or "deleted". An invalidation with an empty or malformed
// type (see [ValidType]), an empty id, an unknown change, or whose encoding would exceed
// [MaxPayload] is errors.ErrInvalid.
func Encode(inv sorcery.Invalidation) ([]byte, error) {
	if err := Validate(inv); err != nil {
		return nil, err
	}
	v, change := Version, inv.Change.String()
	b, err := json.Marshal(wire{V: &v, Type: &inv.Type, ID: &inv.ID, Change: &change})
	if err != nil {
		return nil, errors.Errorf("encode invalidation: %w (%w)", err, errors.ErrInvalid)
	}
	if len(b) > MaxPayload {
		return nil, errors.Errorf("encode invalidation: %d bytes, more than %d: %w", len(b), MaxPayload, errors.ErrInvalid)
	}
	return b, nil
}

// Decode parses a payload written by [Encode], or by the trigger of package pgnotify, or by
// any tool that writes the same JSON object. Members it does not know are ignored, so that a
// later version 1 may add some; "change" also accepts what [sorcery.ParseChange] accepts
// ("created", "updated", "insert", "update", "delete" …). Anything else — not JSON, not an
// object, another version, a missing or malformed member, more than [MaxPayload] bytes — is
// errors.ErrInvalid. Decode never panics.
func Decode(payload []byte) (sorcery.Invalidation, error) {
	var inv sorcery.Invalidation
	if len(payload) > MaxPayload {
		return inv, errors.Errorf("decode invalidation: %d bytes, more than %d: %w", len(payload), MaxPayload, errors.ErrInvalid)
	}
	var w wire
	if err := json.Unmarshal(payload, &w); err != nil {
		return inv, errors.Errorf("decode invalidation: %w (%w)", err, errors.ErrInvalid)
	}
	switch {
	case w.V == nil:
		return inv, errors.Errorf("decode invalidation: no version: %w", errors.ErrInvalid)
	case *w.V != Version:
		return inv, errors.Errorf("decode invalidation: version %d, want %d: %w", *w.V, Version, errors.ErrInvalid)
	case w.Type == nil, w.ID == nil, w.Change == nil:
		return inv, errors.Errorf("decode invalidation: type, id and change are required: %w", errors.ErrInvalid)
	}
	change, err := sorcery.ParseChange(*w.Change)
	if err != nil {
		return inv, errors.Errorf("decode invalidation: %w", err)
	}
	inv = sorcery.Invalidation{Type: *w.Type, ID: *w.ID, Change: change}
	if err := Validate(inv); err != nil {
		return sorcery.Invalidation{}, err
	}
	return inv, nil
}

// Validate reports, as errors.ErrInvalid, what makes inv unfit to be sent: a type that
// [ValidType] refuses, an empty id, or a change other than [sorcery.Changed] and
// [sorcery.Deleted].
func Validate(inv sorcery.Invalidation) error {
	if err := ValidType(inv.Type); err != nil {
		return err
	}
	if inv.ID == "" {
		return errors.Errorf("invalidation of %s: empty id: %w", inv.Type, errors.ErrInvalid)
	}
	if !utf8.ValidString(inv.ID) {
		return errors.Errorf("invalidation of %s: id is not UTF-8: %w", inv.Type, errors.ErrInvalid)
	}
	if inv.Change != sorcery.Changed && inv.Change != sorcery.Deleted {
		return errors.Errorf("invalidation of %s %q: unknown change %d: %w", inv.Type, inv.ID, inv.Change, errors.ErrInvalid)
	}
	return nil
}

// ValidType reports, as errors.ErrInvalid, whether name cannot be an object type's name on
// the wire: empty, longer than 255 bytes, not UTF-8, or holding a space, a control
// character, or one of the characters "/", ".", "*", ">", ":", "?", "[", "]" and "\" that
// sorcery mappings, NATS subjects and Redis channel patterns give a meaning.
func ValidType(name string) error {
	switch {
	case name == "":
		return errors.Errorf("empty object type: %w", errors.ErrInvalid)
	case len(name) > 255:
		return errors.Errorf("object type of %d bytes, more than 255: %w", len(name), errors.ErrInvalid)
	case !utf8.ValidString(name):
		return errors.Errorf("object type %q is not UTF-8: %w", name, errors.ErrInvalid)
	case strings.ContainsAny(name, `/.*>:?[]\`) || strings.ContainsFunc(name, isSpaceOrControl):
		return errors.Errorf("object type %q holds a reserved character: %w", name, errors.ErrInvalid)
	}
	return nil
}

func isSpaceOrControl(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
}
