package registrar

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/sorcery"
)

// logRecorder is a slog.Handler that keeps every record, for assertions, and echoes it to the
// test log while the test runs.
type logRecorder struct {
	t     testing.TB
	attrs []slog.Attr

	shared *recorded
}

type recorded struct {
	mu      sync.Mutex // guards records and done
	records []logRecord
	done    bool // the test has ended: stop echoing
}

// logRecord is one record with its attributes flattened to strings.
type logRecord struct {
	Time    time.Time
	Level   slog.Level
	Message string
	Attrs   map[string]string
}

func newLogRecorder(t testing.TB) *logRecorder {
	r := &logRecorder{t: t, shared: &recorded{}}
	t.Cleanup(func() {
		r.shared.mu.Lock()
		defer r.shared.mu.Unlock()
		r.shared.done = true
	})
	return r
}

func (r *logRecorder) logger() *slog.Logger { return slog.New(r) }

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	lr := logRecord{Time: rec.Time, Level: rec.Level, Message: rec.Message, Attrs: map[string]string{}}
	var line strings.Builder
	fmt.Fprintf(&line, "%s %s %s", rec.Time.Format("15:04:05.000"), rec.Level, rec.Message)
	add := func(a slog.Attr) bool {
		lr.Attrs[a.Key] = a.Value.String()
		fmt.Fprintf(&line, " %s=%s", a.Key, a.Value.String())
		return true
	}
	for _, a := range r.attrs {
		add(a)
	}
	rec.Attrs(add)
	r.shared.mu.Lock()
	defer r.shared.mu.Unlock()
	r.shared.records = append(r.shared.records, lr)
	if !r.shared.done {
		r.t.Log(line.String())
	}
	return nil
}

func (r *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{t: r.t, attrs: append(slices.Clone(r.attrs), attrs...), shared: r.shared}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// registers returns the REGISTER outcome lines logged so far.
func (r *logRecorder) registers() []logRecord {
	r.shared.mu.Lock()
	defer r.shared.mu.Unlock()
	var out []logRecord
	for _, rec := range r.shared.records {
		if strings.HasPrefix(rec.Message, "REGISTER ") {
			out = append(out, rec)
		}
	}
	return out
}

// sipClient sends REGISTER requests to a registrar with sipgo's client.
type sipClient struct {
	c      *sipgo.Client
	server sip.Uri
}

func newSIPClient(t *testing.T, server net.Addr) *sipClient {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("test-phone"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
	)
	require.NoError(t, err)
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() {
		c.Close()
		ua.Close()
	})
	host, port, err := net.SplitHostPort(server.String())
	require.NoError(t, err)
	var p int
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err)
	return &sipClient{c: c, server: sip.Uri{Scheme: "sip", Host: host, Port: p}}
}

// newRegister builds a REGISTER from user for its own AOR, with the given Contact header
// values (none for a query) and an Expires header unless expires is negative.
func (c *sipClient) newRegister(user string, expires int, contacts ...string) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, c.server)
	aor := sip.Uri{Scheme: "sip", User: user, Host: c.server.Host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	for _, ct := range contacts {
		req.AppendHeader(sip.NewHeader("Contact", ct))
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", "test-phone"))
	return req
}

func (c *sipClient) do(t *testing.T, req *sip.Request) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.c.Do(ctx, req)
	require.NoError(t, err)
	return res
}

// register sends req and, when challenged, answers the challenge with user and password,
// as a phone does; it returns the final answer.
func (c *sipClient) register(t *testing.T, req *sip.Request, user, password string) *sip.Response {
	t.Helper()
	res := c.do(t, req)
	if res.StatusCode != sip.StatusUnauthorized {
		return res
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
	require.NoError(t, err)
	return res
}

// headerValues returns the values of every header of res named name.
func headerValues(res *sip.Response, name string) []string {
	var vs []string
	for _, h := range res.GetHeaders(name) {
		vs = append(vs, h.Value())
	}
	return vs
}

// fieldsOf builds sorcery fields from name, value pairs.
func fieldsOf(kv ...string) sorcery.Fields {
	var fs sorcery.Fields
	for i := 0; i+1 < len(kv); i += 2 {
		fs.Add(kv[i], kv[i+1])
	}
	return fs
}

func TestMain(m *testing.M) {
	// sipgo logs some events of its connection pools (such as closing a client) to its
	// package-wide logger; keep only its errors.
	sip.SetDefaultLogger(slog.New(levelHandler{slog.LevelError, slog.Default().Handler()}))
	os.Exit(m.Run())
}

// memoryContacts registers the contact type with s over a memory wizard, behind a
// full-backend cache as OpenContacts puts it: a registrar's contact store without a database.
func memoryContacts(t testing.TB, s *sorcery.Sorcery) *sorcery.Type[pjsip.Contact] {
	t.Helper()
	ct, err := pjsip.RegisterContacts(s)
	require.NoError(t, err)
	require.NoError(t, ct.AddCache(&cache.Options{Name: "contact", FullBackend: true}))
	require.NoError(t, ct.AddWizard("memory", memory.New(), nil))
	return ct
}

// contactsOf returns the live contacts of aor that r reports.
func contactsOf(t testing.TB, r *Registrar, aor string) []pjsip.Contact {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cs, err := r.Contacts(ctx, aor)
	require.NoError(t, err)
	return cs
}
