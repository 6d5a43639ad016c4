package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver, "pgx"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite" // the SQLite driver, "sqlite"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/examples/registrar"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/invalidate/natsbus"
	"github.com/gosorcery/gosorcery/invalidate/pgnotify"
	"github.com/gosorcery/gosorcery/invalidate/redisbus"
	"github.com/gosorcery/gosorcery/sorcery"
)

// openContacts opens the contacts database of cfg, creates the table when it is missing,
// registers the contact type with s and connects it to the cluster's invalidation bus. The
// func it returns closes all that, in order.
func openContacts(ctx context.Context, cfg config, s *sorcery.Sorcery, log *slog.Logger) (*registrar.Contacts, func(), error) {
	var closers []func() error
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				log.Warn("registrar: closing", "err", err)
			}
		}
	}
	fail := func(err error) (*registrar.Contacts, func(), error) {
		closeAll()
		return nil, nil, err
	}

	driver, dsn, dialect := "sqlite", "file:registrar-contacts?mode=memory&cache=shared", sqldb.SQLite
	switch {
	case cfg.db == "":
	case strings.HasPrefix(cfg.db, "sqlite:"):
		dsn = "file:" + strings.TrimPrefix(cfg.db, "sqlite:") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	case strings.HasPrefix(cfg.db, "postgres://"), strings.HasPrefix(cfg.db, "postgresql://"):
		driver, dsn, dialect = "pgx", cfg.db, sqldb.PostgreSQL
	default:
		return nil, nil, fmt.Errorf("-db %q: want sqlite:<file> or a postgres:// URL", cfg.db)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	db.SetMaxIdleConns(8) // database/sql keeps 2: a burst of REGISTERs would reconnect
	closers = append(closers, db.Close)
	table := cfg.table
	if table == "" {
		table = pjsip.TableContacts
	}
	setup, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := registrar.CreateContactsTable(setup, db, dialect, table); err != nil {
		return fail(err)
	}
	contacts, err := registrar.OpenContacts(setup, s, db, &registrar.ContactsOptions{Table: table})
	if err != nil {
		return fail(err)
	}
	closers = append(closers, contacts.Close)

	bus := cfg.bus
	if bus == "" && dialect == sqldb.PostgreSQL {
		bus = "pgnotify"
	}
	opts := invalidate.SourceOptions{Types: []string{pjsip.TypeContact}, Logger: log}
	var src *invalidate.Source
	switch {
	case bus == "" || bus == "none":
		log.Info("registrar: contacts", "db", dialect, "table", table, "bus", "none")
		return contacts, closeAll, nil
	case bus == "pgnotify":
		if dialect != sqldb.PostgreSQL {
			return fail(errors.New("-bus pgnotify needs a PostgreSQL -db"))
		}
		if err := pgnotify.Install(setup, db, pgnotify.DefaultChannel, pgnotify.Table{Name: table, Type: pjsip.TypeContact}); err != nil {
			return fail(fmt.Errorf("installing the notify trigger on %s: %w", table, err))
		}
		src, err = pgnotify.NewSource(cfg.db, contacts, &pgnotify.Options{SourceOptions: opts})
	case strings.HasPrefix(bus, "nats://"):
		nc, err := nats.Connect(bus, nats.MaxReconnects(-1))
		if err != nil {
			return fail(fmt.Errorf("-bus: %w", err))
		}
		closers = append(closers, func() error { nc.Close(); return nil })
		pub, err := natsbus.NewPublisher(nc, nil)
		if err != nil {
			return fail(err)
		}
		closers = append(closers, announce(contacts, pub, log))
		src, err = natsbus.NewSource(bus, contacts, &natsbus.Options{SourceOptions: opts})
		if err != nil {
			return fail(err)
		}
	case strings.HasPrefix(bus, "redis://"):
		ro, err := redis.ParseURL(bus)
		if err != nil {
			return fail(fmt.Errorf("-bus: %w", err))
		}
		rc := redis.NewClient(ro)
		closers = append(closers, rc.Close)
		pub, err := redisbus.NewPublisher(rc, nil)
		if err != nil {
			return fail(err)
		}
		closers = append(closers, announce(contacts, pub, log))
		src, err = redisbus.NewSource(rc, contacts, &redisbus.Options{SourceOptions: opts})
		if err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("-bus %q: want pgnotify, nats://…, redis://… or none", bus))
	}
	if err != nil {
		return fail(err)
	}
	closers = append(closers, src.Close)
	log.Info("registrar: contacts", "db", dialect, "table", table, "bus", strings.SplitN(bus, "://", 2)[0])
	return contacts, closeAll, nil
}

// announce publishes every change this instance makes to the contacts on pub — the buses
// that the database does not feed — and returns the func that stops it.
func announce(contacts *registrar.Contacts, pub invalidate.Publisher, log *slog.Logger) func() error {
	send := func(id string, ch sorcery.Change) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := pub.Publish(ctx, sorcery.Invalidation{Type: pjsip.TypeContact, ID: id, Change: ch}); err != nil {
			log.Warn("registrar: announcing a contact change; the others see it within their stale period", "id", id, "err", err)
		}
	}
	cancel := contacts.Observe(sorcery.Observer[pjsip.Contact]{
		Created: func(c pjsip.Contact) { send(c.ID, sorcery.Changed) },
		Updated: func(c pjsip.Contact) { send(c.ID, sorcery.Changed) },
		Deleted: func(c pjsip.Contact) { send(c.ID, sorcery.Deleted) },
	})
	return func() error { cancel(); return nil }
}

// serveLookups serves the registrar's look-up endpoint on addr and returns the func that
// stops it.
func serveLookups(addr string, reg *registrar.Registrar, log *slog.Logger) (func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-http: %w", err)
	}
	srv := &http.Server{Handler: reg.LookupHandler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("registrar: look-up endpoint stopped", "err", err)
		}
	}()
	log.Info("registrar: look-ups", "url", "http://"+l.Addr().String()+"/aors/{aor}")
	return func() {
		srv.Close()
		<-done
	}, nil
}
