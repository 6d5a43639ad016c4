package registrar

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/sorcery"
)

// provisioningService is an HTTP provisioning service speaking res_config_curl on loopback:
// curl.NewHandler over memory wizards, one per type. It can be stopped and started again
// on the same address, as a real one goes down and comes back.
type provisioningService struct {
	t         *testing.T
	endpoints *memory.Wizard
	auths     *memory.Wizard
	aors      *memory.Wizard
	addr      string

	mu   sync.Mutex // guards srv and done
	srv  *http.Server
	done chan struct{} // closed when srv's Serve returns
}

func newProvisioningService(t *testing.T) *provisioningService {
	p := &provisioningService{t: t, endpoints: memory.New(), auths: memory.New(), aors: memory.New(), addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *provisioningService) url() string { return "http://" + p.addr }

// addUser stores the records of a phone user at the source.
func (p *provisioningService) addUser(name, password string) {
	ep, auth, aor := pjsip.UserRecords(name, password)
	p.endpoints.Put(ep)
	p.auths.Put(auth)
	p.aors.Put(aor)
}

// start serves on p.addr (a free port the first time, the same port after).
func (p *provisioningService) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Nil(p.t, p.srv, "the provisioning service is already running")
	l, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err, "listening on %s", p.addr)
	p.addr = l.Addr().String()
	ws := pjsip.Wizards{Endpoints: p.endpoints, Auths: p.auths, Aors: p.aors}
	p.srv = &http.Server{Handler: pjsip.NewProvisioningHandler(ws, nil), ReadHeaderTimeout: 5 * time.Second}
	p.done = make(chan struct{})
	srv, done := p.srv, p.done
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.t.Errorf("provisioning service: %v", err)
		}
	}()
}

// stop closes the listener and every connection, as a crashed service would, and waits for
// the server to stop. Stopping a stopped service does nothing.
func (p *provisioningService) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	p.srv.Close()
	<-p.done
	p.srv, p.done = nil, nil
}

// The registrar keeps registering phones, with a real SIP client, while the provisioning
// service its objects come from is down: a cache with a short stale period in front of a
// curl wizard keeps serving the endpoints, auths and AORs, and extends their lives, past
// several stale periods. Meanwhile an unknown user is refused at once — 404 when the cache
// remembers that the user does not exist, 503 when it knows nothing and cannot ask — and
// when the service comes back, a password changed there takes effect within a stale period.
func TestRegistrarKeepsRegisteringThroughProvisioningOutageWithSipp(t *testing.T) {
	const (
		users = 20
		stale = time.Second
	)
	sippPath := lookSipp(t)
	start := time.Now()

	prov := newProvisioningService(t)
	var all []user
	for i := range users {
		u := user{name: strconv.Itoa(1001 + i), password: fmt.Sprintf("secret-%d", 1001+i)}
		prov.addUser(u.name, u.password)
		all = append(all, u)
	}

	logs := newLogRecorder(t)
	health := &SourceHealth{}
	s := sorcery.New(&sorcery.Options{Logger: logs.logger(), Hooks: sorcery.Hooks{WizardCall: health.WizardCall}})
	t.Cleanup(func() { s.Close() })
	ts, err := pjsip.Register(s)
	require.NoError(t, err)
	require.NoError(t, ts.AddProvisioning(prov.url(),
		&cache.Options{LifetimeStale: stale, LifetimeMaximum: 24 * time.Hour, NegativeLifetime: time.Minute, RefreshTimeout: 5 * time.Second},
		// Generous bounds for a busy machine under the race detector: a stopped service
		// refuses connections at once anyway.
		&curl.Options{Timeout: 5 * time.Second}))

	reg, err := New(Sources{Endpoints: ts.Endpoints, Auths: ts.Auths, Aors: ts.Aors, Contacts: memoryContacts(t, s)},
		&Options{Logger: logs.logger(), Health: health, LookupTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	addr, err := reg.Listen("udp", "127.0.0.1:0")
	require.NoError(t, err)
	sp := newSipp(t, sippPath, addr)

	// The provisioning service is up: every user registers.
	res := sp.run(t, sippRun{scenario: "register.xml", users: all, calls: users, rate: 50})
	require.Equal(t, 0, res.exitCode, "sipp exit code, service up")
	require.Equal(t, users, res.successful, "registrations, service up")
	for _, u := range all {
		assert.Len(t, contactsOf(t, reg, u.name), 1, "contacts of %s", u.name)
	}
	res = sp.run(t, sippRun{scenario: "register_not_found.xml", users: []user{{"9999", "none"}}, calls: 1})
	require.Equal(t, 0, res.exitCode, "an unknown user is refused with 404 while the service is up")

	// The provisioning service goes down.
	prov.stop()
	down := time.Now()
	t.Logf("=== provisioning service stopped at +%v", down.Sub(start).Round(time.Millisecond))

	// Every user keeps registering, again and again, for four stale periods and more.
	const outageCalls = 5 * users
	outageRate := float64(users) / stale.Seconds() // each user once per stale period
	res = sp.run(t, sippRun{scenario: "register.xml", users: all, calls: outageCalls, rate: outageRate, timeout: 20 * time.Second})
	assert.Equal(t, 0, res.exitCode, "sipp exit code during the outage")
	assert.Equal(t, outageCalls, res.successful, "registrations during the outage")
	assert.Zero(t, res.failed, "failed registrations during the outage")
	assert.Len(t, answeredCalls(t, filepath.Join(res.dir, "messages.log"), "SIP/2.0 200 OK"), outageCalls, "calls answered 200 OK in sipp's message trace during the outage")
	outageFor := time.Since(down)
	assert.GreaterOrEqual(t, outageFor, 4*stale, "the outage lasted several stale periods")

	var registered, fromCache int
	var last time.Time
	for _, rec := range logs.registers() {
		if rec.Time.Before(down) || rec.Attrs["outcome"] != "registered" {
			continue
		}
		registered++
		if rec.Attrs["served_from_cache"] == "true" {
			fromCache++
			last = rec.Time
		}
	}
	assert.Equal(t, outageCalls, registered, "registrations logged during the outage")
	assert.GreaterOrEqual(t, fromCache, outageCalls/2, "registrations logged as served from the cache while the source failed")
	assert.GreaterOrEqual(t, last.Sub(down), 3*stale, "registrations were still served from the cache three stale periods into the outage")
	failing, _ := health.Failing()
	assert.Equal(t, []string{"aor", "auth", "endpoint"}, failing, "every type's source is failing")
	for _, c := range []struct {
		name string
		st   cache.Stats
	}{{"endpoint", ts.Endpoints.Cache().Stats()}, {"auth", ts.Auths.Cache().Stats()}, {"aor", ts.Aors.Cache().Stats()}} {
		name, st := c.name, c.st
		assert.Positive(t, st.RefreshErrors, "%s cache: refreshes from the provisioning service failed", name)
		assert.Positive(t, st.ServedExtended, "%s cache: objects served past a failed refresh", name)
		assert.Equal(t, users, st.Extended, "%s cache: every object lives on an extension", name)
		t.Logf("=== %s cache: %d objects extended, %d refreshes failed, %d served past a failed refresh", name, st.Extended, st.RefreshErrors, st.ServedExtended)
	}
	t.Logf("=== %d registrations in %v of outage, %d logged as served from the cache while the source failed",
		registered, outageFor.Round(time.Millisecond), fromCache)

	// An unknown user is refused at once: 404 when the cache remembers that it does not
	// exist, 503 when nothing is known and the source cannot be asked — never a 404 then.
	res = sp.run(t, sippRun{scenario: "register_not_found.xml", users: []user{{"9999", "none"}}, calls: 1})
	assert.Equal(t, 0, res.exitCode, "a user known not to exist is refused with 404 during the outage")
	assert.Less(t, res.took, time.Second, "refused promptly")
	res = sp.run(t, sippRun{scenario: "register_unavailable.xml", users: []user{{"8888", "none"}}, calls: 1})
	assert.Equal(t, 0, res.exitCode, "a user never seen is answered 503 during the outage")
	assert.Less(t, res.took, time.Second, "answered promptly")

	// A password changes at the source while it is down; the service comes back.
	oldPassword := all[0].password
	all[0].password = "changed-" + oldPassword
	_, auth, _ := pjsip.UserRecords(all[0].name, all[0].password)
	prov.auths.Put(auth)
	prov.start()
	up := time.Now()
	t.Logf("=== provisioning service back at +%v with a new password for %s", up.Sub(start).Round(time.Millisecond), all[0].name)

	// Within one stale period, the new password is accepted...
	// The deadline leaves a second beyond the stale period for sipp's own starts on a busy
	// machine; the time measured is logged.
	deadline := up.Add(stale + time.Second)
	var accepted time.Duration
	for attempt := 1; ; attempt++ {
		res = sp.run(t, sippRun{scenario: "register.xml", users: all[:1], calls: 1, mayFail: true})
		if res.exitCode == 0 {
			accepted = time.Since(up)
			t.Logf("=== new password accepted %v after the service came back (attempt %d)", accepted.Round(time.Millisecond), attempt)
			break
		}
		require.True(t, time.Now().Before(deadline), "the new password was not accepted within %v of the service coming back", deadline.Sub(up))
	}
	// ...the old one is refused...
	res = sp.run(t, sippRun{scenario: "register_forbidden.xml", users: []user{{all[0].name, oldPassword}}, calls: 1})
	assert.Equal(t, 0, res.exitCode, "the old password is refused with 403")
	// ...and everyone still registers, from a source that answers again.
	res = sp.run(t, sippRun{scenario: "register.xml", users: all, calls: users, rate: 50})
	assert.Equal(t, 0, res.exitCode, "sipp exit code, service back")
	assert.Equal(t, users, res.successful, "registrations, service back")
	assert.Eventually(t, func() bool { f, _ := health.Failing(); return len(f) == 0 }, 2*stale, 10*time.Millisecond, "the sources answer again")
	t.Logf("=== done in %v", time.Since(start).Round(time.Millisecond))
}

// answeredCalls returns the Call-IDs of the responses with the given status line in a sipp
// message trace (-trace_msg), each once: a response retransmitted counts once.
func answeredCalls(t *testing.T, path, statusLine string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	calls := map[string]bool{}
	inResponse := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "SIP/2.0 "):
			inResponse = line == statusLine
		case inResponse && strings.HasPrefix(strings.ToLower(line), "call-id:"):
			calls[strings.TrimSpace(line[len("call-id:"):])] = true
			inResponse = false
		}
	}
	return calls
}
