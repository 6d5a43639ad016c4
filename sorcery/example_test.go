package sorcery_test

import (
	"context"
	"fmt"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// An Aor is a PJSIP address of record, as a typed object.
type Aor struct {
	ID          string `sorcery:"id"`
	MaxContacts int    `sorcery:"max_contacts,default=1"`
	QualifyFreq int    `sorcery:"qualify_frequency"`
}

// A chain of two wizards: when the first fails, the second answers, and the failure is not
// mistaken for absence.
func Example() {
	ctx := context.Background()
	s := sorcery.New(nil)
	defer s.Close()

	aors, err := sorcery.Register[Aor](s, "aor", nil)
	if err != nil {
		panic(err)
	}
	primary, backup := memory.New(), memory.New()
	backup.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "max_contacts", Value: "3"}}})
	aors.AddWizard("primary", primary, nil)
	aors.AddWizard("backup", backup, nil)

	primary.SetError(errors.ErrUnavailable) // the primary source is down
	aor, found, err := aors.Retrieve(ctx, "alice")
	fmt.Println(aor.ID, aor.MaxContacts, found, err)

	_, found, err = aors.Retrieve(ctx, "bob")
	fmt.Println(found, errors.Is(err, errors.ErrUnavailable))
	// Output:
	// alice 3 true <nil>
	// false true
}

func ExampleType_Search() {
	ctx := context.Background()
	s := sorcery.New(nil)
	defer s.Close()
	aors, _ := sorcery.Register[Aor](s, "aor", nil)
	aors.AddWizard("memory", memory.New(), nil)
	for i, id := range []string{"carol", "alice", "bob"} {
		aors.Create(ctx, Aor{ID: id, MaxContacts: i + 1})
	}
	found, _ := aors.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{
		{Field: "max_contacts", Op: sorcery.OpGreaterEqual, Value: "2"},
	}})
	for _, a := range found {
		fmt.Println(a.ID, a.MaxContacts)
	}
	// Output:
	// alice 2
	// bob 3
}

func ExampleType_Observe() {
	ctx := context.Background()
	s := sorcery.New(nil)
	defer s.Close()
	aors, _ := sorcery.Register[Aor](s, "aor", nil)
	aors.AddWizard("memory", memory.New(), nil)
	aors.Observe(sorcery.Observer[Aor]{
		Created: func(a Aor) { fmt.Println("created", a.ID) },
		Deleted: func(a Aor) { fmt.Println("deleted", a.ID) },
	})
	aors.Create(ctx, Aor{ID: "alice"})
	aors.Delete(ctx, "alice")
	aors.Flush()
	// Output:
	// created alice
	// deleted alice
}

func ExampleSorcery_Apply() {
	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{
		"memory": memory.Factory(),
	}})
	defer s.Close()
	aors, _ := sorcery.Register[Aor](s, "aor", nil)
	if err := s.Apply("aor", "memory", ""); err != nil {
		panic(err)
	}
	fmt.Println(aors.Create(context.Background(), Aor{ID: "alice"}))
	fmt.Println(s.Apply("aor", "ldap", ""))
	// Output:
	// <nil>
	// sorcery: aor: unknown wizard "ldap" (known: memory, memory_cache): invalid
}

func ExampleParseCondition() {
	c, _ := sorcery.ParseCondition("qualify_frequency >", "30")
	fmt.Println(c.Field, c.Op, c.Value)
	// Output: qualify_frequency > 30
}
