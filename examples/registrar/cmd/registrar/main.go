// Command registrar runs the example SIP registrar of package examples/registrar: phones
// register with MD5 digest authentication against PJSIP endpoints, auths and AORs read from
// an HTTP provisioning service speaking Asterisk's res_config_curl protocol, through a memory
// cache that keeps serving them — and keeps phones registering — while the service is down.
//
//	registrar -provisioning http://127.0.0.1:8088
//	registrar -demo 10
//	registrar -demo 10 -name reg1 -db postgres://db.example/asterisk -http :8080
//
// The provisioning service serves the types under <url>/ps_endpoints, <url>/ps_auths and
// <url>/ps_aors. With -demo N, the command starts its own provisioning service on loopback
// with users 1001… and passwords secret1001…, and prints a sipp command to try it with.
// -cache takes the options of an Asterisk memory_cache mapping line.
//
// Registered contacts are kept in Asterisk's ps_contacts table (-table) of the database -db:
// an embedded SQLite file by default (sqlite:registrar-contacts.db), or a PostgreSQL URL
// shared by a cluster of registrars, each with its own -name (recorded as reg_server). Every
// instance answers "where is AOR X registered" on -http (GET /aors/X) from its cache, which
// push invalidation keeps fresh: with PostgreSQL, -bus pgnotify (the default there) installs
// a trigger on the table and LISTENs; -bus nats://… or redis://… publishes each change this
// instance makes and subscribes to the others'. SIGINT or SIGTERM stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/examples/registrar"
	"github.com/gosorcery/gosorcery/sorcery"
)

// config is what the command line says.
type config struct {
	provisioning string        // base URL of the provisioning service
	demo         int           // users of the embedded provisioning service; 0: none
	listen       []string      // network:address pairs
	cache        string        // memory_cache options
	timeout      time.Duration // of one request to the provisioning service
	realm        string
	debug        bool

	name  string // reg_server
	db    string // contacts database: sqlite:<file> or a postgres:// URL; empty: SQLite in memory
	table string // the contacts table; empty: ps_contacts
	bus   string // pgnotify, nats://…, redis://…, none; empty: pgnotify with PostgreSQL
	http  string // look-up address; empty: none
}

func main() {
	var cfg config
	var listen string
	flag.StringVar(&cfg.provisioning, "provisioning", "", "base `URL` of the provisioning service (types under /ps_endpoints, /ps_auths, /ps_aors)")
	flag.IntVar(&cfg.demo, "demo", 0, "start an embedded provisioning service on loopback with `N` users (1001…, password secret<user>)")
	flag.StringVar(&listen, "listen", "udp:127.0.0.1:5060,tcp:127.0.0.1:5060", "comma-separated `network:address` pairs to serve SIP on (udp, tcp)")
	flag.StringVar(&cfg.cache, "cache", "object_lifetime_stale=60,object_lifetime_maximum=86400,negative_lifetime=30",
		"`options` of the memory cache in front of the provisioning service, as on a sorcery.conf memory_cache line")
	flag.DurationVar(&cfg.timeout, "timeout", 2*time.Second, "bound on one request to the provisioning service")
	flag.StringVar(&cfg.realm, "realm", "asterisk", "realm of auths that have none")
	flag.BoolVar(&cfg.debug, "debug", false, "log challenges and cache details too")
	host, _ := os.Hostname()
	flag.StringVar(&cfg.name, "name", host, "this registrar's `name`, recorded as reg_server with its contacts")
	flag.StringVar(&cfg.db, "db", "sqlite:registrar-contacts.db", "contacts `database`: sqlite:<file>, or a postgres:// URL shared by a cluster")
	flag.StringVar(&cfg.table, "table", "ps_contacts", "contacts `table` (created when missing)")
	flag.StringVar(&cfg.bus, "bus", "", "invalidation `bus` of a cluster: pgnotify (the default with PostgreSQL), nats://host:4222, redis://host:6379, or none")
	flag.StringVar(&cfg.http, "http", "127.0.0.1:8080", "`address` of the look-up endpoint GET /aors/{aor}; empty for none")
	flag.Parse()
	cfg.listen = strings.Split(listen, ",")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "registrar:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, cfg config, logTo io.Writer) error {
	level := slog.LevelInfo
	if cfg.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: level}))

	var d *demo
	var toggle chan os.Signal // SIGUSR1 toggles the demo provisioning service; nil without one
	if cfg.demo > 0 {
		var err error
		if d, err = startDemo(cfg.demo, log); err != nil {
			return err
		}
		defer d.close()
		cfg.provisioning = d.url()
		toggle = make(chan os.Signal, 1)
		signal.Notify(toggle, syscall.SIGUSR1)
		defer signal.Stop(toggle)
	}
	if cfg.provisioning == "" {
		return errors.New("-provisioning URL or -demo N is required")
	}
	cacheOpts, err := cache.ParseOptions(cfg.cache)
	if err != nil {
		return err
	}

	health := &registrar.SourceHealth{}
	s := sorcery.New(&sorcery.Options{Logger: log, Hooks: sorcery.Hooks{WizardCall: health.WizardCall}})
	defer s.Close()
	ts, err := pjsip.Register(s)
	if err != nil {
		return err
	}
	if err := ts.AddProvisioning(cfg.provisioning, cacheOpts, &curl.Options{Timeout: cfg.timeout}); err != nil {
		return err
	}

	contacts, closeContacts, err := openContacts(ctx, cfg, s, log)
	if err != nil {
		return err
	}
	defer closeContacts()

	reg, err := registrar.New(registrar.Sources{Endpoints: ts.Endpoints, Auths: ts.Auths, Aors: ts.Aors, Contacts: contacts},
		&registrar.Options{Logger: log, Health: health, DefaultRealm: cfg.realm, Name: cfg.name})
	if err != nil {
		return err
	}
	defer reg.Close()
	if cfg.http != "" {
		stopHTTP, err := serveLookups(cfg.http, reg, log)
		if err != nil {
			return err
		}
		defer stopHTTP()
	}
	hinted := false
	for _, l := range cfg.listen {
		network, addr, ok := strings.Cut(strings.TrimSpace(l), ":")
		if !ok {
			return fmt.Errorf("-listen %q: want network:address, such as udp:127.0.0.1:5060", l)
		}
		a, err := reg.Listen(network, addr)
		if err != nil {
			return err
		}
		log.Info("registrar: listening", "network", network, "addr", a.String())
		if d != nil && strings.HasPrefix(network, "udp") && !hinted {
			d.hint(a.String())
			hinted = true
		}
	}
	log.Info("registrar: objects from the provisioning service", "url", cfg.provisioning, "cache", cfg.cache)
	for {
		select {
		case <-ctx.Done():
			log.Info("registrar: stopping")
			return nil
		case <-toggle:
			d.toggle()
		}
	}
}

// demo is a provisioning service on loopback serving demo users from memory, which SIGUSR1
// stops and starts again on the same address.
type demo struct {
	ws    pjsip.Wizards
	addr  string
	log   *slog.Logger
	users int
	inf   string // the sipp injection file of the users
	dir   string // holds inf

	srv  *http.Server
	done chan struct{} // closed when srv's Serve returns
}

// startDemo starts a demo provisioning service with users users and writes a sipp injection
// file for them.
func startDemo(users int, log *slog.Logger) (*demo, error) {
	d := &demo{ws: pjsip.Wizards{Endpoints: memory.New(), Auths: memory.New(), Aors: memory.New()}, addr: "127.0.0.1:0", log: log, users: users}
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for i := range users {
		user := strconv.Itoa(1001 + i)
		ep, auth, aor := pjsip.UserRecords(user, "secret"+user)
		d.ws.Endpoints.(*memory.Wizard).Put(ep)
		d.ws.Auths.(*memory.Wizard).Put(auth)
		d.ws.Aors.(*memory.Wizard).Put(aor)
		fmt.Fprintf(&csv, "%s;[authentication username=%s password=secret%s]\n", user, user, user)
	}
	dir, err := os.MkdirTemp("", "registrar-demo-")
	if err != nil {
		return nil, err
	}
	d.dir, d.inf = dir, filepath.Join(dir, "users.csv")
	if err := os.WriteFile(d.inf, []byte(csv.String()), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := d.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	log.Info("demo: provisioning service started", "url", d.url(), "users", fmt.Sprintf("1001…%d", 1000+users), "passwords", "secret<user>")
	return d, nil
}

// hint logs how to register the demo users at the registrar's address and how to stop and
// start the provisioning service.
func (d *demo) hint(registrar string) {
	d.log.Info(fmt.Sprintf("demo: register the users with: sipp %s -sf examples/registrar/testdata/register.xml -inf %s -key expires 120 -m %d -i 127.0.0.1",
		registrar, d.inf, d.users))
	d.log.Info(fmt.Sprintf("demo: stop and start the provisioning service with: kill -USR1 %d", os.Getpid()))
}

// close stops the service and removes the injection file.
func (d *demo) close() {
	d.stop()
	os.RemoveAll(d.dir)
}

func (d *demo) url() string { return "http://" + d.addr }

// start serves on d.addr: a free port the first time, the same port after.
func (d *demo) start() error {
	l, err := net.Listen("tcp", d.addr)
	if err != nil {
		return fmt.Errorf("demo provisioning service: %w", err)
	}
	d.addr = l.Addr().String()
	d.srv = &http.Server{Handler: pjsip.NewProvisioningHandler(d.ws, nil), ReadHeaderTimeout: 5 * time.Second}
	d.done = make(chan struct{})
	srv, done := d.srv, d.done
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("demo: provisioning service stopped", "err", err)
		}
	}()
	return nil
}

// stop closes the service and its connections and waits for it; a stopped service stays so.
func (d *demo) stop() {
	if d.srv == nil {
		return
	}
	d.srv.Close()
	<-d.done
	d.srv, d.done = nil, nil
}

// toggle stops a running service and starts a stopped one.
func (d *demo) toggle() {
	if d.srv != nil {
		d.stop()
		d.log.Warn("demo: provisioning service STOPPED: registrations go on from the cache", "url", d.url())
		return
	}
	if err := d.start(); err != nil {
		d.log.Error("demo: provisioning service could not start again", "err", err)
		return
	}
	d.log.Warn("demo: provisioning service STARTED again", "url", d.url())
}
