package curl

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// seen is one request as a server received it.
type seen struct {
	Method, URI, ContentType, UserAgent, Body string
	Header                                    http.Header
}

// wireServer is a loopback server that records every request and answers each with the
// status and body set for it.
type wireServer struct {
	*httptest.Server
	mu     sync.Mutex // guards the fields below
	got    []seen
	status int
	body   string
	conns  int // connections accepted
}

func newWireServer(t *testing.T) *wireServer {
	t.Helper()
	s := &wireServer{status: http.StatusOK}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, seen{r.Method, r.RequestURI, r.Header.Get("Content-Type"), r.UserAgent(), string(b), r.Header.Clone()})
		status, body := s.status, s.body
		s.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *wireServer) reply(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.got = status, body, nil
}

func (s *wireServer) last(t *testing.T) seen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.got, 1, "requests received")
	return s.got[0]
}

func newTestWizard(t *testing.T, base string, opts *Options) *Wizard {
	t.Helper()
	w, err := New(base, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

const formType = "application/x-www-form-urlencoded"

func TestRetrieveSendsSingleAndDecodesTheRow(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL+"/prov/endpoint", nil)
	tests := []struct {
		name     string
		id       string
		reply    string
		wantBody string
		want     sorcery.Record
		found    bool
	}{
		{"plain", "alice", "id=alice&context=default&allow=ulaw&allow=alaw\n", "id=alice",
			sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "default"}, {Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}}}, true},
		{"escaped id", "a&b=c%d+e;f g", "id=a%26b%3Dc%25d%2Be%3Bf%20g&n=%C3%BC", "id=a%26b%3Dc%25d%2Be%3Bf%20g",
			sorcery.Record{ID: "a&b=c%d+e;f g", Fields: sorcery.Fields{{Name: "n", Value: "ü"}}}, true},
		{"non-ASCII id", "müller", "id=m%C3%BCller", "id=m%C3%BCller", sorcery.Record{ID: "müller"}, true},
		{"explicitly empty and unset", "bob", "id=bob&callerid=%20&mailboxes=&context=x", "id=bob",
			sorcery.Record{ID: "bob", Fields: sorcery.Fields{{Name: "callerid", Value: ""}, {Name: "context", Value: "x"}}}, true},
		{"empty body is absent", "carol", "", "id=carol", sorcery.Record{}, false},
		{"blank body is absent", "carol", "\r\n  \n", "id=carol", sorcery.Record{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(http.StatusOK, tt.reply)
			got, found, err := w.Retrieve(context.Background(), tt.id)
			require.NoError(t, err)
			assert.Equal(t, tt.found, found)
			assert.Equal(t, tt.want, got)
			req := srv.last(t)
			assert.Equal(t, "POST", req.Method)
			assert.Equal(t, "/prov/endpoint/single", req.URI)
			assert.Equal(t, formType, req.ContentType)
			assert.Equal(t, DefaultUserAgent, req.UserAgent)
			assert.Equal(t, tt.wantBody, req.Body)
		})
	}
}

func TestRetrieveTellsAbsenceFromFailure(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	tests := []struct {
		name   string
		status int
		body   string
		class  error // nil: absent without error
	}{
		{"204 is absent", http.StatusNoContent, "", nil},
		{"500 fails", http.StatusInternalServerError, "", errors.ErrUnavailable},
		{"502 fails", http.StatusBadGateway, "", errors.ErrUnavailable},
		{"503 fails", http.StatusServiceUnavailable, "id=alice", errors.ErrUnavailable},
		{"429 fails", http.StatusTooManyRequests, "", errors.ErrUnavailable},
		{"garbage is invalid", http.StatusOK, "<html><body>It works!</body></html>", errors.ErrInvalid},
		{"row without id is invalid", http.StatusOK, "context=default", errors.ErrInvalid},
		{"another object is invalid", http.StatusOK, "id=bob", errors.ErrInvalid},
		{"another case is absent", http.StatusOK, "id=ALICE&context=x", nil},
		{"trailing spaces are absent", http.StatusOK, "id=alice%20%20", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(tt.status, tt.body)
			got, found, err := w.Retrieve(context.Background(), "alice")
			assert.False(t, found)
			assert.Equal(t, sorcery.Record{}, got)
			if tt.class == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.class)
			assert.Regexp(t, `^sorcery: curl single "alice": `, err.Error())
		})
	}
}

func TestRetrieveOfOtherStatusesIsAnErrorButNotUnavailable(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusFound} {
		srv.reply(status, "")
		_, found, err := w.Retrieve(context.Background(), "alice")
		assert.False(t, found)
		var se *StatusError
		require.ErrorAs(t, err, &se, "status %d", status)
		assert.Equal(t, status, se.Code)
		assert.NotErrorIs(t, err, errors.ErrUnavailable, "status %d", status)
	}
}

func TestFailureCodesTurnStatusesIntoFailures(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, &Options{FailureCodes: []int{404, 408}})
	for _, status := range []int{404, 408} {
		srv.reply(status, "")
		_, found, err := w.Retrieve(context.Background(), "alice")
		assert.False(t, found)
		assert.ErrorIs(t, err, errors.ErrUnavailable, "status %d", status)
	}
}

func TestSearchSendsMultiWithAsteriskLikeApproximation(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	rows := "id=alice&context=a\nid=alfred&context=b\n\nid=bob&context=a\nid=xalice&context=a\n"
	tests := []struct {
		name     string
		q        sorcery.Query
		wantBody string
		wantIDs  []string
	}{
		{"all", sorcery.Query{}, "id%20LIKE=%25", []string{"alice", "alfred", "bob", "xalice"}},
		{"prefix", sorcery.Query{IDPrefix: "al"}, "id%20LIKE=al%25", []string{"alice", "alfred"}},
		{"anchored regex", sorcery.Query{IDRegex: "^al"}, "id%20LIKE=al%25", []string{"alice", "alfred"}},
		{"unanchored regex", sorcery.Query{IDRegex: "lic"}, "id%20LIKE=%25lic%25", []string{"alice", "xalice"}},
		{"regex with metacharacters", sorcery.Query{IDRegex: "^a.i"}, "id%20LIKE=a%25", []string{"alice"}},
		{"field equality", sorcery.Query{Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpEqual, Value: "a"}}},
			"context=a", []string{"alice", "bob", "xalice"}},
		{"prefix and operator", sorcery.Query{IDPrefix: "a", Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpNotEqual, Value: "a b&c"}}},
			"id%20LIKE=a%25&context%20!%3D=a%20b%26c", []string{"alice", "alfred"}},
		{"field regex travels as LIKE", sorcery.Query{Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpRegex, Value: "^b$"}}},
			"context%20LIKE=b%25", []string{"alfred"}},
		{"empty value travels as a space", sorcery.Query{Conditions: []sorcery.Condition{{Field: "callerid", Op: sorcery.OpEqual, Value: ""}}},
			"callerid=%20", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(http.StatusOK, rows)
			got, err := w.Search(context.Background(), tt.q)
			require.NoError(t, err)
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			assert.Equal(t, tt.wantIDs, ids)
			req := srv.last(t)
			assert.Equal(t, "POST", req.Method)
			assert.Equal(t, "/multi", req.URI)
			assert.Equal(t, formType, req.ContentType)
			assert.Equal(t, tt.wantBody, req.Body)
		})
	}
}

func TestSearchClassesReplies(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, &Options{NotFoundCodes: []int{404}})

	srv.reply(http.StatusNotFound, "")
	got, err := w.Search(context.Background(), sorcery.Query{})
	require.NoError(t, err)
	assert.Empty(t, got, "404 listed in NotFoundCodes is no objects")

	srv.reply(http.StatusOK, "")
	got, err = w.Search(context.Background(), sorcery.Query{})
	require.NoError(t, err)
	assert.Empty(t, got, "an empty body is no objects")

	srv.reply(http.StatusServiceUnavailable, "")
	_, err = w.Search(context.Background(), sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnavailable)

	srv.reply(http.StatusOK, "id=a\nbroken\n")
	_, err = w.Search(context.Background(), sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrInvalid)

	_, err = w.Search(context.Background(), sorcery.Query{IDRegex: "("})
	assert.ErrorIs(t, err, errors.ErrInvalid, "a bad regex fails before any request")
}

func TestWritesSendAsteriskRequestsAndReadCounts(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL+"/p", nil)
	rec := sorcery.Record{ID: "a b", Fields: sorcery.Fields{
		{Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"},
		{Name: "callerid", Value: ""},
		{Name: "set_var", Value: "X=1&Y=2;3+4%"},
		{Name: "name", Value: "Jürgen"},
	}}
	const fields = "allow=ulaw&allow=alaw&callerid=%20&set_var=X%3D1%26Y%3D2%3B3%2B4%25&name=J%C3%BCrgen"
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		reply    string
		wantURI  string
		wantBody string
		want     error // nil: success
	}{
		{"store", func() error { return w.Create(ctx, rec) }, "1\n", "/p/store", "id=a%20b&" + fields, nil},
		{"store of an existing id", func() error { return w.Create(ctx, rec) }, "0", "/p/store", "id=a%20b&" + fields, errors.ErrExists},
		{"update", func() error { return w.Update(ctx, rec) }, " 1 ", "/p/update?id=a%20b", fields, nil},
		{"update of no fields", func() error { return w.Update(ctx, sorcery.Record{ID: "x"}) }, "1", "/p/update?id=x", "", nil},
		{"update of a missing id", func() error { return w.Update(ctx, rec) }, "0", "/p/update?id=a%20b", fields, errors.ErrNotFound},
		{"destroy", func() error { return w.Delete(ctx, "a&b") }, "1", "/p/destroy", "id=a%26b&", nil},
		{"destroy of a missing id", func() error { return w.Delete(ctx, "a&b") }, "0", "/p/destroy", "id=a%26b&", errors.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(http.StatusOK, tt.reply)
			err := tt.call()
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
			req := srv.last(t)
			assert.Equal(t, "POST", req.Method)
			assert.Equal(t, tt.wantURI, req.URI)
			assert.Equal(t, formType, req.ContentType)
			assert.Equal(t, tt.wantBody, req.Body)
		})
	}
}

func TestWritesReadRefusalsAndFailures(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	ctx := context.Background()
	rec := sorcery.Record{ID: "a"}
	tests := []struct {
		name         string
		status       int
		body         string
		unavailable  bool
		wantNotFound bool
		wantAnyError bool
	}{
		{"-1 refuses", 200, "-1", false, false, true},
		{"text refuses", 200, "ERROR: duplicate key", false, false, true},
		{"empty refuses", 200, "", false, false, true},
		{"503 fails", 503, "-1", true, false, true},
		{"500 fails", 500, "", true, false, true},
		{"429 fails", 429, "", true, false, true},
		{"403 refuses", 403, "-1", false, false, true},
		{"404 is an error, not zero rows", 404, "", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.reply(tt.status, tt.body)
			for op, call := range map[string]func() error{
				"store":   func() error { return w.Create(ctx, rec) },
				"update":  func() error { return w.Update(ctx, rec) },
				"destroy": func() error { return w.Delete(ctx, "a") },
			} {
				err := call()
				require.Error(t, err, op)
				assert.Equal(t, tt.unavailable, errors.Is(err, errors.ErrUnavailable), "%s: %v", op, err)
				if tt.wantNotFound && op != "store" {
					assert.ErrorIs(t, err, errors.ErrNotFound, op)
				}
				assert.NotErrorIs(t, err, errors.ErrExists, op)
			}
		})
	}
}

func TestWritesRefuseRecordsThatCannotTravel(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	ctx := context.Background()
	for name, r := range map[string]sorcery.Record{
		"empty id":           {},
		"field named id":     {ID: "a", Fields: sorcery.Fields{{Name: "ID", Value: "b"}}},
		"field with no name": {ID: "a", Fields: sorcery.Fields{{Name: "", Value: "b"}}},
	} {
		assert.ErrorIs(t, w.Create(ctx, r), errors.ErrInvalid, name)
		assert.ErrorIs(t, w.Update(ctx, r), errors.ErrInvalid, name)
	}
	assert.ErrorIs(t, w.Delete(ctx, ""), errors.ErrInvalid)
	srv.mu.Lock()
	assert.Empty(t, srv.got, "nothing was sent")
	srv.mu.Unlock()
}

func TestStaticSendsGetAndGroupsCategories(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL+"/p", nil)
	srv.reply(http.StatusOK, "category=alice&cat_metric=0&var_metric=0&var_name=type&var_val=endpoint\n"+
		"category=alice&cat_metric=0&var_metric=1&var_name=allow&var_val=ulaw%2Calaw\n")
	got, err := w.Static(context.Background(), "pjsip wizard.conf")
	require.NoError(t, err)
	assert.Equal(t, []sorcery.Record{{ID: "alice", Fields: sorcery.Fields{{Name: "type", Value: "endpoint"}, {Name: "allow", Value: "ulaw,alaw"}}}}, got)
	req := srv.last(t)
	assert.Equal(t, "GET", req.Method)
	assert.Equal(t, "/p/static?file=pjsip%20wizard.conf", req.URI)
	assert.Empty(t, req.Body)
	assert.Empty(t, req.ContentType)

	srv.reply(http.StatusNotFound, "")
	_, err = w.Static(context.Background(), "x.conf")
	require.Error(t, err, "a 404 is an error by default")
	w404 := newTestWizard(t, srv.URL+"/p", &Options{NotFoundCodes: []int{404}})
	got, err = w404.Static(context.Background(), "x.conf")
	require.NoError(t, err)
	assert.Empty(t, got, "404 listed in NotFoundCodes is no categories")
}

func TestOptionsShapeEveryRequest(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL+"/${ENTITYID}/${TABLE}", &Options{
		Variables: map[string]string{"ENTITYID": "00:11:22:33:44:55", "TABLE": "ps_endpoints"},
		Header:    http.Header{"X-Tenant": {"blue"}, "Referer": {"http://asterisk.invalid/"}},
		UserAgent: "pbx/1",
		Username:  "ast",
		Password:  "s3cret",
	})
	assert.Equal(t, srv.URL+"/00:11:22:33:44:55/ps_endpoints", w.BaseURL())
	srv.reply(http.StatusOK, "")
	_, _, err := w.Retrieve(context.Background(), "a")
	require.NoError(t, err)
	req := srv.last(t)
	assert.Equal(t, "/00:11:22:33:44:55/ps_endpoints/single", req.URI)
	assert.Equal(t, "pbx/1", req.UserAgent)
	assert.Equal(t, "blue", req.Header.Get("X-Tenant"))
	assert.Equal(t, "http://asterisk.invalid/", req.Header.Get("Referer"))
	assert.Equal(t, "Basic YXN0OnMzY3JldA==", req.Header.Get("Authorization"))
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		base string
		opts *Options
	}{
		{"unknown variable", "http://127.0.0.1/${ENTITYID}", nil},
		{"unterminated variable", "http://127.0.0.1/${ENTITYID", &Options{Variables: map[string]string{"ENTITYID": "x"}}},
		{"no scheme", "127.0.0.1/prov", nil},
		{"ftp", "ftp://127.0.0.1/prov", nil},
		{"no host", "http:///prov", nil},
		{"negative timeout", "http://127.0.0.1", &Options{Timeout: -time.Second}},
		{"bad failure code", "http://127.0.0.1", &Options{FailureCodes: []int{42}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.base, tt.opts)
			assert.Nil(t, w)
			assert.ErrorIs(t, err, errors.ErrInvalid)
		})
	}
}

func TestRedirectsAreErrorsUnlessFollowed(t *testing.T) {
	target := newWireServer(t)
	target.reply(http.StatusOK, "id=alice")
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/single", http.StatusTemporaryRedirect))
	t.Cleanup(redirector.Close)

	w := newTestWizard(t, redirector.URL, nil)
	_, found, err := w.Retrieve(context.Background(), "alice")
	assert.False(t, found)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusTemporaryRedirect, se.Code)

	follow, err := optionsFromConfig(vars("followlocation", "yes"))
	require.NoError(t, err)
	w = newTestWizard(t, redirector.URL, follow)
	got, found, err := w.Retrieve(context.Background(), "alice")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "alice", got.ID)
	req := target.last(t)
	assert.Equal(t, "POST", req.Method, "307 keeps the method")
	assert.Equal(t, "id=alice", req.Body, "307 keeps the body")

	var hops atomic.Int32
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		http.Redirect(rw, r, loop.URL+"/single", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(loop.Close)
	bounded, err := optionsFromConfig(vars("followlocation", "yes", "maxredirs", "2"))
	require.NoError(t, err)
	w = newTestWizard(t, loop.URL, bounded)
	_, found, err = w.Retrieve(context.Background(), "alice")
	assert.False(t, found)
	assert.ErrorContains(t, err, "stopped after 2 redirects")
	assert.Equal(t, int32(3), hops.Load(), "the request and two redirects")
}

func TestCloseIsIdempotentAndStopsOperations(t *testing.T) {
	srv := newWireServer(t)
	w, err := New(srv.URL, nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Close(), errors.ErrClosed)
	ctx := context.Background()
	_, _, err = w.Retrieve(ctx, "a")
	assert.ErrorIs(t, err, errors.ErrClosed)
	_, err = w.Search(ctx, sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrClosed)
	assert.ErrorIs(t, w.Create(ctx, sorcery.Record{ID: "a"}), errors.ErrClosed)
	assert.ErrorIs(t, w.Update(ctx, sorcery.Record{ID: "a"}), errors.ErrClosed)
	assert.ErrorIs(t, w.Delete(ctx, "a"), errors.ErrClosed)
	srv.mu.Lock()
	assert.Empty(t, srv.got)
	srv.mu.Unlock()
}

func TestRequestsReuseConnections(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	srv.reply(http.StatusOK, "id=a&x=1")
	for range 20 {
		_, found, err := w.Retrieve(context.Background(), "a")
		require.NoError(t, err)
		require.True(t, found)
	}
	srv.reply(http.StatusNotFound, "not here")
	for range 5 {
		_, _, err := w.Retrieve(context.Background(), "a")
		require.Error(t, err)
	}
	srv.reply(http.StatusServiceUnavailable, "down")
	for range 5 {
		_, _, err := w.Retrieve(context.Background(), "a")
		require.Error(t, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	// net/http hands a drained connection back to its pool from another goroutine: on a
	// busy machine the next request may now and then dial before it is back. Without reuse
	// there would be 30 connections.
	assert.LessOrEqual(t, srv.conns, 3, "sequential requests share keep-alive connections")
}

func TestRetrieveOfAnEmptyIDAsksNothing(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, nil)
	got, found, err := w.Retrieve(context.Background(), "")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Equal(t, sorcery.Record{}, got)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Empty(t, srv.got)
}

func TestReplyLimitCanBeLiftedOrTightened(t *testing.T) {
	srv := newWireServer(t)
	big := "id=alice&note=" + strings.Repeat("x", DefaultMaxReplyBytes)
	srv.reply(http.StatusOK, big)

	// 16 MiB under -race on a busy machine can take longer than DefaultTimeout.
	_, _, err := newTestWizard(t, srv.URL, &Options{Timeout: 2 * time.Minute}).Retrieve(context.Background(), "alice")
	assert.ErrorIs(t, err, errors.ErrInvalid, "the default limit")

	r, found, err := newTestWizard(t, srv.URL, &Options{MaxReplyBytes: -1, Timeout: 2 * time.Minute}).Retrieve(context.Background(), "alice")
	require.NoError(t, err, "no limit")
	assert.True(t, found)
	assert.Len(t, r.Fields.Value("note"), DefaultMaxReplyBytes)

	srv.reply(http.StatusOK, "id=alice&note=0123456789")
	_, _, err = newTestWizard(t, srv.URL, &Options{MaxReplyBytes: 16}).Retrieve(context.Background(), "alice")
	assert.ErrorIs(t, err, errors.ErrInvalid, "a tight limit")
}

func TestHeaderMayReplaceTheContentType(t *testing.T) {
	srv := newWireServer(t)
	w := newTestWizard(t, srv.URL, &Options{Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}})
	srv.reply(http.StatusOK, "")
	_, _, err := w.Retrieve(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, "application/x-www-form-urlencoded; charset=utf-8", srv.last(t).ContentType)
}
