package sorcery

import (
	"fmt"

	"github.com/gosorcery/gosorcery/errors"
)

// Locator is a [Wizard] that can say where a record it returned comes from: the file and
// line of a configuration file's category, the table and id of a database row, the URL of a
// provisioning service. The core names that origin when the record does not decode. Without
// it, an invalid record is reported with the wizard's name and the object id only.
type Locator interface {
	// Locate returns where the object with id comes from, such as "pjsip.conf:12", or ""
	// when the wizard does not know. It must not block and must not return field values.
	Locate(id string) string
}

// InvalidRecordError is a record a wizard returned that the type's codec could not decode:
// bad data in the source, not an outage of it. It matches errors.ErrInvalid. The type treats
// the record as that wizard's failure (the walk goes on to the next wizard, and a cache in
// front keeps what it served), and logs it as "invalid data", never as "source failing".
type InvalidRecordError struct {
	ID     string // the object id
	Origin string // where the record comes from (see [Locator]); "" when unknown
	Err    error  // the codec's error
}

// Error returns "sorcery: invalid data: object <id> at <origin>: <cause>".
func (e *InvalidRecordError) Error() string { return "sorcery: " + e.Detail() }

// Detail is Error without the library's name (see errors.Detailer).
func (e *InvalidRecordError) Detail() string {
	if e.Origin == "" {
		return fmt.Sprintf("invalid data: object %q: %s", e.ID, errors.Detail(e.Err))
	}
	return fmt.Sprintf("invalid data: object %q at %s: %s", e.ID, e.Origin, errors.Detail(e.Err))
}

// Unwrap returns errors.ErrInvalid and the codec's error.
func (e *InvalidRecordError) Unwrap() []error { return []error{errors.ErrInvalid, e.Err} }

// decodeFrom turns a record that w returned into *out. A record that does not decode is an
// *InvalidRecordError naming its origin, and leaves *out the zero T.
func (t *Type[T]) decodeFrom(w Wizard, rec Record, out *T) error {
	var err error
	if t.direct != nil {
		err = t.direct.decodeInto(rec, out) // no copy of the object on the way
	} else {
		*out, err = t.decode(rec)
	}
	if err != nil {
		var zero T
		*out = zero
		return &InvalidRecordError{ID: rec.ID, Origin: locate(w, rec.ID), Err: err}
	}
	return nil
}

// locate asks w, or the wizards it wraps, where id comes from.
func locate(w Wizard, id string) string {
	if l, ok := Capability[Locator](w); ok {
		return l.Locate(id)
	}
	return ""
}

// warnErrors logs the failures a walk or a search met: records that did not decode as
// "invalid data", the rest as "source failing".
func (t *Type[T]) warnErrors(errs []error) {
	var invalid, failing []error
	for _, err := range errs {
		var ir *InvalidRecordError
		if errors.As(err, &ir) {
			invalid = append(invalid, err)
		} else {
			failing = append(failing, err)
		}
	}
	switch {
	case len(failing) > 0 && len(invalid) > 0:
		t.warnf("source failing", "err", errors.Join(failing...), "invalid", errors.Join(invalid...))
	case len(failing) > 0:
		t.warnf("source failing", "err", errors.Join(failing...))
	case len(invalid) > 0:
		t.warnf("invalid data", "err", errors.Join(invalid...))
	}
}
