// Package leakcheck_test checks that field values — passwords live there — reach neither
// logs nor error strings when sources misbehave: garbled curl replies, SQL errors and broken
// configuration files. Ids and names may appear; values may not.
package leakcheck_test

import (
	"bytes"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// secret is planted in field values; it must never be seen again.
const secret = "Pa55-w0rd-7f3c9e"

// sink collects every log line and error string of a test.
type sink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *sink) err(err error) {
	if err != nil {
		_, _ = io.WriteString(s, "error: "+err.Error()+"\n")
	}
}

func (s *sink) logger() *slog.Logger { return slog.New(slog.NewTextHandler(s, nil)) }

// check fails the test for every line holding the secret, and makes sure something was
// written at all: a check of nothing proves nothing.
func (s *sink) check(t *testing.T, minLines int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(s.buf.String()), "\n")
	require.GreaterOrEqual(t, len(lines), minLines, "lines seen:\n%s", s.buf.String())
	for _, l := range lines {
		assert.NotContains(t, l, secret)
		assert.NotContains(t, strings.ToLower(l), strings.ToLower(secret[:8]), "a part of the secret")
	}
}

type endpoint struct {
	ID          string `sorcery:"id"`
	Password    string `sorcery:"password"`
	MaxContacts int    `sorcery:"max_contacts"`
}

// newType returns a type logging to out at every failure, behind a cache.
func newType(t *testing.T, out *sink, w sorcery.Wizard) *sorcery.Type[endpoint] {
	t.Helper()
	s := sorcery.New(&sorcery.Options{Logger: out.logger(), LogInterval: time.Nanosecond})
	t.Cleanup(func() { _ = s.Close() })
	typ, err := sorcery.Register[endpoint](s, "endpoint", &sorcery.TypeOptions[endpoint]{IgnoreUnknown: true})
	require.NoError(t, err)
	require.NoError(t, typ.AddCache(&cache.Options{LifetimeStale: time.Millisecond, LifetimeMaximum: time.Hour}))
	require.NoError(t, typ.AddWizard("source", w, nil))
	return typ
}

func TestSecretsStayOutOfLogsAndErrorsOnGarbledCurlReplies(t *testing.T) {
	garbled := []struct {
		status int
		body   string
	}{
		{200, "context=default&password=" + secret},                // a row without id
		{200, "id=alice&password=" + secret + "\x00"},              // a NUL byte
		{200, "id=bob&password=" + secret},                         // another object
		{200, "id=alice&id=" + secret + "&password=" + secret},     // two ids
		{200, "id=alice&pass\x01word=" + secret},                   // a control character
		{200, "id=alice&" + secret + "\x01=" + secret},             // a secret in a broken name
		{200, "<html><body>password=" + secret + "</body></html>"}, // not the protocol
		{200, "id=alice&max_contacts=" + secret},                   // a value that does not decode
		{404, "password=" + secret},
		{500, "password=" + secret},
		{403, secret},
	}
	var mu sync.Mutex
	reply := garbled[0]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		rep := reply
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/multi") {
			rep.body = "id=alice&password=x\n" + rep.body + "\nid=carol&password=" + secret
		}
		if strings.HasSuffix(r.URL.Path, "/store") || strings.HasSuffix(r.URL.Path, "/update") || strings.HasSuffix(r.URL.Path, "/destroy") {
			rep.body = "ERROR: duplicate password " + secret
		}
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	defer srv.Close()

	var out sink
	w, err := curl.New(srv.URL+"/prov", nil)
	require.NoError(t, err)
	typ := newType(t, &out, w)
	ctx := t.Context()
	for _, g := range garbled {
		mu.Lock()
		reply = g
		mu.Unlock()
		_, _, err := typ.Retrieve(ctx, "alice")
		out.err(err)
		_, err = typ.Search(ctx, sorcery.Query{})
		out.err(err)
		out.err(typ.Create(ctx, endpoint{ID: "dave", Password: secret}))
		out.err(typ.Update(ctx, endpoint{ID: "dave", Password: secret}))
		out.err(typ.Delete(ctx, "dave"))
		_, err = w.Static(ctx, "pjsip.conf")
		out.err(err)
	}
	out.check(t, 5*len(garbled))
}

func TestSecretsStayOutOfTheCurlHandlersLogs(t *testing.T) {
	var out sink
	src := memory.New()
	srv := httptest.NewServer(curl.NewHandler(src, &curl.HandlerOptions{Logger: out.logger()}))
	defer srv.Close()
	for _, body := range []string{
		"id=alice&password=" + secret + "%zz",           // a bad escape after the secret
		"id=alice&password=%" + secret,                  // a bad escape in the secret
		"id=alice&id=" + secret + "&password=" + secret, // two ids
		"password=" + secret,                            // no id
	} {
		for _, op := range []string{"/single", "/multi", "/store", "/update?id=alice", "/destroy"} {
			resp, err := srv.Client().Post(srv.URL+op, "application/x-www-form-urlencoded", strings.NewReader(body))
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			_, _ = io.WriteString(&out, "reply: "+string(b)+"\n")
		}
	}
	out.check(t, 10)
}

func TestSecretsStayOutOfLogsAndErrorsOnSQLErrors(t *testing.T) {
	dbs := map[string]func(testing.TB) *sql.DB{"sqlite": testdb.SQLite, "postgres": testdb.Postgres, "mysql": testdb.MySQL}
	for name, open := range dbs {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			table := testdb.Name(t, "leak")
			testdb.Exec(t, db, "CREATE TABLE "+table+" (id VARCHAR(40) NOT NULL PRIMARY KEY, password VARCHAR(40) UNIQUE, max_contacts INTEGER CHECK (max_contacts < 100))")
			testdb.Cleanup(t, db, "DROP TABLE "+table)
			var out sink
			w, err := sqldb.New(db, table, nil)
			require.NoError(t, err)
			typ := newType(t, &out, w)
			ctx := t.Context()
			require.NoError(t, typ.Create(ctx, endpoint{ID: "alice", Password: secret, MaxContacts: 1}))
			// The same password again: a unique violation quoting it, on MySQL.
			out.err(typ.Create(ctx, endpoint{ID: "bob", Password: secret, MaxContacts: 1}))
			// A value the column cannot hold, written through the wizard itself.
			out.err(w.Create(ctx, sorcery.Record{ID: "carol", Fields: sorcery.Fields{{Name: "password", Value: "x"}, {Name: "max_contacts", Value: secret}}}))
			out.err(w.Update(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "password", Value: secret}, {Name: "max_contacts", Value: secret}}}))
			out.err(typ.Update(ctx, endpoint{ID: "alice", Password: secret, MaxContacts: 1000}))
			// A search by a value the column cannot compare with.
			_, err = w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "max_contacts", Op: sorcery.OpEqual, Value: secret}}})
			out.err(err)
			out.check(t, 3)
		})
	}
}

func TestSecretsStayOutOfConfigErrors(t *testing.T) {
	var out sink
	for _, src := range []string{
		"password=" + secret + "\n[alice]\n",                       // before the first category
		"[alice]\ntype=auth\n" + secret + "\n",                     // not a name = value line
		"[alice]\ntype=auth\n=" + secret + "\n",                    // no name
		"[alice]\ntype=auth\n+=" + secret + "\n",                   // no name either
		"[alice]\ntype=auth\n\\\x01" + secret + "=x\n",             // a bad escape
		"[alice]\npassword=" + secret + "\n[alice](+password=x)\n", // a filter that selects nothing
	} {
		_, err := config.New("pjsip.conf", &config.Options{FS: fstest.MapFS{"pjsip.conf": {Data: []byte(src)}}})
		require.Error(t, err, "%q", src)
		out.err(err)
	}
	out.check(t, 6)
}
