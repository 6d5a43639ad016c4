// Command quickstart shows why gosorcery exists, on embedded parts only: PJSIP objects come
// from a local pjsip.conf and from an HTTP provisioning service (Asterisk's res_config_curl
// protocol) through a memory cache; the service goes down, and every object that was being
// served keeps being served, while a failure is never mistaken for "no such user".
//
//	go run ./examples/quickstart
//
// During the outage it serves the operator's page of sorcery/sorceryhttp on a loopback port
// and prints its address; -hold 2m keeps the outage going two minutes to look at it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	sorceryerrors "github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryhttp"
	"github.com/gosorcery/gosorcery/sorcery/sorceryprom"
)

// Endpoint, Auth and Aor are PJSIP objects, reduced to a few of Asterisk's options.
type Endpoint struct {
	ID      string   `sorcery:"id"`
	Context string   `sorcery:"context,default=default"`
	Allow   []string `sorcery:"allow"`
	Auth    string   `sorcery:"auth"`
	Aors    []string `sorcery:"aors"`
}

type Auth struct {
	ID       string `sorcery:"id"`
	Username string `sorcery:"username"`
	Password string `sorcery:"password"`
}

type Aor struct {
	ID          string `sorcery:"id"`
	MaxContacts int    `sorcery:"max_contacts,default=1"`
}

// The local file: a lobby phone that does not depend on the provisioning service.
const pjsipConf = `; local objects, read by the config wizard
[lobby]
type=endpoint
context=lobby
allow=ulaw
auth=lobby
aors=lobby

[lobby]
type=auth
username=lobby
password=l0bby

[lobby]
type=aor
max_contacts=1
`

// sorcery.conf maps each type to the file, then a cache, then the provisioning service.
// object_lifetime_stale is one second so that the demo runs in seconds; production uses
// minutes, and a lifetime maximum of hours or days.
const sorceryConf = `[res_pjsip]
endpoint = config,pjsip.conf,criteria=type=endpoint
endpoint/cache = memory_cache,object_lifetime_stale=1,object_lifetime_maximum=3600
endpoint = curl,%[1]s/endpoint
auth = config,pjsip.conf,criteria=type=auth
auth/cache = memory_cache,object_lifetime_stale=1,object_lifetime_maximum=3600
auth = curl,%[1]s/auth
aor = config,pjsip.conf,criteria=type=aor
aor/cache = memory_cache,object_lifetime_stale=1,object_lifetime_maximum=3600
aor = curl,%[1]s/aor
`

const stale = time.Second

func main() {
	hold := flag.Duration("hold", 0, "keep the provisioning service down this long at step 3, with the operator's page up, to look at it")
	flag.Parse()
	if err := run(os.Stdout, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// provisioning is an in-process provisioning service: res_config_curl over memory wizards.
type provisioning struct {
	addr    string
	stores  map[string]*memory.Wizard
	handler http.Handler
	srv     *http.Server
	done    chan struct{}
}

func newProvisioning() *provisioning {
	p := &provisioning{stores: map[string]*memory.Wizard{}}
	mux := http.NewServeMux()
	for _, typ := range []string{"endpoint", "auth", "aor"} {
		w := memory.New()
		p.stores[typ] = w
		mux.Handle("/"+typ+"/", http.StripPrefix("/"+typ, curl.NewHandler(w, nil)))
	}
	p.handler = mux
	return p
}

// start serves on addr ("127.0.0.1:0" picks a port; later starts reuse it).
func (p *provisioning) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: p.handler, ReadHeaderTimeout: 5 * time.Second}
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.srv.Serve(ln)
	}()
	return nil
}

func (p *provisioning) stop() {
	p.srv.Close()
	<-p.done
}

func (p *provisioning) put(typ, id string, kv ...string) {
	r := sorcery.Record{ID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Fields.Add(kv[i], kv[i+1])
	}
	p.stores[typ].Put(r)
}

// operatorView serves the operator's page and API (sorcery/sorceryhttp) on a loopback port,
// mounted under /debug/sorcery/ as a program would mount it behind its authentication.
type operatorView struct {
	url  string
	srv  *http.Server
	done chan struct{}
}

func serveOperatorView(s *sorcery.Sorcery) (*operatorView, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/sorcery/", http.StripPrefix("/debug/sorcery", sorceryhttp.New(s, nil)))
	v := &operatorView{
		url:  "http://" + ln.Addr().String() + "/debug/sorcery/",
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(v.done)
		v.srv.Serve(ln)
	}()
	return v, nil
}

func (v *operatorView) stop() {
	v.srv.Close()
	<-v.done
}

// extended asks the operator's API which objects of a cache are served past a failed
// refresh.
func (v *operatorView) extended(typeName, cacheName string) ([]string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(v.url + "api/types/" + typeName + "/caches/" + cacheName + "/entries?state=extended&limit=1000")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("operator's view: %s", res.Status)
	}
	var page struct {
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range page.Entries {
		ids = append(ids, e.ID)
	}
	return ids, nil
}

// run tells the story to out. hold keeps the outage going that long at step 3, with the
// operator's page up, for a person to look at it; zero does not wait.
func run(out io.Writer, hold time.Duration) error {
	ctx := context.Background()
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	// 1. The provisioning service, with two users.
	prov := newProvisioning()
	for _, u := range []struct{ id, pass string }{{"alice", "Wh1te-Rabbit"}, {"bob", "CanWeFixIt"}} {
		prov.put("endpoint", u.id, "context", "from-internal", "allow", "opus", "allow", "ulaw", "auth", u.id, "aors", u.id)
		prov.put("auth", u.id, "username", u.id, "password", u.pass)
		prov.put("aor", u.id, "max_contacts", "2")
	}
	if err := prov.start("127.0.0.1:0"); err != nil {
		return err
	}
	defer func() { prov.stop() }()
	base := "http://" + prov.addr
	say("1. provisioning service up at %s (res_config_curl protocol): alice, bob", base)

	// 2. Asterisk's own files: sorcery.conf and pjsip.conf.
	dir, err := os.MkdirTemp("", "gosorcery-quickstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "pjsip.conf"), []byte(pjsipConf), 0o600); err != nil {
		return err
	}
	sorceryPath := filepath.Join(dir, "sorcery.conf")
	if err := os.WriteFile(sorceryPath, fmt.Appendf(nil, sorceryConf, base), 0o600); err != nil {
		return err
	}
	s := sorcery.New(&sorcery.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Wizards: map[string]sorcery.WizardFactory{
			"config": config.Factory(&config.Options{Dir: dir}),
			"curl":   curl.Factory(&curl.Options{Timeout: time.Second}),
		},
	})
	defer s.Close()
	endpoints, err := sorcery.Register[Endpoint](s, "endpoint", &sorcery.TypeOptions[Endpoint]{IgnoreUnknown: true})
	if err != nil {
		return err
	}
	auths, err := sorcery.Register[Auth](s, "auth", &sorcery.TypeOptions[Auth]{IgnoreUnknown: true})
	if err != nil {
		return err
	}
	if _, err := sorcery.Register[Aor](s, "aor", &sorcery.TypeOptions[Aor]{IgnoreUnknown: true}); err != nil {
		return err
	}
	if err := s.ApplyConfig(sorceryPath, "res_pjsip"); err != nil {
		return err
	}
	say("2. sorcery.conf: each type is pjsip.conf → memory_cache (stale after %v) → curl", stale)
	view, err := serveOperatorView(s)
	if err != nil {
		return err
	}
	defer view.stop()

	showAuth := func(id string) {
		a, found, err := auths.Retrieve(ctx, id)
		switch {
		case found:
			say("   auth %-6s → password %q", id, a.Password)
		case err != nil:
			say("   auth %-6s → unknown, and the source is failing (unavailable=%v): answer 503, not 404",
				id, sorceryerrors.Is(err, sorceryerrors.ErrUnavailable))
		default:
			say("   auth %-6s → no such user: answer 404", id)
		}
	}
	for _, id := range []string{"alice", "lobby"} {
		ep, _, err := endpoints.Retrieve(ctx, id)
		if err != nil {
			return err
		}
		say("   endpoint %-6s → context=%s allow=%s", id, ep.Context, strings.Join(ep.Allow, ","))
	}
	showAuth("alice")
	showAuth("bob")
	showAuth("mallory")

	// 3. The outage.
	prov.stop()
	say("3. the provisioning service goes down")
	showAuth("alice")
	time.Sleep(stale + stale/2)
	say("   %v later alice is stale: the refresh fails, the cache keeps her and extends her life", stale+stale/2)
	showAuth("alice") // served stale; its background refresh fails
	waitFor(func() bool { return auths.Cache().Stats().Extended > 0 }, 5*time.Second)
	showAuth("alice")
	showAuth("bob")
	showAuth("carol")
	st := auths.Cache().Stats()
	say("   auth cache: %d objects, %d served past a failed refresh, %d refreshes failed", st.Objects, st.Extended, st.RefreshErrors)
	ids, err := view.extended("auth", "cache")
	if err != nil {
		return err
	}
	say("   operator's view at %s: a red line on auth/cache; served past a failed refresh: %s", view.url, strings.Join(ids, ", "))
	if hold > 0 {
		say("   holding the outage for %v: open the address above", hold)
		time.Sleep(hold)
	}

	// 4. A change at the source arrives when the service is back.
	prov.put("auth", "alice", "username", "alice", "password", "N3w-Passw0rd")
	if err := prov.start(prov.addr); err != nil {
		return err
	}
	say("4. alice's password changes at the source, and the service comes back")
	// Within a stale period alice is due for a refresh: a read serves her as she is and
	// refreshes her in the background; a later read has the new password.
	var a Auth
	waitFor(func() bool {
		a, _, _ = auths.Retrieve(ctx, "alice")
		return a.Password == "N3w-Passw0rd"
	}, 10*time.Second)
	showAuth("alice")
	if a.Password != "N3w-Passw0rd" {
		return errors.New("the change did not arrive")
	}

	// 5. The numbers that told the story, as Prometheus would scrape them.
	say("5. metrics of the auth type (sorceryprom), non-zero ones")
	reg := prometheus.NewRegistry()
	reg.MustRegister(sorceryprom.NewCollector(s, nil))
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, mf := range mfs {
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels, isAuth := formatLabels(m.GetLabel())
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			if isAuth && v != 0 && !strings.Contains(mf.GetName(), "age_seconds") {
				say("   %s{%s} %g", mf.GetName(), labels, v)
			}
		}
	}
	return nil
}

// formatLabels writes labels as Prometheus does, leaving out type="auth", and reports
// whether the metric is of the auth type.
func formatLabels(ls []*dto.LabelPair) (string, bool) {
	var parts []string
	isAuth := false
	for _, l := range ls {
		if l.GetName() == "type" {
			isAuth = l.GetValue() == "auth"
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return strings.Join(parts, ","), isAuth
}

// waitFor polls cond every quarter second until it holds or timeout passes.
func waitFor(cond func() bool, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
}
