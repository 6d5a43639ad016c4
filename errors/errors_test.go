package errors_test

import (
	"context"
	stderrors "errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gosorcery/gosorcery/errors"
)

func TestSentinelsCarryPrefix(t *testing.T) {
	for _, err := range []error{
		errors.ErrUnavailable, errors.ErrInvalid, errors.ErrNotFound, errors.ErrExists,
		errors.ErrReadOnly, errors.ErrUnsupported, errors.ErrClosed,
	} {
		if !strings.HasPrefix(err.Error(), "sorcery: ") {
			t.Errorf("%q lacks the sorcery: prefix", err)
		}
	}
}

func TestUnsupportedMatchesStandardLibrary(t *testing.T) {
	err := fmt.Errorf("search: %w", errors.ErrUnsupported)
	if !errors.Is(err, stderrors.ErrUnsupported) {
		t.Fatal("ErrUnsupported does not match errors.ErrUnsupported")
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatal("ErrUnsupported does not match itself")
	}
}

func TestWizardErrorNamesWizardAndMatchesCause(t *testing.T) {
	cause := fmt.Errorf("dial tcp 127.0.0.1:1: %w", errors.ErrUnavailable)
	err := fmt.Errorf("retrieve: %w", &errors.WizardError{
		Type: "endpoint", Wizard: "curl", Op: "retrieve", ID: "alice", Err: cause,
	})
	if !errors.Is(err, errors.ErrUnavailable) {
		t.Fatal("WizardError does not unwrap to its cause")
	}
	var we *errors.WizardError
	if !errors.As(err, &we) || we.Wizard != "curl" {
		t.Fatalf("As: got %v", we)
	}
	want := `sorcery: endpoint wizard curl: retrieve "alice": dial tcp 127.0.0.1:1: sorcery: source unavailable`
	if we.Error() != want {
		t.Fatalf("Error() = %q, want %q", we.Error(), want)
	}
	bare := &errors.WizardError{Wizard: "memory", Err: errors.ErrClosed}
	if got := bare.Error(); got != "sorcery: wizard memory: closed" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestReexportsBehaveLikeStandardLibrary(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	j := errors.Join(a, nil, b)
	if !errors.Is(j, a) || !errors.Is(j, b) {
		t.Fatal("Join lost an error")
	}
	if errors.Join(nil, nil) != nil {
		t.Fatal("Join of nils is not nil")
	}
	w := fmt.Errorf("x: %w", context.Canceled)
	if errors.Unwrap(w) != context.Canceled {
		t.Fatal("Unwrap")
	}
}
