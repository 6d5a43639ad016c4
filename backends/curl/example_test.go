package curl_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// A provisioning service written in Go serves a memory wizard; a client reads from it and
// tells an absent object from a failing source.
func Example() {
	ctx := context.Background()
	endpoints := memory.New()
	endpoints.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{
		{Name: "context", Value: "default"}, {Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"},
	}})
	srv := httptest.NewServer(curl.NewHandler(endpoints, nil))
	defer srv.Close()

	w, err := curl.New(srv.URL+"/prov/endpoint", nil)
	if err != nil {
		panic(err)
	}
	defer w.Close()

	r, found, err := w.Retrieve(ctx, "alice")
	fmt.Println(r.ID, r.Fields.Value("context"), r.Fields.Values("allow"), found, err)

	_, found, err = w.Retrieve(ctx, "nobody")
	fmt.Println(found, err)

	endpoints.SetError(fmt.Errorf("database down: %w", errors.ErrUnavailable))
	_, found, err = w.Retrieve(ctx, "alice")
	fmt.Println(found, errors.Is(err, errors.ErrUnavailable))
	// Output:
	// alice default [ulaw alaw] true <nil>
	// false <nil>
	// false true
}

// The handler answers requests exactly as Asterisk's res_config_curl sends and reads them,
// under any path prefix: Asterisk's extconfig.conf would map
// "ps_endpoints => curl,http://127.0.0.1:8080/prov/endpoint".
func ExampleNewHandler() {
	endpoints := memory.New()
	endpoints.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{
		{Name: "callerid", Value: `"Alice" <1001>`}, {Name: "mailboxes", Value: ""},
	}})
	mux := http.NewServeMux()
	mux.Handle("/prov/endpoint/", curl.NewHandler(endpoints, nil))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(op, body string) {
		resp, err := http.Post(srv.URL+"/prov/endpoint/"+op, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		reply, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s %q -> %d %q\n", op, body, resp.StatusCode, reply)
	}
	post("single", "id=alice")
	post("single", "id=bob")
	post("multi", "id%20LIKE=%25")
	post("store", "id=bob&callerid=Bob%20%3C1002%3E&allow=ulaw&allow=g722")
	post("store", "id=bob")
	post("update?id=bob", "callerid=%20")
	post("destroy", "id=carol&")
	// Output:
	// single "id=alice" -> 200 "id=alice&callerid=%22Alice%22%20%3C1001%3E&mailboxes=%20\n"
	// single "id=bob" -> 200 ""
	// multi "id%20LIKE=%25" -> 200 "id=alice&callerid=%22Alice%22%20%3C1001%3E&mailboxes=%20\n"
	// store "id=bob&callerid=Bob%20%3C1002%3E&allow=ulaw&allow=g722" -> 200 "1"
	// store "id=bob" -> 200 "0"
	// update?id=bob "callerid=%20" -> 200 "1"
	// destroy "id=carol&" -> 200 "0"
}

// An Endpoint is a PJSIP endpoint as a typed object.
type Endpoint struct {
	ID      string   `sorcery:"id"`
	Context string   `sorcery:"context,default=default"`
	Allow   []string `sorcery:"allow"`
}

// Factory lets sorcery.Apply open curl wizards from mapping lines, as sorcery.conf would.
func ExampleFactory() {
	endpoints := memory.New()
	endpoints.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "allow", Value: "opus"}}})
	srv := httptest.NewServer(curl.NewHandler(endpoints, nil))
	defer srv.Close()

	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{
		"curl": curl.Factory(&curl.Options{Variables: map[string]string{"SERVER": srv.URL}}),
	}})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	if err != nil {
		panic(err)
	}
	if err := s.Apply("endpoint", "curl", "${SERVER}/prov/endpoint"); err != nil {
		panic(err)
	}
	e, found, err := typ.Retrieve(context.Background(), "alice")
	fmt.Println(e.ID, e.Context, e.Allow, found, err)
	// Output: alice default [opus] true <nil>
}
