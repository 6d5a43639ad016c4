package sorcery_test

import (
	"context"
	"fmt"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/sorcery"
)

// A Phone has Asterisk-style defaults in its tags.
type Phone struct {
	ID          string   `sorcery:"id"`
	Context     string   `sorcery:"context,default=default"`
	Allow       []string `sorcery:"allow,default=ulaw,alaw"`
	DirectMedia bool     `sorcery:"direct_media,default=yes"`
}

// New starts an object from the type's defaults, so that a write does not turn a field left
// out into Go's zero value.
func ExampleType_New() {
	ctx := context.Background()
	s := sorcery.New(nil)
	defer s.Close()
	phones, err := sorcery.Register[Phone](s, "endpoint", nil)
	if err != nil {
		panic(err)
	}
	store := memory.New()
	if err := phones.AddWizard("memory", store, nil); err != nil {
		panic(err)
	}

	p := phones.New("alice")
	p.Context = "internal"
	if err := phones.Create(ctx, p); err != nil {
		panic(err)
	}
	r, _, _ := store.Retrieve(ctx, "alice")
	fmt.Println(r.Fields)

	fmt.Printf("%+v\n", Phone{ID: "bob"}) // a literal: not Asterisk's defaults
	// Output:
	// [{context internal} {allow ulaw} {allow alaw} {direct_media yes}]
	// {ID:bob Context: Allow:[] DirectMedia:false}
}
