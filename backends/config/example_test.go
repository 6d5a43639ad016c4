package config_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Open the endpoints of a pjsip.conf, as the sorcery.conf line
// "endpoint = config,pjsip.conf,criteria=type=endpoint" does.
func Example() {
	w, err := config.New("testdata/pjsip.conf", &config.Options{
		Type:     "endpoint",
		Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	alice, found, err := w.Retrieve(context.Background(), "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found, alice.Fields.Value("context"), alice.Fields.Values("allow"))
	// Output: true from-internal [g722 ulaw alaw]
}

// The factory takes the data of a sorcery.conf mapping line.
func ExampleFactory() {
	factory := config.Factory(&config.Options{Dir: "testdata"})
	w, err := factory("aor", "pjsip.conf,criteria=type=aor")
	if err != nil {
		log.Fatal(err)
	}
	aors, err := w.(sorcery.Searcher).Search(context.Background(), sorcery.Query{IDPrefix: "a"})
	if err != nil {
		log.Fatal(err)
	}
	for _, aor := range aors {
		fmt.Println(aor.ID, aor.Fields.Values("max_contacts"))
	}
	// Output: alice [1 3]
}

// ParseFile gives the categories and variables of any Asterisk configuration file, with
// the file and line of each.
func ExampleParseFile() {
	f, err := config.ParseFile("testdata/sorcery.conf", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range f.Category("res_pjsip").Vars[:2] {
		fmt.Printf("%s:%d: %s = %s\n", v.File, v.Line, v.Name, v.Value)
	}
	// Output:
	// testdata/sorcery.conf:8: endpoint/cache = memory_cache,object_lifetime_stale=60,object_lifetime_maximum=300,expire_on_reload=yes
	// testdata/sorcery.conf:9: endpoint = config,pjsip.conf,criteria=type=endpoint
}

// Errors name the file and line.
func ExampleParseError() {
	_, err := config.Parse("pjsip.conf", []byte("[alice](base)\ntype=endpoint\n\n[base](!)\n"), nil)
	var pe *config.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.File, pe.Line)
	}
	fmt.Println(err)
	// Output:
	// pjsip.conf 1
	// sorcery: pjsip.conf:1: [alice] inherits from "base", which is not defined above this line
}

// Reload re-reads the file only when it changed; Stats shows it.
func ExampleWizard_Reload() {
	w, err := config.New("testdata/pjsip.conf", &config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "transport"}}})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	if err := w.Reload(context.Background()); err != nil {
		log.Fatal(err)
	}
	st := w.Stats()
	fmt.Println(st.Objects, "objects,", st.Parses, "parse,", st.Unchanged, "reload skipped")
	// Output: 3 objects, 1 parse, 1 reload skipped
}
