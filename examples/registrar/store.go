package registrar

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

// ContactsOptions configures the contact type [OpenContacts] builds. The zero value works.
type ContactsOptions struct {
	// Table is the realtime table of contacts. Empty means "ps_contacts".
	Table string
	// Cache is the memory cache in front of the table; it is made a full-backend cache
	// (full_backend_cache=yes), which look-ups by AOR need. Nil means
	// object_lifetime_stale=60 with no maximum: push invalidation keeps it fresh, the stale
	// period bounds how late a change missed by the bus is seen, and while the database is
	// down the cache keeps serving what it holds.
	Cache *cache.Options
	// Timeout bounds one statement on the table. Zero means 2 seconds.
	Timeout time.Duration
}

// Contacts is the contact store of one registrar instance: the sorcery contact type — a
// full-backend memory cache in front of an SQL wizard over Asterisk's ps_contacts table —
// that [OpenContacts] registers. It is the [ContactStore] of [Sources].
//
// It is also an invalidate.Target: give it, rather than the Sorcery, to the invalidation
// source of a cluster (invalidate/pgnotify, natsbus or redisbus). A Sorcery would refresh a
// full-backend cache whole on every change announced; Contacts reads just the contact
// announced, from the table, and puts it in the cache (or drops it, when the table no longer
// has it), on a few goroutines of its own, so that every instance's cost of another's
// registration does not grow with the number of phones. Invalidations of other types, and
// the catch-up after a reconnection, go to the Sorcery.
//
// Close stops those goroutines; call it before closing the Sorcery.
type Contacts struct {
	*sorcery.Type[pjsip.Contact]
	s       *sorcery.Sorcery
	wizard  sorcery.Wizard
	timeout time.Duration

	mu      sync.Mutex          // guards pending and closed, and orders sends on queue
	pending map[string]struct{} // contact ids announced and queued, not yet being read
	closed  bool
	queue   chan string    // the ids of pending, in the order announced
	stop    chan struct{}  // closed by Close
	workers sync.WaitGroup // the goroutines reading the contacts announced
}

var _ invalidate.Target = (*Contacts)(nil)

// OpenContacts registers the contact type with s and returns it: a full-backend memory cache
// in front of an SQL wizard over the ps_contacts table in db (PostgreSQL, MySQL/MariaDB or
// SQLite), loaded at once when the database answers. In a cluster, every instance opens the same table and gives its Contacts to an
// invalidation source, so that each one's cache sees the contacts all the others register.
func OpenContacts(ctx context.Context, s *sorcery.Sorcery, db *sql.DB, opts *ContactsOptions) (*Contacts, error) {
	var o ContactsOptions
	if opts != nil {
		o = *opts
	}
	if o.Table == "" {
		o.Table = pjsip.TableContacts
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	co := cache.Options{LifetimeStale: time.Minute}
	if o.Cache != nil {
		co = *o.Cache
	}
	co.FullBackend = true
	if co.Name == "" {
		co.Name = pjsip.TypeContact
	}
	w, err := sqldb.NewContext(ctx, db, o.Table, &sqldb.Options{Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("registrar: contacts: %w", err)
	}
	t, err := pjsip.RegisterContacts(s)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("registrar: contacts: %w", err)
	}
	if err := t.AddCache(&co); err != nil {
		w.Close()
		return nil, fmt.Errorf("registrar: contacts: %w", err)
	}
	if err := t.AddWizard("sql", w, nil); err != nil {
		w.Close()
		return nil, fmt.Errorf("registrar: contacts: %w", err)
	}
	// Load the contacts now, so that the first look-up is answered from memory; a database
	// that cannot answer now is read on first use.
	_ = t.Cache().Populate(ctx)
	c := &Contacts{
		Type: t, s: s, wizard: w, timeout: o.Timeout,
		pending: map[string]struct{}{},
		queue:   make(chan string, queueLen), stop: make(chan struct{}),
	}
	for range followers {
		c.workers.Go(c.follow)
	}
	return c, nil
}

// Search answers a query by id prefix alone — the contacts of an AOR — from the cache's
// complete set without encoding every contact; other queries, and any the cache cannot
// answer, go to the type's Search.
func (c *Contacts) Search(ctx context.Context, q sorcery.Query) ([]pjsip.Contact, error) {
	if q.IDPrefix != "" && q.IDRegex == "" && len(q.Conditions) == 0 {
		if all, err := c.Cache().All(ctx); err == nil {
			var out []pjsip.Contact
			for _, e := range all {
				if strings.HasPrefix(e.ID, q.IDPrefix) {
					out = append(out, e.Value)
				}
			}
			return out, nil
		}
	}
	return c.Type.Search(ctx, q)
}

// Invalidate applies inv: a contact announced changed or deleted is read from the table on
// Contacts' goroutine and put in the cache or dropped from it; another type goes to the
// Sorcery.
func (c *Contacts) Invalidate(inv sorcery.Invalidation) error {
	if inv.Type != pjsip.TypeContact {
		return c.s.Invalidate(inv)
	}
	id := inv.ID // the trigger announces the object's id, ^3B already decoded to ';'
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.ErrClosed
	}
	full := false
	if _, queued := c.pending[id]; !queued {
		select {
		case c.queue <- id:
			c.pending[id] = struct{}{}
		default:
			full = true
		}
	}
	c.mu.Unlock()
	if full { // more changes than the readers keep up with: read the whole set instead
		return c.s.MarkStale(pjsip.TypeContact)
	}
	return nil
}

// MarkStale marks the cached objects of the type (every type when typeName is empty) stale,
// through the Sorcery: the contacts' set is read again whole.
func (c *Contacts) MarkStale(typeName string) error { return c.s.MarkStale(typeName) }

// Close stops following invalidations and waits for the contact being read. Later calls
// return errors.ErrClosed.
func (c *Contacts) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.ErrClosed
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	c.workers.Wait()
	return nil
}

// follow reads the contacts announced, one at a time, until Close.
func (c *Contacts) follow() {
	for {
		select {
		case <-c.stop:
			return
		case id := <-c.queue:
			c.mu.Lock()
			delete(c.pending, id) // announced again from now on: read again
			c.mu.Unlock()
			c.refresh(id)
		}
	}
}

const (
	// followers is how many contacts announced are read at once: one slow read (a new
	// connection) does not hold up the others.
	followers = 4
	// queueLen bounds the contacts announced and not read yet; beyond, the whole set is
	// read again instead.
	queueLen = 4096
)

// refresh reads contact id from the table into the cache. When the table cannot answer, the
// whole set is marked stale instead: it is read again once the database is back.
func (c *Contacts) refresh(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rec, found, err := c.wizard.Retrieve(ctx, id)
	switch {
	case err != nil:
		_ = c.s.MarkStale(pjsip.TypeContact) // the type is registered: no error
	case !found:
		c.Cache().Delete(id)
	default:
		v, err := c.Codec().Decode(rec)
		if err != nil {
			_ = c.s.MarkStale(pjsip.TypeContact) // let the type's own load report it
			return
		}
		c.Cache().Set(id, v)
	}
}

// CreateContactsTable creates the contacts table in db, with every column of Asterisk's
// ps_contacts (sqldb's schema), unless it exists. dialect is the database's: sqldb.PostgreSQL, sqldb.MySQL or
// sqldb.SQLite. The embedded SQLite database of a single registrar needs it; a cluster's
// PostgreSQL database usually has the table from Asterisk's own schema (alembic).
func CreateContactsTable(ctx context.Context, db *sql.DB, dialect sqldb.Dialect, table string) error {
	if !validTable(table) {
		return fmt.Errorf("registrar: table name %q: letters, digits, '_' and a schema '.' only: %w", table, errors.ErrInvalid)
	}
	stmt, err := contactsTableSQL(dialect, table)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("registrar: creating table %s: %w", table, err)
	}
	return nil
}

// contactsTableSQL returns the statement of sqldb's schema for dialect that creates
// ps_contacts, creating table instead.
func contactsTableSQL(dialect sqldb.Dialect, table string) (string, error) {
	stmts, err := sqldb.SchemaStatements(dialect)
	if err != nil {
		return "", fmt.Errorf("registrar: %w", err)
	}
	const create = "CREATE TABLE IF NOT EXISTS ps_contacts ("
	for _, st := range stmts {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(st), create); ok {
			return "CREATE TABLE IF NOT EXISTS " + table + " (" + rest, nil
		}
	}
	return "", fmt.Errorf("registrar: the %s schema has no ps_contacts: %w", dialect, errors.ErrUnsupported)
}

// validTable reports whether name is a plain, optionally schema-qualified, SQL identifier.
func validTable(name string) bool {
	if name == "" || len(name) > 127 {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}
