package registrar

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/sorcery"
)

// fixture is a registrar over memory wizards, one per type, listening on UDP loopback.
type fixture struct {
	r                     *Registrar
	addr                  net.Addr
	endpoints, auths, aor *memory.Wizard
	logs                  *logRecorder
	client                *sipClient
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{endpoints: memory.New(), auths: memory.New(), aor: memory.New(), logs: newLogRecorder(t)}
	health := &SourceHealth{}
	s := sorcery.New(&sorcery.Options{Logger: f.logs.logger(), Hooks: sorcery.Hooks{WizardCall: health.WizardCall}})
	t.Cleanup(func() { s.Close() })
	ts, err := pjsip.Register(s)
	require.NoError(t, err)
	require.NoError(t, ts.Endpoints.AddWizard("memory", f.endpoints, nil))
	require.NoError(t, ts.Auths.AddWizard("memory", f.auths, nil))
	require.NoError(t, ts.Aors.AddWizard("memory", f.aor, nil))

	f.endpoints.Put(
		sorcery.Record{ID: "1001", Fields: fieldsOf("type", "endpoint", "auth", "1001", "aors", "1001")},
		sorcery.Record{ID: "1002", Fields: fieldsOf("type", "endpoint", "aors", "1002")}, // no auth
		sorcery.Record{ID: "1003", Fields: fieldsOf("type", "endpoint", "auth", "1003", "aors", "1003")},
		sorcery.Record{ID: "1004", Fields: fieldsOf("type", "endpoint", "auth", "1001")},                    // no aors
		sorcery.Record{ID: "1005", Fields: fieldsOf("type", "endpoint", "aors", "1005")},                    // max_contacts=0
		sorcery.Record{ID: "1006", Fields: fieldsOf("type", "endpoint", "auth", "missing", "aors", "1001")}, // dangling auth
		sorcery.Record{ID: "1007", Fields: fieldsOf("type", "endpoint", "aors", "shared")},                  // To must name its aor
	)
	f.auths.Put(
		sorcery.Record{ID: "1001", Fields: fieldsOf("type", "auth", "auth_type", "userpass", "username", "1001", "password", "secret")},
		sorcery.Record{ID: "1003", Fields: fieldsOf("type", "auth", "auth_type", "md5", "username", "1003", "realm", "example.com",
			"md5_cred", ha1("1003", "example.com", "md5-password"))},
	)
	f.aor.Put(
		sorcery.Record{ID: "1001", Fields: fieldsOf("type", "aor", "max_contacts", "1", "remove_existing", "yes")},
		sorcery.Record{ID: "1002", Fields: fieldsOf("type", "aor", "max_contacts", "2", "minimum_expiration", "60", "maximum_expiration", "3600")},
		sorcery.Record{ID: "1003", Fields: fieldsOf("type", "aor", "max_contacts", "1")},
		sorcery.Record{ID: "1005", Fields: fieldsOf("type", "aor")},
		sorcery.Record{ID: "shared", Fields: fieldsOf("type", "aor", "max_contacts", "1")},
	)

	r, err := New(Sources{Endpoints: ts.Endpoints, Auths: ts.Auths, Aors: ts.Aors, Contacts: memoryContacts(t, s)}, &Options{Logger: f.logs.logger(), Health: health})
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := r.Close(); !errors.Is(err, errors.ErrClosed) { // a test may have closed it
			assert.NoError(t, err)
		}
	})
	f.r = r
	f.addr, err = r.Listen("udp", "127.0.0.1:0")
	require.NoError(t, err)
	f.client = newSIPClient(t, f.addr)
	return f
}

// lastOutcome returns the outcome attribute of the last REGISTER line logged.
func (f *fixture) lastOutcome(t *testing.T) logRecord {
	t.Helper()
	regs := f.logs.registers()
	require.NotEmpty(t, regs)
	return regs[len(regs)-1]
}

func TestRegisterIsChallengedThenAcceptedWithContactsAndExpires(t *testing.T) {
	f := newFixture(t)
	req := f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099;transport=udp>")

	res := f.client.do(t, req.Clone())
	require.Equal(t, sip.StatusUnauthorized, res.StatusCode, res.String())
	chal := headerValues(res, "WWW-Authenticate")
	require.Len(t, chal, 1)
	parsed, err := digest.ParseChallenge(chal[0])
	require.NoError(t, err)
	assert.Equal(t, "asterisk", parsed.Realm, "an auth without realm gets the default realm")
	assert.Equal(t, []string{"auth"}, parsed.QOP)
	assert.False(t, parsed.Stale)
	assert.Equal(t, "challenged", f.lastOutcome(t).Attrs["outcome"])

	res = f.client.register(t, req, "1001", "secret")
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Equal(t, []string{"<sip:1001@127.0.0.1:5099;transport=udp>;expires=120"}, headerValues(res, "Contact"))
	assert.Equal(t, []string{"120"}, headerValues(res, "Expires"))
	require.Len(t, headerValues(res, "Date"), 1)
	date, err := http.ParseTime(headerValues(res, "Date")[0])
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), date, 2*time.Second)
	assert.True(t, strings.HasSuffix(headerValues(res, "Date")[0], " GMT"), "RFC 3261 §20.17: the date is in GMT")

	contacts := contactsOf(t, f.r, "1001")
	require.Len(t, contacts, 1)
	assert.Equal(t, "sip:1001@127.0.0.1:5099;transport=udp", contacts[0].URI)
	assert.Equal(t, "1001", contacts[0].Endpoint)
	assert.Equal(t, "test-phone", contacts[0].UserAgent)
	assert.InDelta(t, time.Now().Unix()+120, contacts[0].ExpirationTime, 2)

	out := f.lastOutcome(t)
	assert.Equal(t, "registered", out.Attrs["outcome"])
	assert.Equal(t, "1001", out.Attrs["aor"])
	assert.Equal(t, "ok", out.Attrs["source"])
}

func TestRegisterWithAWrongPasswordIsForbidden(t *testing.T) {
	f := newFixture(t)
	res := f.client.register(t, f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>"), "1001", "not the secret")
	assert.Equal(t, sip.StatusForbidden, res.StatusCode, res.String())
	assert.Empty(t, contactsOf(t, f.r, "1001"))
	assert.Equal(t, "wrong credentials", f.lastOutcome(t).Attrs["reason"])
}

func TestRegisterWithAnotherUsersCredentialsIsForbidden(t *testing.T) {
	f := newFixture(t)
	res := f.client.register(t, f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>"), "1003", "secret")
	assert.Equal(t, sip.StatusForbidden, res.StatusCode, res.String())
}

func TestRegisterWithMD5CredentialsAndARealmAuthenticates(t *testing.T) {
	f := newFixture(t)
	req := f.client.newRegister("1003", 120, "<sip:1003@127.0.0.1:5099>")
	res := f.client.do(t, req.Clone())
	require.Equal(t, sip.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, headerValues(res, "WWW-Authenticate")[0], `realm="example.com"`)

	res = f.client.register(t, req, "1003", "md5-password")
	assert.Equal(t, sip.StatusOK, res.StatusCode, res.String())
}

func TestRegisterWithAStaleNonceIsChallengedAgainAsStale(t *testing.T) {
	f := newFixture(t)
	// The right password, under a nonce this registrar issued an hour ago.
	nonce := f.r.nonces.issue(time.Now().Add(-time.Hour), "127.0.0.1", "asterisk")
	cred, err := digest.Digest(&digest.Challenge{Realm: "asterisk", Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: "REGISTER", URI: f.client.server.String(), Username: "1001", Password: "secret", Count: 1})
	require.NoError(t, err)
	req := f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>")
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))

	res := f.client.do(t, req)
	require.Equal(t, sip.StatusUnauthorized, res.StatusCode, res.String())
	parsed, err := digest.ParseChallenge(headerValues(res, "WWW-Authenticate")[0])
	require.NoError(t, err)
	assert.True(t, parsed.Stale, "the password was right: the phone may retry without asking its user")
	assert.NotEqual(t, nonce, parsed.Nonce)
	assert.Equal(t, "stale_nonce", f.lastOutcome(t).Attrs["outcome"])

	// A stale nonce with a wrong password is a plain challenge, not a 403.
	cred, err = digest.Digest(&digest.Challenge{Realm: "asterisk", Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: "REGISTER", URI: f.client.server.String(), Username: "1001", Password: "wrong", Count: 1})
	require.NoError(t, err)
	req = f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>")
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	res = f.client.do(t, req)
	require.Equal(t, sip.StatusUnauthorized, res.StatusCode, res.String())
	assert.NotContains(t, headerValues(res, "WWW-Authenticate")[0], "stale")
}

func TestRegisterWithANonceFromElsewhereIsChallenged(t *testing.T) {
	f := newFixture(t)
	cred, err := digest.Digest(&digest.Challenge{Realm: "asterisk", Nonce: "1700000000/forged", Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: "REGISTER", URI: f.client.server.String(), Username: "1001", Password: "wrong", Count: 1})
	require.NoError(t, err)
	req := f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>")
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	res := f.client.do(t, req)
	assert.Equal(t, sip.StatusUnauthorized, res.StatusCode, "a wrong password under a nonce we did not issue proves nothing: challenge, not 403")
}

func TestRegisterForAnUnknownUserIsNotFoundWithoutChallenge(t *testing.T) {
	f := newFixture(t)
	res := f.client.do(t, f.client.newRegister("9999", 120, "<sip:9999@127.0.0.1:5099>"))
	assert.Equal(t, sip.StatusNotFound, res.StatusCode, res.String())
	assert.Empty(t, headerValues(res, "WWW-Authenticate"))
	assert.Equal(t, "not_found", f.lastOutcome(t).Attrs["outcome"])
}

func TestRegisterWhileTheSourceIsDownAndNothingIsCachedIsUnavailableNotNotFound(t *testing.T) {
	f := newFixture(t)
	f.endpoints.SetError(fmt.Errorf("connection refused: %w", errors.ErrUnavailable))

	for _, user := range []string{"1001", "9999"} {
		res := f.client.do(t, f.client.newRegister(user, 120, "<sip:"+user+"@127.0.0.1:5099>"))
		assert.Equal(t, sip.StatusServiceUnavailable, res.StatusCode, "user %s: a failure is not an absence", user)
		assert.Equal(t, []string{"30"}, headerValues(res, "Retry-After"))
		out := f.lastOutcome(t)
		assert.Equal(t, "unavailable", out.Attrs["outcome"])
		assert.Equal(t, "failing", out.Attrs["source"])
		assert.Equal(t, "endpoint", out.Attrs["failing_types"])
	}

	f.endpoints.SetError(nil)
	f.auths.SetError(fmt.Errorf("timeout: %w", errors.ErrUnavailable))
	res := f.client.do(t, f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>"))
	assert.Equal(t, sip.StatusServiceUnavailable, res.StatusCode, "the auth cannot be retrieved")
}

func TestRegisterBelowMinimumExpirationIsTooBrief(t *testing.T) {
	f := newFixture(t)
	res := f.client.register(t, f.client.newRegister("1001", 30, "<sip:1001@127.0.0.1:5099>"), "1001", "secret")
	require.Equal(t, sip.StatusIntervalToBrief, res.StatusCode, res.String())
	assert.Equal(t, []string{"60"}, headerValues(res, "Min-Expires"))
	assert.Empty(t, contactsOf(t, f.r, "1001"))

	res = f.client.do(t, f.client.newRegister("1002", -1, "<sip:1002@127.0.0.1:5099>;expires=10"))
	assert.Equal(t, sip.StatusIntervalToBrief, res.StatusCode, "the contact's expires parameter counts too")
}

func TestRegisterAboveMaximumExpirationIsShortened(t *testing.T) {
	f := newFixture(t)
	res := f.client.do(t, f.client.newRegister("1002", 86400, "<sip:1002@127.0.0.1:5099>"))
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Equal(t, []string{"<sip:1002@127.0.0.1:5099>;expires=3600"}, headerValues(res, "Contact"))
	assert.Equal(t, []string{"3600"}, headerValues(res, "Expires"))
}

func TestUnregisterRemovesTheContact(t *testing.T) {
	f := newFixture(t)
	res := f.client.do(t, f.client.newRegister("1002", 120, "<sip:1002@127.0.0.1:5099>", "<sip:1002@127.0.0.1:5098>"))
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	require.Len(t, contactsOf(t, f.r, "1002"), 2)

	res = f.client.do(t, f.client.newRegister("1002", 0, "<sip:1002@127.0.0.1:5099>"))
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Equal(t, []string{"<sip:1002@127.0.0.1:5098>;expires=120"}, headerValues(res, "Contact"), "the other contact remains")
	assert.Equal(t, "unregistered", f.lastOutcome(t).Attrs["outcome"])

	res = f.client.do(t, f.client.newRegister("1002", -1))
	require.Equal(t, sip.StatusOK, res.StatusCode, "a REGISTER without Contact queries the bindings")
	assert.Len(t, headerValues(res, "Contact"), 1)
	assert.Equal(t, "queried", f.lastOutcome(t).Attrs["outcome"])
}

func TestWildcardContactRemovesEveryContactOnlyWithExpiresZero(t *testing.T) {
	f := newFixture(t)
	res := f.client.do(t, f.client.newRegister("1002", 120, "<sip:1002@127.0.0.1:5099>", "<sip:1002@127.0.0.1:5098>"))
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())

	res = f.client.do(t, f.client.newRegister("1002", 60, "*"))
	assert.Equal(t, sip.StatusBadRequest, res.StatusCode, "* with a non-zero Expires")
	res = f.client.do(t, f.client.newRegister("1002", 0, "*", "<sip:1002@127.0.0.1:5099>"))
	assert.Equal(t, sip.StatusBadRequest, res.StatusCode, "* with another contact")
	assert.Len(t, contactsOf(t, f.r, "1002"), 2)

	res = f.client.do(t, f.client.newRegister("1002", 0, "*"))
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Empty(t, headerValues(res, "Contact"))
	assert.Empty(t, contactsOf(t, f.r, "1002"))
}

func TestRegisterBeyondMaxContactsIsForbiddenUnlessRemoveExisting(t *testing.T) {
	f := newFixture(t)
	// 1003: max_contacts=1, remove_existing=no.
	res := f.client.register(t, f.client.newRegister("1003", 120, "<sip:1003@127.0.0.1:5099>"), "1003", "md5-password")
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	res = f.client.register(t, f.client.newRegister("1003", 120, "<sip:1003@127.0.0.1:5098>"), "1003", "md5-password")
	assert.Equal(t, sip.StatusForbidden, res.StatusCode, res.String())

	// 1001: max_contacts=1, remove_existing=yes: the new contact replaces the old.
	res = f.client.register(t, f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>"), "1001", "secret")
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	res = f.client.register(t, f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5098>"), "1001", "secret")
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Equal(t, []string{"<sip:1001@127.0.0.1:5098>;expires=120"}, headerValues(res, "Contact"))
}

func TestRegisterIsRefusedByTheEndpointAndAorConfiguration(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		user   string
		status int
		why    string
	}{
		{"1004", sip.StatusForbidden, "the endpoint has no aors"},
		{"1005", sip.StatusForbidden, "the aor has max_contacts=0"},
		{"1006", sip.StatusInternalServerError, "the endpoint names an auth that does not exist"},
		{"1007", sip.StatusNotFound, "the To user is none of the endpoint's aors"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			res := f.client.register(t, f.client.newRegister(tt.user, 120, "<sip:"+tt.user+"@127.0.0.1:5099>"), "1001", "secret")
			assert.Equal(t, tt.status, res.StatusCode, "%s: %s", tt.why, res.String())
		})
	}
}

func TestRegisterWithAMalformedContactIsABadRequest(t *testing.T) {
	f := newFixture(t)
	res := f.client.do(t, f.client.newRegister("1002", 120, "<sip:1002@127.0.0.1:5099>;expires=soon"))
	assert.Equal(t, sip.StatusBadRequest, res.StatusCode, res.String())
	assert.True(t, strings.Contains(f.lastOutcome(t).Attrs["reason"], "expires"), f.lastOutcome(t).Attrs["reason"])
}

func TestCloseStopsTheRegistrarOnce(t *testing.T) {
	logs := newLogRecorder(t)
	m := memory.New()
	s := sorcery.New(&sorcery.Options{Logger: logs.logger()})
	defer s.Close()
	ts, err := pjsip.Register(s)
	require.NoError(t, err)
	for _, add := range []func() error{
		func() error { return ts.Endpoints.AddWizard("memory", m, nil) },
		func() error { return ts.Auths.AddWizard("memory", m, nil) },
		func() error { return ts.Aors.AddWizard("memory", m, nil) },
	} {
		require.NoError(t, add())
	}
	r, err := New(Sources{ts.Endpoints, ts.Auths, ts.Aors, memoryContacts(t, s)}, &Options{Logger: logs.logger()})
	require.NoError(t, err)
	udp, err := r.Listen("udp", "127.0.0.1:0")
	require.NoError(t, err)
	tcp, err := r.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)

	require.NoError(t, r.Close())
	assert.ErrorIs(t, r.Close(), errors.ErrClosed)
	_, err = r.Listen("udp", "127.0.0.1:0")
	assert.ErrorIs(t, err, errors.ErrClosed)

	// The sockets are released.
	c, err := net.ListenPacket("udp", udp.String())
	require.NoError(t, err, "the UDP port is free again")
	c.Close()
	l, err := net.Listen("tcp", tcp.String())
	require.NoError(t, err, "the TCP port is free again")
	l.Close()
}

func TestNewRejectsMissingSources(t *testing.T) {
	_, err := New(Sources{}, nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestRegisterOverTCP(t *testing.T) {
	f := newFixture(t)
	addr, err := f.r.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := newSIPClient(t, addr)
	c.server.UriParams = sip.NewParams()
	c.server.UriParams.Add("transport", "tcp")
	req := c.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099;transport=tcp>")
	req.AppendHeader(sip.NewHeader("Content-Length", "0"))
	res := c.register(t, req, "1001", "secret")
	require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Equal(t, "TCP", res.Transport(), "answered over TCP")
	assert.Equal(t, []string{"<sip:1001@127.0.0.1:5099;transport=tcp>;expires=120"}, headerValues(res, "Contact"))
}

func TestCloseCancelsLookupsInFlightAndAnswersThem(t *testing.T) {
	f := newFixture(t)
	f.endpoints.SetDelay(time.Minute) // a source that hangs

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type answer struct {
		res *sip.Response
		err error
	}
	answered := make(chan answer, 1)
	go func() { // ends with the answer, or with ctx
		res, err := f.client.c.Do(ctx, f.client.newRegister("1001", 120, "<sip:1001@127.0.0.1:5099>"))
		answered <- answer{res, err}
	}()
	require.Eventually(t, func() bool { return f.endpoints.Calls().Retrieve > 0 }, 5*time.Second, time.Millisecond, "the lookup is in flight")

	start := time.Now()
	require.NoError(t, f.r.Close())
	assert.Less(t, time.Since(start), time.Second, "Close does not wait for the source")
	a := <-answered
	require.NoError(t, a.err, "the request in flight is answered")
	assert.Equal(t, sip.StatusServiceUnavailable, a.res.StatusCode, "the request cut short is answered 503")
	assert.Equal(t, []string{"30"}, headerValues(a.res, "Retry-After"))
}
