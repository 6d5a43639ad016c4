package errors

import (
	stderrors "errors"
	"strings"
)

var (
	// ErrUnavailable means the source could not be reached or did not answer in time: a
	// network error, a timeout, an HTTP 5xx or 429, a database that is down. It is transient:
	// caches keep serving what they hold.
	ErrUnavailable = New("sorcery: source unavailable")

	// ErrInvalid means a record or a configuration could not be decoded or validated.
	ErrInvalid = New("sorcery: invalid")

	// ErrNotFound means a write (update, delete) named an object that does not exist.
	// Retrievals never return it: absence is found == false.
	ErrNotFound = New("sorcery: object not found")

	// ErrExists means a create named an object that already exists.
	ErrExists = New("sorcery: object already exists")

	// ErrReadOnly means a write was sent to a read-only wizard or mapping.
	ErrReadOnly = New("sorcery: read-only")

	// ErrUnsupported means the wizard lacks the capability asked for. It matches the standard
	// library's errors.ErrUnsupported.
	ErrUnsupported error = unsupported{}

	// ErrClosed means the value was used after Close.
	ErrClosed = New("sorcery: closed")
)

// unsupported is ErrUnsupported: it carries the sorcery prefix and still matches the
// standard library's sentinel.
type unsupported struct{}

func (unsupported) Error() string { return "sorcery: unsupported operation" }

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
// empty and the cause's own "sorcery: " prefix.
func (e *WizardError) Error() string {
	var b strings.Builder
	b.WriteString("sorcery: ")
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
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "sorcery: "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *WizardError) Unwrap() error { return e.Err }

func quoteID(id string) string {
	return "\"" + strings.ReplaceAll(id, "\"", "\\\"") + "\""
}
