package curl

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/sorcery"
)

// FuzzParseReply feeds arbitrary bodies to every reply decoder: none may panic, and what
// they accept must be records the rest of the library can use.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		"",
		"id=alice&context=default&allow=ulaw&allow=alaw\n",
		"id=a%26b&x%3Dy=1%25%2B2%3B3%204&n=%C3%BC",
		"id=bob&callerid=%20&mailboxes=\r\nid=carol\r\n\r\n",
		"id=a&id=b",
		"context=x",
		"<html><body>It works!</body></html>",
		"\x00\x01\xff",
		"%", "%%", "%4", "%zz", "&&&", "===", "id", "id=", "id=%20",
		"1", "-1", " 42 rows\n", "99999999999999999999",
		"category=general&cat_metric=0&var_metric=0&var_name=bindport&var_val=5060\n",
		"category=a&cat_metric=x&var_name=n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, found, err := parseSingle(body); err == nil && found {
			assertRecord(t, r)
		} else if err == nil && (found || r.ID != "" || len(r.Fields) != 0) {
			t.Fatalf("parseSingle(%q) = %+v, %v without a record", body, r, found)
		}
		if rs, err := parseMulti(body); err == nil {
			for _, r := range rs {
				assertRecord(t, r)
			}
			if len(rs) > strings.Count(string(body), "\n")+strings.Count(string(body), "\r")+1 {
				t.Fatalf("parseMulti(%q) returned %d rows", body, len(rs))
			}
		}
		if cats, err := parseStatic(body); err == nil {
			for _, c := range cats {
				if len(c.Fields) == 0 {
					t.Fatalf("parseStatic(%q) returned an empty category %q", body, c.ID)
				}
			}
		}
		if n, ok := parseCount(body); ok && (n > 1<<31-1 || n < -1<<31) {
			t.Fatalf("parseCount(%q) = %d, out of int32", body, n)
		}
	})
}

func assertRecord(t *testing.T, r sorcery.Record) {
	t.Helper()
	if r.ID == "" || r.ID == " " {
		t.Fatalf("record without an id: %+v", r)
	}
	for _, f := range r.Fields {
		if f.Name == "" || strings.EqualFold(f.Name, "id") {
			t.Fatalf("record %q has a field named %q", r.ID, f.Name)
		}
		if strings.ContainsAny(f.Name, "\x00\r\n") {
			t.Fatalf("record %q has field name %q with a control character", r.ID, f.Name)
		}
	}
}

// FuzzRecordRoundTrip checks that any record the protocol can carry comes back as it was
// sent, through the reply encoder and decoder and through the request encoder and the
// handler's form decoder.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("alice", "allow", "ulaw", "context", "")
	f.Add("a&b=c%d+e;f g", "x=y", "1%+2;3 4", "n", "ü")
	f.Add("müller", "set_var", "X=1&Y=2", "callerid", `"Bob" <100>`)
	f.Fuzz(func(t *testing.T, id, name1, value1, name2, value2 string) {
		r := sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: name1, Value: value1}, {Name: name2, Value: value2}}}
		if !carriable(r) {
			return
		}
		got, err := parseRow(string(appendRecordKeyed(nil, "id", r)))
		if err != nil {
			t.Fatalf("parseRow(appendRecordKeyed(%+v)): %v", r, err)
		}
		if !got.Equal(r) {
			t.Fatalf("reply round trip: sent %+v, got %+v", r, got)
		}

		body := appendPair(nil, "id", r.ID)
		body = appendFields(body, r.Fields)
		form, err := parseForm(string(body))
		if err != nil {
			t.Fatalf("parseForm(%q): %v", body, err)
		}
		got, _, err = (&handler{key: "id"}).record(form)
		if err != nil {
			t.Fatalf("record(%+v): %v", form, err)
		}
		if !got.Equal(r) {
			t.Fatalf("request round trip: sent %+v, got %+v", r, got)
		}
	})
}

// carriable reports whether the protocol can carry r: an id that is not empty or a single
// space, field names that are neither empty, nor "id", nor hold control characters, and no
// value that is a single space (which means "explicitly empty" on the wire).
func carriable(r sorcery.Record) bool {
	if r.ID == "" || r.ID == " " || !utf8.ValidString(r.ID) {
		return false
	}
	for _, f := range r.Fields {
		if f.Name == "" || strings.EqualFold(f.Name, "id") || f.Value == " " {
			return false
		}
		for i := 0; i < len(f.Name); i++ {
			if f.Name[i] < 0x20 || f.Name[i] == 0x7f {
				return false
			}
		}
	}
	return true
}

// FuzzHandlerRequest sends arbitrary forms to every operation of a handler: it must not panic,
// must answer every write with a number and every successful read with rows the client
// decodes.
func FuzzHandlerRequest(f *testing.F) {
	for _, s := range []string{"id=alice", "id%20LIKE=%25", "context=lab&id%20!%3D=bob", "id=x&allow=a&allow=b&c=%20&d=",
		"name%20REGEXP=(", "id%20FOO=x", "%zz", "&&", "=x", "id=a&id=b", "id=%00"} {
		for _, op := range []string{"single", "multi", "store", "update?id=alice", "update?context=lab", "destroy"} {
			f.Add(op, s)
		}
	}
	f.Fuzz(func(t *testing.T, op, body string) {
		seed := []sorcery.Record{
			{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "default"}, {Name: "allow", Value: "ulaw"}}},
			{ID: "bob", Fields: sorcery.Fields{{Name: "context", Value: "lab"}, {Name: "callerid", Value: ""}}},
		}
		mem := memory.New()
		mem.Put(seed...)
		h := NewHandler(mem, &HandlerOptions{StaticFiles: []string{"a.conf"}})
		path, query, _ := strings.Cut(op, "?")
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
		req.URL.Path, req.URL.RawQuery = "/p/"+path, query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		switch path {
		case "store", "update", "destroy":
			if _, ok := parseCount(out); !ok {
				t.Fatalf("POST %s %q answered %d %q, not a number", op, body, rec.Code, out)
			}
		case "single", "multi":
			if rec.Code == http.StatusOK {
				if _, err := parseMulti(out); err != nil {
					t.Fatalf("POST %s %q answered rows the client refuses: %q: %v", op, body, out, err)
				}
			}
		}
	})
}
