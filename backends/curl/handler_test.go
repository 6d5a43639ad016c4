package curl_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// handlerSeed is what the handler tests serve.
func handlerSeed() []sorcery.Record {
	return []sorcery.Record{
		{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "default"}, {Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}}},
		{ID: "bob", Fields: sorcery.Fields{{Name: "context", Value: "lab"}, {Name: "callerid", Value: ""}}},
		{ID: "carol", Fields: sorcery.Fields{{Name: "context", Value: "lab"}, {Name: "name", Value: `Carol & "Co" = 100% + ü;x`}}},
	}
}

// asterisk sends requests the way Asterisk's res_config_curl does and returns what came back.
type asterisk struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newHandlerServer(t *testing.T, w sorcery.Wizard, opts *curl.HandlerOptions) asterisk {
	t.Helper()
	srv := httptest.NewServer(curl.NewHandler(w, opts))
	t.Cleanup(srv.Close)
	return asterisk{t: t, base: srv.URL + "/prov/endpoint", c: srv.Client()}
}

type answer struct {
	Status int
	Body   string
}

func (a asterisk) do(method, path, body string) answer {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, strings.NewReader(body))
	require.NoError(a.t, err)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := a.c.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return answer{resp.StatusCode, string(b)}
}

func (a asterisk) post(path, body string) answer { return a.do(http.MethodPost, path, body) }

func TestHandlerAnswersReadsAsAsteriskExpects(t *testing.T) {
	ast := newHandlerServer(t, memoryWith(handlerSeed()), nil)
	tests := []struct {
		name, path, body string
		want             answer
	}{
		{"single by id", "/single", "id=alice", answer{200, "id=alice&context=default&allow=ulaw&allow=alaw\n"}},
		{"single escapes every reserved byte", "/single", "id=carol", answer{200, "id=carol&context=lab&name=Carol%20%26%20%22Co%22%20%3D%20100%25%20%2B%20%C3%BC%3Bx\n"}},
		{"single sends explicitly empty as a space", "/single", "id=bob", answer{200, "id=bob&context=lab&callerid=%20\n"}},
		{"single of a missing id is 200 and empty", "/single", "id=nobody", answer{200, ""}},
		{"single ids are exact", "/single", "id=ALICE", answer{200, ""}},
		{"single by another field answers the first by id", "/single", "context=lab", answer{200, "id=bob&context=lab&callerid=%20\n"}},
		{"single with an operator", "/single", "context%20LIKE=def%25", answer{200, "id=alice&context=default&allow=ulaw&allow=alaw\n"}},
		{"multi of every object", "/multi", "id%20LIKE=%25", answer{200, "id=alice&context=default&allow=ulaw&allow=alaw\n" +
			"id=bob&context=lab&callerid=%20\n" +
			"id=carol&context=lab&name=Carol%20%26%20%22Co%22%20%3D%20100%25%20%2B%20%C3%BC%3Bx\n"}},
		{"multi by prefix", "/multi", "id%20LIKE=b%25", answer{200, "id=bob&context=lab&callerid=%20\n"}},
		{"multi by field and operator", "/multi", "context=lab&id%20%21%3D=bob", answer{200, "id=carol&context=lab&name=Carol%20%26%20%22Co%22%20%3D%20100%25%20%2B%20%C3%BC%3Bx\n"}},
		{"multi by explicitly empty value", "/multi", "callerid=%20", answer{200, "id=bob&context=lab&callerid=%20\n"}},
		{"multi of nothing is 200 and empty", "/multi", "context=nowhere", answer{200, ""}},
		{"multi reads + as a space like PHP", "/multi", "context=de+fault", answer{200, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ast.post(tt.path, tt.body), "POST %s %q", tt.path, tt.body)
		})
	}
}

func TestHandlerAnswersWritesWithACount(t *testing.T) {
	mem := memoryWith(handlerSeed())
	ast := newHandlerServer(t, mem, nil)
	get := func(id string) (sorcery.Record, bool) {
		r, found, err := mem.Retrieve(context.Background(), id)
		require.NoError(t, err)
		return r, found
	}
	steps := []struct {
		name, path, body string
		want             answer
		check            func(t *testing.T)
	}{
		{"store", "/store", "id=dave&name=D%26ve+Jones&allow=g729&allow=ilbc&callerid=%20&mailboxes=", answer{200, "1"}, func(t *testing.T) {
			r, found := get("dave")
			require.True(t, found)
			assert.Equal(t, sorcery.Fields{{Name: "name", Value: "D&ve Jones"}, {Name: "allow", Value: "g729"}, {Name: "allow", Value: "ilbc"}, {Name: "callerid", Value: ""}}, r.Fields,
				"an empty value is unset, a space explicitly empty, + a space")
		}},
		{"store of an existing id", "/store", "id=dave&name=x", answer{200, "0"}, nil},
		{"update by id changes the columns sent and keeps the others, as update_curl expects", "/update?id=dave", "name=David&context=lab", answer{200, "1"}, func(t *testing.T) {
			r, _ := get("dave")
			assert.Equal(t, sorcery.Fields{{Name: "allow", Value: "g729"}, {Name: "allow", Value: "ilbc"}, {Name: "callerid", Value: ""}, {Name: "name", Value: "David"}, {Name: "context", Value: "lab"}}, r.Fields)
		}},
		{"update of one column keeps every other (realtime update <family> id dave context new)", "/update?id=dave", "context=new", answer{200, "1"}, func(t *testing.T) {
			r, _ := get("dave")
			assert.Equal(t, sorcery.Fields{{Name: "allow", Value: "g729"}, {Name: "allow", Value: "ilbc"}, {Name: "callerid", Value: ""}, {Name: "name", Value: "David"}, {Name: "context", Value: "new"}}, r.Fields)
		}},
		{"update with an empty value removes that column", "/update?id=dave", "name=&context=lab", answer{200, "1"}, func(t *testing.T) {
			r, _ := get("dave")
			assert.Equal(t, sorcery.Fields{{Name: "allow", Value: "g729"}, {Name: "allow", Value: "ilbc"}, {Name: "callerid", Value: ""}, {Name: "context", Value: "lab"}}, r.Fields)
		}},
		{"update of a missing id", "/update?id=ghost", "name=x", answer{200, "0"}, func(t *testing.T) {
			_, found := get("ghost")
			assert.False(t, found)
		}},
		{"update by another key merges", "/update?context=lab", "max_contacts=5", answer{200, "3"}, func(t *testing.T) {
			r, _ := get("bob")
			assert.Equal(t, sorcery.Fields{{Name: "context", Value: "lab"}, {Name: "callerid", Value: ""}, {Name: "max_contacts", Value: "5"}}, r.Fields)
			r, _ = get("alice")
			assert.False(t, r.Fields.Has("max_contacts"))
		}},
		{"destroy", "/destroy", "id=dave&", answer{200, "1"}, func(t *testing.T) {
			_, found := get("dave")
			assert.False(t, found)
		}},
		{"destroy of a missing id", "/destroy", "id=dave&", answer{200, "0"}, nil},
		{"destroy by condition", "/destroy", "context=lab", answer{200, "2"}, func(t *testing.T) {
			assert.Equal(t, 1, mem.Len())
		}},
	}
	for _, st := range steps {
		got := ast.post(st.path, st.body)
		require.Equal(t, st.want, got, "%s: POST %s %q", st.name, st.path, st.body)
		if st.check != nil {
			t.Run(st.name, st.check)
		}
	}
}

func TestHandlerServesStaticFiles(t *testing.T) {
	ast := newHandlerServer(t, memoryWith(handlerSeed()[:2]), &curl.HandlerOptions{StaticFiles: []string{"pjsip.conf"}})
	got := ast.do(http.MethodGet, "/static?file=pjsip.conf", "")
	assert.Equal(t, answer{200, "category=alice&cat_metric=0&var_metric=0&var_name=context&var_val=default&commented=0\n" +
		"category=alice&cat_metric=0&var_metric=1&var_name=allow&var_val=ulaw&commented=0\n" +
		"category=alice&cat_metric=0&var_metric=2&var_name=allow&var_val=alaw&commented=0\n" +
		"category=bob&cat_metric=1&var_metric=0&var_name=context&var_val=lab&commented=0\n" +
		"category=bob&cat_metric=1&var_metric=1&var_name=callerid&var_val=&commented=0\n"}, got)
	assert.Equal(t, answer{404, ""}, ast.do(http.MethodGet, "/static?file=extensions.conf", ""))
	assert.Equal(t, 405, ast.post("/static?file=pjsip.conf", "").Status)
}

func TestHandlerFailsOverWhenTheWizardFails(t *testing.T) {
	mem := memoryWith(handlerSeed())
	mem.SetError(fmt.Errorf("database down: %w", errors.ErrUnavailable))
	ast := newHandlerServer(t, mem, nil)
	for _, path := range []string{"/single", "/multi"} {
		assert.Equal(t, answer{503, ""}, ast.post(path, "id=alice"), path)
	}
	assert.Equal(t, answer{503, "-1\n"}, ast.post("/store", "id=x&a=1"))
	assert.Equal(t, answer{503, "-1\n"}, ast.post("/update?id=alice", "a=1"))
	assert.Equal(t, answer{503, "-1\n"}, ast.post("/destroy", "id=alice&"))

	ast = newHandlerServer(t, mem, &curl.HandlerOptions{FailureStatus: http.StatusBadGateway})
	assert.Equal(t, answer{502, ""}, ast.post("/single", "id=alice"))

	// The client of such a handler reports the outage, not an absence.
	c, err := curl.New(ast.base, nil)
	require.NoError(t, err)
	defer c.Close()
	_, found, err := c.Retrieve(t.Context(), "alice")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
}

func TestHandlerBoundsTheWizardCall(t *testing.T) {
	mem := memoryWith(handlerSeed())
	mem.SetDelay(time.Minute)
	ast := newHandlerServer(t, mem, &curl.HandlerOptions{Timeout: 50 * time.Millisecond})
	start := time.Now()
	assert.Equal(t, answer{503, ""}, ast.post("/single", "id=alice"))
	assert.Less(t, time.Since(start), 5*time.Second)
}

// readOnly is a wizard with Retrieve alone.
type readOnly struct{ w sorcery.Wizard }

func (r readOnly) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	return r.w.Retrieve(ctx, id)
}

func TestHandlerAnswersMissingCapabilitiesWith501(t *testing.T) {
	ast := newHandlerServer(t, readOnly{memoryWith(handlerSeed())}, &curl.HandlerOptions{StaticFiles: []string{"x.conf"}})
	assert.Equal(t, answer{200, "id=alice&context=default&allow=ulaw&allow=alaw\n"}, ast.post("/single", "id=alice"), "id lookups need only Retrieve")
	assert.Equal(t, answer{200, "id=alice&context=default&allow=ulaw&allow=alaw\n"}, ast.post("/multi", "id=alice"), "id lookups need only Retrieve")
	assert.Equal(t, answer{501, ""}, ast.post("/multi", "id%20LIKE=%25"))
	assert.Equal(t, answer{501, ""}, ast.do(http.MethodGet, "/static?file=x.conf", ""))
	assert.Equal(t, answer{501, "-1\n"}, ast.post("/store", "id=x"))
	assert.Equal(t, answer{501, "-1\n"}, ast.post("/update?id=alice", "a=1"))
	assert.Equal(t, answer{501, "-1\n"}, ast.post("/destroy", "id=alice&"))
}

func TestHandlerRefusesBadRequests(t *testing.T) {
	mem := memoryWith(handlerSeed())
	ast := newHandlerServer(t, mem, &curl.HandlerOptions{MaxRequestBytes: 64})
	tests := []struct {
		name, method, path, body string
		want                     answer
	}{
		{"bad escape in a read", "POST", "/single", "id=%zz", answer{400, ""}},
		{"bad escape in a write", "POST", "/store", "id=%zz", answer{400, "-1\n"}},
		{"bad escape in the update key", "POST", "/update?id=%zz", "a=1", answer{400, "-1\n"}},
		{"unknown operator", "POST", "/multi", "id%20FOO=x", answer{400, ""}},
		{"bad regex", "POST", "/multi", "name%20REGEXP=(", answer{400, ""}},
		{"single without conditions", "POST", "/single", "", answer{400, ""}},
		{"store without an id", "POST", "/store", "name=x", answer{400, "-1\n"}},
		{"store with two ids", "POST", "/store", "id=a&id=b", answer{400, "-1\n"}},
		{"update without a key", "POST", "/update", "a=1", answer{400, "-1\n"}},
		{"update changing the id", "POST", "/update?id=alice", "id=bob", answer{400, "-1\n"}},
		{"destroy without conditions", "POST", "/destroy", "&", answer{400, "-1\n"}},
		{"read too large", "POST", "/multi", "context=" + strings.Repeat("x", 100), answer{413, ""}},
		{"write too large", "POST", "/store", "id=x&a=" + strings.Repeat("x", 100), answer{413, "-1\n"}},
		{"GET of an operation", "GET", "/single?id=alice", "", answer{405, ""}},
		{"GET of a write", "GET", "/store", "", answer{405, "-1\n"}},
		{"unknown operation", "POST", "/frobnicate", "id=char%3A10", answer{404, "404 page not found\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ast.do(tt.method, tt.path, tt.body), "%s %s %q", tt.method, tt.path, tt.body)
		})
	}
	assert.Equal(t, 3, mem.Len(), "nothing was written")
}

func TestHandlerSurvivesGarbage(t *testing.T) {
	h := curl.NewHandler(memoryWith(handlerSeed()), &curl.HandlerOptions{StaticFiles: []string{"a"}})
	for _, path := range []string{"/single", "/multi", "/store", "/update?id=alice", "/update?%", "/destroy", "/static?file=a", "/", ""} {
		for _, body := range []string{"", "&&&", "=", "==&=", "%", "%%%%", "\x00\xff", "id", "id=", "id= ", "id%20=a", " LIKE=x", "id LIKE", strings.Repeat("a=b&", 1000)} {
			for _, method := range []string{"GET", "POST", "PUT", "HEAD"} {
				req := httptest.NewRequest(method, "http://127.0.0.1/p", strings.NewReader(body))
				req.URL.Path, req.URL.RawQuery, _ = strings.Cut(path, "?")
				rec := httptest.NewRecorder()
				assert.NotPanics(t, func() { h.ServeHTTP(rec, req) }, "%s %s %q", method, path, body)
				assert.NotEqual(t, 0, rec.Code)
			}
		}
	}
}

func TestHandlerLogsWhatTheWizardFailed(t *testing.T) {
	mem := memoryWith(handlerSeed())
	mem.SetError(fmt.Errorf("database down: %w", errors.ErrUnavailable))
	var buf bytes.Buffer
	var mu sync.Mutex // guards buf
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	ast := newHandlerServer(t, mem, &curl.HandlerOptions{Logger: logger})
	assert.Equal(t, answer{503, ""}, ast.post("/single", "id=alice"))
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, buf.String(), "status=503")
	assert.Contains(t, buf.String(), "database down")
	assert.Contains(t, buf.String(), "path=/prov/endpoint/single")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestHandlerAnswersHeadOfStaticWithoutBody(t *testing.T) {
	ast := newHandlerServer(t, memoryWith(handlerSeed()), &curl.HandlerOptions{StaticFiles: []string{"pjsip.conf"}})
	got := ast.do(http.MethodHead, "/static?file=pjsip.conf", "")
	assert.Equal(t, answer{200, ""}, got)
}

func TestHandlerAnswersRequireAsDbsepDoes(t *testing.T) {
	ast := newHandlerServer(t, memoryWith(handlerSeed()), nil)
	// require_curl (res_config_curl.c) sends name=type%3Asize pairs and reads the reply with
	// atoi; contrib/scripts/dbsep.cgi answers 0 when the requirements are met.
	assert.Equal(t, answer{200, "0\n"}, ast.post("/require", "uniqueid=uinteger3%3A11&password=char%3A10"))
	assert.Equal(t, answer{200, "0\n"}, ast.post("/require", ""))
}

func TestHandlerServesAFamilyKeyedByName(t *testing.T) {
	mem := memoryWith(nil)
	ast := newHandlerServer(t, mem, &curl.HandlerOptions{KeyField: "name"})
	// realtime store sippeers name alice host dynamic context office
	assert.Equal(t, answer{200, "1"}, ast.post("/store", "name=alice&host=dynamic&context=office"))
	r, found, err := mem.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, sorcery.Fields{{Name: "host", Value: "dynamic"}, {Name: "context", Value: "office"}}, r.Fields)
	assert.Equal(t, answer{200, "0"}, ast.post("/store", "name=alice&host=x"), "the name is taken")
	assert.Equal(t, answer{400, "-1\n"}, ast.post("/store", "host=x"), "no name")

	// chan_iax2.c: ast_load_realtime("iaxpeers", "name", peername, SENTINEL)
	assert.Equal(t, answer{200, "name=alice&host=dynamic&context=office\n"}, ast.post("/single", "name=alice"), "rows lead with name=, no id=")
	assert.Equal(t, answer{200, "name=alice&host=dynamic&context=office\n"}, ast.post("/single", "name=alice&host=dynamic"))
	assert.Equal(t, answer{200, "name=alice&host=dynamic&context=office\n"}, ast.post("/multi", "name%20LIKE=%25"))
	assert.Equal(t, answer{200, "1"}, ast.post("/update?name=alice", "context=lab"))
	assert.Equal(t, answer{200, "name=alice&host=dynamic&context=lab\n"}, ast.post("/single", "name=alice"))
	assert.Equal(t, answer{400, "-1\n"}, ast.post("/update?name=alice", "name=bob"), "an update cannot rename")
	assert.Equal(t, answer{200, "1"}, ast.post("/destroy", "name=alice"))
	assert.Equal(t, 0, mem.Len())
}
