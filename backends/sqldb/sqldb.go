package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/flight"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Options configures a [Wizard]. The zero Options is ready to use: the dialect is detected,
// calls are bounded by their ctx only, and Asterisk's realtime value conventions apply.
type Options struct {
	// DB is the database the wizards of a [Factory] use; the caller opens and closes it.
	// New ignores it: its db argument is the database.
	DB *sql.DB

	// Dialect is the database's SQL dialect. Zero: detected from the driver's package
	// (pgx, lib/pq, go-sql-driver/mysql, modernc.org/sqlite, mattn/go-sqlite3 …), or else by
	// asking the server.
	Dialect Dialect

	// Timeout bounds every call of the wizard, on top of the caller's ctx, and the column
	// discovery of New and of a Factory. Zero: calls are bounded by their ctx only, and
	// discovery in New by 10 seconds.
	Timeout time.Duration

	// Verbatim turns off Asterisk's realtime value conventions: a column's value is one
	// field as it is, with no splitting at ';' and no ^XX decoding, and a field is stored as
	// it is; a record with several values for one field is then errors.ErrInvalid. NULL and
	// empty columns are still no field. Zero: the conventions apply.
	Verbatim bool

	// IgnoreUnknownFields makes writes drop fields the table has no column for, as
	// Asterisk's realtime drivers do. Zero: such a write is errors.ErrInvalid. Searches on an
	// unknown field are errors.ErrInvalid either way.
	IgnoreUnknownFields bool

	// RequireConnection makes New fail when the database cannot be reached. Zero: New
	// succeeds and the wizard learns its columns on first use, every call failing with
	// errors.ErrUnavailable until the database answers, so a program can start while its
	// database is down.
	RequireConnection bool
}

// defaultOpenTimeout bounds New's column discovery when Options.Timeout is zero.
const defaultOpenTimeout = 10 * time.Second

// Wizard serves the objects of one Asterisk realtime table. It implements
// [sorcery.Wizard], [sorcery.Searcher], [sorcery.Writer], [sorcery.Reloader] and io.Closer,
// and is safe for concurrent use.
type Wizard struct {
	db    *sql.DB
	table string // the table name as given
	opts  Options

	discovery flight.Group[struct{}, *table] // one lazy discovery at a time
	scanners  sync.Pool                      // *scanner, reused across calls

	mu      sync.Mutex // guards the fields below
	dialect Dialect    // "" until known
	t       *table     // nil until the columns are known
	closed  bool
}

var (
	_ sorcery.Wizard   = (*Wizard)(nil)
	_ sorcery.Searcher = (*Wizard)(nil)
	_ sorcery.Writer   = (*Wizard)(nil)
	_ sorcery.Reloader = (*Wizard)(nil)
	_ sorcery.Locator  = (*Wizard)(nil)
	_ io.Closer        = (*Wizard)(nil)
)

// New returns a wizard for the realtime table named table (optionally "schema.table") in
// db. It reads the table's columns, bounded by Options.Timeout or 10 seconds: a table that
// does not exist or has no id column is errors.ErrInvalid; a database that cannot be reached
// is an error only with Options.RequireConnection. nil opts means the zero Options. The
// wizard never closes db.
func New(db *sql.DB, table string, opts *Options) (*Wizard, error) {
	timeout := defaultOpenTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return NewContext(ctx, db, table, opts)
}

// NewContext is [New] with the column discovery bounded by ctx instead of a timeout.
func NewContext(ctx context.Context, db *sql.DB, table string, opts *Options) (*Wizard, error) {
	if db == nil {
		return nil, errors.Errorf("sqldb: no database: %w", errors.ErrInvalid)
	}
	table = strings.TrimSpace(table)
	if table == "" {
		return nil, errors.Errorf("sqldb: no table name: %w", errors.ErrInvalid)
	}
	w := &Wizard{db: db, table: table}
	if opts != nil {
		w.opts = *opts
	}
	if w.opts.Timeout < 0 {
		return nil, errors.Errorf("sqldb: negative timeout %v: %w", w.opts.Timeout, errors.ErrInvalid)
	}
	w.dialect = w.opts.Dialect
	if w.dialect == "" {
		w.dialect, _ = dialectOfDriver(db)
	} else if !w.dialect.valid() {
		return nil, errors.Errorf("sqldb: unknown dialect %q: %w", w.dialect, errors.ErrInvalid)
	}
	t, err := w.load(ctx)
	if err != nil {
		if w.opts.RequireConnection || !errors.Is(err, errors.ErrUnavailable) {
			return nil, err
		}
		return w, nil
	}
	w.t = t
	return w, nil
}

// Factory returns a [sorcery.WizardFactory] whose wizards serve the table named by the
// mapping's data ("ps_endpoints") in opts.DB, for sorcery.conf lines such as
// "endpoint = sqldb,ps_endpoints". opts must name a DB.
func Factory(opts *Options) sorcery.WizardFactory {
	var o Options
	if opts != nil {
		o = *opts
	}
	return func(typeName, data string) (sorcery.Wizard, error) {
		if o.DB == nil {
			return nil, errors.Errorf("sqldb: type %s: Options.DB is nil: %w", typeName, errors.ErrInvalid)
		}
		w, err := New(o.DB, data, &o)
		if err != nil {
			return nil, errors.Errorf("sqldb: type %s: %w", typeName, err)
		}
		return w, nil
	}
}

// Dialect returns the dialect the wizard speaks, or "" while it is not known yet (the
// driver is not one the wizard knows and the database has not answered).
func (w *Wizard) Dialect() Dialect {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dialect
}

// Table returns the table's name as it was given.
func (w *Wizard) Table() string { return w.table }

// Locate returns where the object with id is stored: "table <table> id <id>". It implements
// [sorcery.Locator].
func (w *Wizard) Locate(id string) string { return "table " + w.table + " id " + strconv.Quote(id) }

// Columns returns the names of the table's columns, the id column among them, as the
// database's catalog spells them and in its order; nil while they are not known yet.
func (w *Wizard) Columns() []string {
	w.mu.Lock()
	t := w.t
	w.mu.Unlock()
	if t == nil {
		return nil
	}
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	return names
}

// load learns the dialect, when it is not known, and the columns.
func (w *Wizard) load(ctx context.Context) (*table, error) {
	w.mu.Lock()
	d := w.dialect
	w.mu.Unlock()
	if d == "" {
		var err error
		if d, err = probeDialect(ctx, w.db); err != nil {
			return nil, errors.Errorf("sqldb: table %s: dialect: %w", w.table, err)
		}
		w.mu.Lock()
		w.dialect = d
		w.mu.Unlock()
	}
	return discover(ctx, w.db, d, w.table)
}

// acquire returns the table with a reference the caller must release, discovering the
// columns first when they are not known.
func (w *Wizard) acquire(ctx context.Context) (*table, error) {
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return nil, errors.Errorf("sqldb: table %s: %w", w.table, errors.ErrClosed)
		}
		if t := w.t; t != nil {
			t.acquire()
			w.mu.Unlock()
			return t, nil
		}
		w.mu.Unlock()
		_, _, err, _ := w.discovery.Do(ctx, struct{}{}, func(ctx context.Context) (*table, bool, error) {
			t, err := w.load(ctx)
			if err != nil {
				return nil, false, err
			}
			w.install(t, false)
			return t, true, nil
		})
		if err != nil {
			if ctx.Err() != nil {
				// The caller's ctx ended while the discovery went on for others.
				return nil, errors.Errorf("sqldb: table %s: columns: %w", w.table, wrapDB(ctx, err))
			}
			return nil, err
		}
	}
}

// install makes t the wizard's table. Unless replace is set, a table already there wins
// and t is dropped.
func (w *Wizard) install(t *table, replace bool) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		t.retire()
		return errors.Errorf("sqldb: table %s: %w", w.table, errors.ErrClosed)
	}
	old := w.t
	if old != nil && !replace {
		w.mu.Unlock()
		t.retire()
		return nil
	}
	w.t = t
	w.mu.Unlock()
	if old != nil {
		old.retire()
	}
	return nil
}

// withTimeout applies Options.Timeout to ctx.
func (w *Wizard) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if w.opts.Timeout > 0 {
		return context.WithTimeout(ctx, w.opts.Timeout)
	}
	return ctx, func() {}
}

// fail wraps err, a database error of the call op made under ctx.
func (w *Wizard) fail(ctx context.Context, op string, err error) error {
	return errors.Errorf("sqldb: table %s: %s: %w", w.table, op, wrapDB(ctx, err))
}

// query runs a SELECT through its prepared statement.
func (w *Wizard) query(ctx context.Context, t *table, q string, args []any) (*sql.Rows, error) {
	s, err := t.stmt(ctx, w.db, q)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return w.db.QueryContext(ctx, q, args...)
	}
	return s.QueryContext(ctx, args...)
}

// exec runs a statement through its prepared statement.
func (w *Wizard) exec(ctx context.Context, t *table, q string, args []any) (sql.Result, error) {
	s, err := t.stmt(ctx, w.db, q)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return w.db.ExecContext(ctx, q, args...)
	}
	return s.ExecContext(ctx, args...)
}

// scanner holds the buffers one row is scanned into. Columns are scanned into strings, not
// sql.RawBytes: drivers hand text over as strings, which a string destination takes as it is
// and RawBytes would copy.
type scanner struct {
	vals []sql.NullString
	dest []any
	args []any
}

func (w *Wizard) getScanner(n int) *scanner {
	s, _ := w.scanners.Get().(*scanner)
	if s == nil {
		s = &scanner{}
	}
	if cap(s.vals) < n {
		s.vals = make([]sql.NullString, n)
		s.dest = make([]any, n)
	}
	s.vals, s.dest = s.vals[:n], s.dest[:n]
	for i := range s.vals {
		s.dest[i] = &s.vals[i]
	}
	s.args = s.args[:0]
	return s
}

func (w *Wizard) putScanner(s *scanner) {
	clear(s.vals)
	clear(s.args)
	w.scanners.Put(s)
}

// record builds the record of a scanned row.
func (w *Wizard) record(t *table, vals []sql.NullString) sorcery.Record {
	n := 0
	for i, v := range vals {
		if i != t.id && v.String != "" {
			n++
		}
	}
	r := sorcery.Record{ID: w.decodeID(vals[t.id].String)}
	if n == 0 {
		return r
	}
	r.Fields = make(sorcery.Fields, 0, n)
	for i, v := range vals {
		if i == t.id || v.String == "" {
			continue
		}
		if w.opts.Verbatim || !t.cols[i].textual {
			r.Fields = append(r.Fields, sorcery.Field{Name: t.cols[i].name, Value: v.String})
			continue
		}
		r.Fields = decodeValue(r.Fields, t.cols[i].name, v.String)
	}
	return r
}

// encodeID returns the id as the id column holds it: with the conventions on, ';' and '^'
// are encoded, as Asterisk's ODBC driver encodes every value it binds (ps_contacts ids
// hold ";@").
func (w *Wizard) encodeID(id string) string {
	if w.opts.Verbatim {
		return id
	}
	return encodeChunk(id, false)
}

// decodeID returns the id an id column holds: decoded, but never split.
func (w *Wizard) decodeID(raw string) string {
	if w.opts.Verbatim || strings.IndexByte(raw, '^') < 0 {
		return raw
	}
	return decodeChunk(raw)
}

// Retrieve returns the object whose id column is id. The id is compared exactly, even
// where the column's collation ignores case. A database that cannot answer is
// errors.ErrUnavailable, never an absence.
func (w *Wizard) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return sorcery.Record{}, false, err
	}
	defer t.release()
	s := w.getScanner(len(t.cols))
	defer w.putScanner(s)
	s.args = t.idArgs(s.args, w.encodeID(id))
	rows, err := w.query(ctx, t, t.retrieveSQL, s.args)
	if err != nil {
		return sorcery.Record{}, false, w.fail(ctx, "retrieve", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(s.dest...); err != nil {
			return sorcery.Record{}, false, w.fail(ctx, "retrieve", err)
		}
		if w.decodeID(s.vals[t.id].String) != id {
			continue
		}
		rec := w.record(t, s.vals)
		if err := rows.Close(); err != nil {
			return sorcery.Record{}, false, w.fail(ctx, "retrieve", err)
		}
		return rec, true, nil
	}
	if err := rows.Err(); err != nil {
		return sorcery.Record{}, false, w.fail(ctx, "retrieve", err)
	}
	return sorcery.Record{}, false, nil
}

// Search returns the records that satisfy q. See the package documentation for how a query
// is made SQL. A field the table has no column for is errors.ErrInvalid.
func (w *Wizard) Search(ctx context.Context, q sorcery.Query) ([]sorcery.Record, error) {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer t.release()
	plan, err := w.planSearch(t, q)
	if err != nil {
		return nil, errors.Errorf("sqldb: table %s: search: %w", w.table, err)
	}
	rows, err := w.query(ctx, t, plan.sql, plan.args)
	if err != nil {
		return nil, w.fail(ctx, "search", err)
	}
	defer rows.Close()
	s := w.getScanner(len(t.cols))
	defer w.putScanner(s)
	var out []sorcery.Record
	for rows.Next() {
		if err := rows.Scan(s.dest...); err != nil {
			return nil, w.fail(ctx, "search", err)
		}
		rec := w.record(t, s.vals)
		if plan.match == nil || plan.match.Match(rec) {
			out = append(out, rec)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, w.fail(ctx, "search", err)
	}
	return out, nil
}

// columnValues maps r's fields to the table's columns: the bound value of each column
// (nil for NULL), and whether a field named it.
func (w *Wizard) columnValues(t *table, r sorcery.Record) ([]any, []bool, error) {
	if r.ID == "" {
		return nil, nil, errors.Errorf("sqldb: table %s: record without id: %w", w.table, errors.ErrInvalid)
	}
	per := make([][]string, len(t.cols))
	named := make([]bool, len(t.cols))
	for _, f := range r.Fields {
		i, err := t.lookup(f.Name)
		if err != nil {
			if w.opts.IgnoreUnknownFields && !strings.EqualFold(f.Name, "id") {
				continue
			}
			return nil, nil, errors.Errorf("sqldb: table %s: record %q: %w", w.table, r.ID, err)
		}
		if i == t.id || strings.EqualFold(f.Name, "id") {
			return nil, nil, errors.Errorf("sqldb: table %s: record %q has a field %q: the id is Record.ID: %w", w.table, r.ID, f.Name, errors.ErrInvalid)
		}
		per[i] = append(per[i], f.Value)
		named[i] = true
	}
	vals := make([]any, len(t.cols))
	for i, vs := range per {
		switch {
		case len(vs) == 0:
		case w.opts.Verbatim || !t.cols[i].textual:
			if len(vs) > 1 {
				return nil, nil, errors.Errorf("sqldb: table %s: record %q: %d values for column %s, which holds one: %w", w.table, r.ID, len(vs), t.cols[i].name, errors.ErrInvalid)
			}
			if vs[0] != "" {
				vals[i] = vs[0]
			}
		default:
			if v, ok := encodeValues(vs); ok {
				vals[i] = v
			}
		}
	}
	vals[t.id] = w.encodeID(r.ID)
	return vals, named, nil
}

// Create inserts r. An id that is taken is errors.ErrExists (the id column needs a unique
// constraint, as Asterisk's schemas give it); a field the table has no column for, a value
// the column cannot hold or another constraint violated is errors.ErrInvalid. Only the
// columns r has values for are written, so the others take their defaults.
func (w *Wizard) Create(ctx context.Context, r sorcery.Record) error {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	defer t.release()
	vals, _, err := w.columnValues(t, r)
	if err != nil {
		return err
	}
	d := t.dialect
	var cols, marks strings.Builder
	args := make([]any, 0, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		if len(args) > 0 {
			cols.WriteString(", ")
			marks.WriteString(", ")
		}
		args = append(args, v)
		cols.WriteString(t.cols[i].quoted)
		marks.WriteString(d.placeholder(len(args)))
	}
	q := "INSERT INTO " + t.quoted + " (" + cols.String() + ") VALUES (" + marks.String() + ")"
	if _, err := w.exec(ctx, t, q, args); err != nil {
		if isDuplicate(err) {
			if exists, xerr := w.exists(ctx, t, r.ID); xerr == nil && exists {
				return errors.Errorf("sqldb: table %s: create %q: %w", w.table, r.ID, errors.ErrExists)
			}
		}
		return w.fail(ctx, fmt.Sprintf("create %q", r.ID), err)
	}
	return nil
}

// Update replaces the object r.ID with r: every column r has no field for becomes NULL.
// An id that is not there is errors.ErrNotFound.
func (w *Wizard) Update(ctx context.Context, r sorcery.Record) error {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	defer t.release()
	vals, _, err := w.columnValues(t, r)
	if err != nil {
		return err
	}
	if t.updateSQL != "" {
		args := make([]any, 0, len(vals)+1)
		for i, v := range vals {
			if i != t.id {
				args = append(args, v)
			}
		}
		args = t.idArgs(args, w.encodeID(r.ID))
		res, err := w.exec(ctx, t, t.updateSQL, args)
		if err != nil {
			return w.fail(ctx, fmt.Sprintf("update %q", r.ID), err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return nil
		}
	}
	// No row changed: MySQL counts the rows changed, not those matched, so ask.
	exists, err := w.exists(ctx, t, r.ID)
	if err != nil {
		return w.fail(ctx, fmt.Sprintf("update %q", r.ID), err)
	}
	if !exists {
		return errors.Errorf("sqldb: table %s: update %q: %w", w.table, r.ID, errors.ErrNotFound)
	}
	return nil
}

// Delete removes the object id. An id that is not there is errors.ErrNotFound.
func (w *Wizard) Delete(ctx context.Context, id string) error {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	defer t.release()
	res, err := w.exec(ctx, t, t.deleteSQL, t.idArgs(nil, w.encodeID(id)))
	if err != nil {
		return w.fail(ctx, fmt.Sprintf("delete %q", id), err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errors.Errorf("sqldb: table %s: delete %q: %w", w.table, id, errors.ErrNotFound)
	}
	return nil
}

// exists reports whether a row has the id, exactly.
func (w *Wizard) exists(ctx context.Context, t *table, id string) (bool, error) {
	rows, err := w.query(ctx, t, t.existsSQL, t.idArgs(nil, w.encodeID(id)))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var got sql.NullString
		if err := rows.Scan(&got); err != nil {
			return false, err
		}
		if w.decodeID(got.String) == id {
			return true, rows.Close()
		}
	}
	return false, rows.Err()
}

// Reload reads the table's columns again, so a column added or dropped since is seen. On an
// error the wizard keeps serving with the columns it had.
func (w *Wizard) Reload(ctx context.Context) error {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return errors.Errorf("sqldb: table %s: %w", w.table, errors.ErrClosed)
	}
	t, err := w.load(ctx)
	if err != nil {
		return err
	}
	return w.install(t, true)
}

// Close closes the wizard's prepared statements, once the calls using them are done; it
// leaves the database open. Later calls, and a second Close, return errors.ErrClosed.
func (w *Wizard) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.Errorf("sqldb: table %s: %w", w.table, errors.ErrClosed)
	}
	w.closed = true
	t := w.t
	w.t = nil
	w.mu.Unlock()
	if t != nil {
		t.retire()
	}
	return nil
}
