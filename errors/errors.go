package errors

import (
	stderrors "errors"
	"fmt"
	"strings"
)

var (
	// ErrUnavailable means the source could not be reached or did not answer in time: a
	// network error, a timeout, an HTTP 5xx or 429, a database that is down. It is transient:
	// caches keep serving what they hold.
	ErrUnavailable error = &sentinel{"source unavailable"}

	// ErrInvalid means a record or a configuration could not be decoded or validated.
	ErrInvalid error = &sentinel{"invalid"}

	// ErrNotFound means a write (update, delete) named an object that does not exist.
	// Retrievals never return it: absence is found == false.
	ErrNotFound error = &sentinel{"object not found"}

	// ErrExists means a create named an object that already exists.
	ErrExists error = &sentinel{"object already exists"}

	// ErrReadOnly means a write was sent to a read-only wizard or mapping.
	ErrReadOnly error = &sentinel{"read-only"}

	// ErrUnsupported means the wizard lacks the capability asked for. It matches the standard
	// library's errors.ErrUnsupported.
	ErrUnsupported error = unsupported{}

	// ErrClosed means the value was used after Close.
	ErrClosed error = &sentinel{"closed"}
)

// prefix starts the message of every error of the library, once: sentinels and the
// outermost wrapper write it, the errors they wrap do not (see [Detail]).
const prefix = "sorcery: "

// sentinel is an error of the vocabulary: "sorcery: <text>".
type sentinel struct{ text string }

func (e *sentinel) Error() string  { return prefix + e.text }
func (e *sentinel) Detail() string { return e.text }

// unsupported is ErrUnsupported: a sentinel of the library that still matches the standard
// library's.
type unsupported struct{}

func (unsupported) Error() string  { return prefix + "unsupported operation" }
func (unsupported) Detail() string { return "unsupported operation" }

func (unsupported) Is(target error) bool { return target == stderrors.ErrUnsupported }

// New returns an error whose message is text. It is the standard library's errors.New.
func New(text string) error { return stderrors.New(text) }

// Is reports whether any error in err's tree matches target. It is the standard library's
// errors.Is.
func Is(err, target error) bool { return stderrors.Is(err, target) }

// As finds the first error in err's tree that matches target and, if one is found, sets target
// to that error value and returns true. It is the standard library's errors.As.
func As(err error, target any) bool { return stderrors.As(err, target) }

// Join returns an error that wraps the given errors, discarding nils. It is the standard
// library's errors.Join.
func Join(errs ...error) error { return stderrors.Join(errs...) }

// Unwrap returns the result of calling the Unwrap method on err, if any. It is the standard
// library's errors.Unwrap.
func Unwrap(err error) error { return stderrors.Unwrap(err) }

// WizardError says which wizard of which object type failed, at which operation and, where
// there is one, for which object id. Err is the cause and is matched with [Is]:
//
//	var we *errors.WizardError
//	if errors.As(err, &we) {
//		log.Printf("wizard %s failed: %v", we.Wizard, we.Err)
//	}
type WizardError struct {
	Type   string // the object type, such as "endpoint"
	Wizard string // the wizard's name in the chain, such as "curl"
	Op     string // the operation: "retrieve", "search", "create", "update", "delete", "reload"
	ID     string // the object id, when the operation had one
	Err    error  // the cause
}

// Error returns "sorcery: <type> wizard <wizard>: <op> <id>: <cause>", leaving out what is
// empty; the cause is written by [Detail], so the library is named once.
func (e *WizardError) Error() string { return prefix + e.Detail() }

// Detail is Error without the library's name.
func (e *WizardError) Detail() string {
	var b strings.Builder
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteByte(' ')
	}
	b.WriteString("wizard ")
	b.WriteString(e.Wizard)
	if e.Op != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
		if e.ID != "" {
			b.WriteString(" ")
			b.WriteString(quoteID(e.ID))
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(Detail(e.Err))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *WizardError) Unwrap() error { return e.Err }

func quoteID(id string) string {
	return "\"" + strings.ReplaceAll(id, "\"", "\\\"") + "\""
}

// Detailer is an error of the library. Its message is "sorcery: " followed by Detail, the
// message without the library's name, which an error wrapping it writes instead of Error:
// the library is named once, by the outermost error, as os.PathError names the operation
// once and net/http's sentinels name their package.
type Detailer interface {
	error
	Detail() string
}

// Detail returns err's message without the library's name: Detail for a [Detailer] (the
// sentinels, [WizardError], the errors of [Errorf]), and Error for any other error.
func Detail(err error) string {
	if d, ok := err.(Detailer); ok {
		return d.Detail()
	}
	return err.Error()
}

// Errorf formats like fmt.Errorf, %w included, and returns an error of the library: its
// message is "sorcery: " followed by the formatted text, in which every [Detailer] among the
// arguments is written by its Detail. Write the context only: Errorf("column %q: %w", name,
// ErrInvalid) reads "sorcery: column "x": invalid".
func Errorf(format string, args ...any) error {
	wrapped := fmt.Errorf(format, args...)
	var shown []any
	for i, a := range args {
		if d, ok := a.(Detailer); ok {
			if shown == nil {
				shown = append([]any(nil), args...)
			}
			shown[i] = detailOf{d}
		}
	}
	msg := wrapped.Error()
	if shown != nil {
		msg = fmt.Errorf(format, shown...).Error()
	}
	switch u := wrapped.(type) {
	case interface{ Unwrap() []error }:
		return &wrapErrors{msg: msg, errs: u.Unwrap()}
	case interface{ Unwrap() error }:
		return &wrapError{msg: msg, err: u.Unwrap()}
	}
	return &wrapError{msg: msg}
}

// detailOf writes a Detailer argument of Errorf by its Detail.
type detailOf struct{ d Detailer }

func (a detailOf) Error() string { return a.d.Detail() }

// wrapError is an error of Errorf wrapping at most one error.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string  { return prefix + e.msg }
func (e *wrapError) Detail() string { return e.msg }
func (e *wrapError) Unwrap() error  { return e.err }

// wrapErrors is an error of Errorf wrapping several.
type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return prefix + e.msg }
func (e *wrapErrors) Detail() string  { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }
