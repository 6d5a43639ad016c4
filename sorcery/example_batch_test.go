package sorcery_test

import (
	"context"
	"fmt"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// A batch of writes is applied as one: all of it, or, when one write fails, none of it on a
// wizard that is a BatchWriter (the memory and sqldb wizards are).
func ExampleType_WriteBatch() {
	ctx := context.Background()
	s := sorcery.New(nil)
	defer s.Close()
	aors, _ := sorcery.Register[Aor](s, "aor", nil)
	aors.AddWizard("memory", memory.New(), nil)

	var b sorcery.Batch[Aor]
	b.Create(Aor{ID: "alice", MaxContacts: 1})
	b.Create(Aor{ID: "bob", MaxContacts: 2})
	fmt.Println(aors.WriteBatch(ctx, &b))

	b.Reset()
	b.Update(Aor{ID: "alice", MaxContacts: 5})
	b.Create(Aor{ID: "bob"}) // bob exists: the whole batch fails
	err := aors.WriteBatch(ctx, &b)
	var we *sorcery.WriteError
	if errors.As(err, &we) {
		fmt.Println("write", we.Index, we.ID, errors.Is(err, errors.ErrExists))
	}
	alice, _, _ := aors.Retrieve(ctx, "alice")
	fmt.Println(alice.MaxContacts)
	// Output:
	// <nil>
	// write 1 bob true
	// 1
}
