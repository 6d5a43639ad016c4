package sorceryhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryhttp"
)

// Auth is a PJSIP auth object; its password is the secret no answer may carry.
type Auth struct {
	ID       string `sorcery:"id"`
	Username string `sorcery:"username"`
	Password string `sorcery:"password"`
}

// Aor has no cache in its chain.
type Aor struct {
	ID          string `sorcery:"id"`
	MaxContacts int    `sorcery:"max_contacts"`
}

// secretOf is the password planted in id's record.
func secretOf(id string) string { return "S3cr3t-" + id + "-Zq9x" }

// fixture is a Sorcery with an auth type (config-like local wizard, a cache, a remote
// provisioning wizard) and an aor type without a cache, served by a handler on a real
// loopback server.
type fixture struct {
	s      *sorcery.Sorcery
	auths  *sorcery.Type[Auth]
	local  *memory.Wizard
	remote *memory.Wizard
	srv    *httptest.Server
}

var users = []string{"alice", "bob", "carol", "dave"}

func newFixture(t *testing.T, opts *sorceryhttp.Options) *fixture {
	t.Helper()
	f := &fixture{
		s:      sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}),
		local:  memory.New(),
		remote: memory.New(),
	}
	t.Cleanup(func() { f.s.Close() })
	var err error
	f.auths, err = sorcery.Register[Auth](f.s, "auth", nil)
	require.NoError(t, err)
	require.NoError(t, f.auths.AddWizard("config", f.local, nil))
	require.NoError(t, f.auths.AddCache(&cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour, ErrorRecheck: time.Minute}))
	require.NoError(t, f.auths.AddWizard("curl", f.remote, nil))
	aors, err := sorcery.Register[Aor](f.s, "aor", nil)
	require.NoError(t, err)
	aorSrc := memory.New()
	require.NoError(t, aors.AddWizard("config", aorSrc, nil))
	aorSrc.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "max_contacts", Value: "2"}}})

	f.local.Put(record("lobby"))
	for _, id := range users {
		f.remote.Put(record(id))
	}
	ctx := context.Background()
	for _, id := range append([]string{"lobby"}, users...) {
		_, found, err := f.auths.Retrieve(ctx, id)
		require.NoError(t, err)
		require.True(t, found, id)
	}
	_, _, err = aors.Retrieve(ctx, "alice")
	require.NoError(t, err)

	f.srv = httptest.NewServer(sorceryhttp.New(f.s, opts))
	t.Cleanup(f.srv.Close)
	return f
}

func record(id string) sorcery.Record {
	return sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "username", Value: id}, {Name: "password", Value: secretOf(id)}}}
}

var errDown = fmt.Errorf("provisioning service down: %w", errors.ErrUnavailable)

// outage takes the remote wizard down and refreshes ids at once, so that the cache keeps
// them on an extension.
func (f *fixture) outage(t *testing.T, ids ...string) {
	t.Helper()
	f.remote.SetError(errDown)
	c := f.auths.Cache()
	for _, id := range ids {
		c.MarkStale(id, true)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Extended < len(ids) {
		require.True(t, time.Now().Before(deadline), "the refreshes did not fail in time")
		time.Sleep(5 * time.Millisecond)
	}
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the fixture's server; form, when not nil, is posted as a form body.
func (f *fixture) do(t *testing.T, method, path string, form url.Values, header map[string]string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (f *fixture) get(t *testing.T, path string) response {
	t.Helper()
	return f.do(t, http.MethodGet, path, nil, nil)
}

func (f *fixture) post(t *testing.T, path string, form url.Values) response {
	t.Helper()
	return f.do(t, http.MethodPost, path, form, nil)
}

// decode decodes a JSON answer.
func decode[V any](t *testing.T, r response) V {
	t.Helper()
	var v V
	require.NoError(t, json.Unmarshal([]byte(r.body), &v), r.body)
	return v
}

// The JSON answers, as a client reads them.

type typesAnswer struct {
	Types []typeAnswer `json:"types"`
}

type typeAnswer struct {
	Name     string `json:"name"`
	Degraded bool   `json:"degraded"`
	Chain    []struct {
		Kind   string `json:"kind"`
		Name   string `json:"name"`
		Wizard *struct {
			Failing        bool   `json:"failing"`
			LastErrorClass string `json:"last_error_class"`
			Operations     []struct {
				Operation string `json:"operation"`
				Found     uint64 `json:"found"`
				NotFound  uint64 `json:"not_found"`
				Errors    uint64 `json:"errors"`
			} `json:"operations"`
		} `json:"wizard"`
		Cache *struct {
			CoveringOutage bool `json:"covering_outage"`
			Options        struct {
				ObjectLifetimeStale float64 `json:"object_lifetime_stale"`
			} `json:"options"`
			Stats struct {
				Objects  int `json:"objects"`
				Extended int `json:"extended"`
			} `json:"stats"`
		} `json:"cache"`
	} `json:"chain"`
}

type entryAnswer struct {
	ID               string     `json:"id"`
	State            string     `json:"state"`
	AgeSeconds       float64    `json:"age_seconds"`
	StaleInSeconds   *float64   `json:"stale_in_seconds"`
	ExpiresInSeconds *float64   `json:"expires_in_seconds"`
	ExtendedSince    *time.Time `json:"extended_since"`
}

type pageAnswer struct {
	Entries []entryAnswer `json:"entries"`
	Next    string        `json:"next"`
}

type objectAnswer struct {
	ID     string `json:"id"`
	Caches []struct {
		Cache  string       `json:"cache"`
		Cached bool         `json:"cached"`
		Entry  *entryAnswer `json:"entry"`
	} `json:"caches"`
	Fields []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
}

type errorAnswer struct {
	Error string `json:"error"`
}
