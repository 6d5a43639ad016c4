package memory_test

import (
	"context"
	"fmt"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// A memory wizard stands in for a provisioning source in tests, and fails on demand.
func Example() {
	ctx := context.Background()
	w := memory.New()
	w.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "office"}}})

	r, found, err := w.Retrieve(ctx, "alice")
	fmt.Println(r.Fields.Value("context"), found, err)

	w.SetError(errors.ErrUnavailable) // the source goes down
	_, found, err = w.Retrieve(ctx, "alice")
	fmt.Println(found, errors.Is(err, errors.ErrUnavailable))

	w.SetError(nil)
	fmt.Println(w.Calls().Retrieve)
	// Output:
	// office true <nil>
	// false true
	// 2
}
