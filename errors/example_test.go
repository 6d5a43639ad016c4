package errors_test

import (
	"fmt"

	"github.com/gosorcery/gosorcery/errors"
)

// A failure and an absence are told apart with errors.Is, and errors.As says which wizard
// failed.
func Example() {
	err := fmt.Errorf("retrieve: %w", &errors.WizardError{
		Type: "auth", Wizard: "curl", Op: "retrieve", ID: "alice",
		Err: fmt.Errorf("dial tcp 127.0.0.1:8088: connection refused: %w", errors.ErrUnavailable),
	})
	fmt.Println(errors.Is(err, errors.ErrUnavailable))
	var we *errors.WizardError
	if errors.As(err, &we) {
		fmt.Println(we.Wizard, we.Op, we.ID)
	}
	fmt.Println(err)
	// Output:
	// true
	// curl retrieve alice
	// retrieve: sorcery: auth wizard curl: retrieve "alice": dial tcp 127.0.0.1:8088: connection refused: sorcery: source unavailable
}
