package sorceryhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryhttp"
)

// The handler mounted under /debug/sorcery/ of the caller's own mux, where the caller would
// wrap it with its authentication, and a client listing a cache's entries: ids and states,
// never the objects' fields.
func Example() {
	s := sorcery.New(nil)
	defer s.Close()
	auths, _ := sorcery.Register[Auth](s, "auth", nil)
	src := memory.New()
	auths.AddCache(nil)
	auths.AddWizard("curl", src, nil)
	src.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "password", Value: "Wh1te-Rabbit"}}})
	auths.Retrieve(context.Background(), "alice")

	mux := http.NewServeMux()
	mux.Handle("/debug/sorcery/", http.StripPrefix("/debug/sorcery", sorceryhttp.New(s, &sorceryhttp.Options{ReadOnly: true})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/debug/sorcery/api/types/auth/caches/cache/entries")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	var page struct {
		Entries []struct{ ID, State string }
	}
	json.NewDecoder(res.Body).Decode(&page)
	fmt.Println(res.Status, page.Entries)
	// Output: 200 OK [{alice fresh}]
}
