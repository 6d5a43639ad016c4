package realtime

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Driver opens the wizard of one mapping. The built-in drivers are the SQL ones (see
// [Options].Databases) and curl.
type Driver func(m Mapping) (sorcery.Wizard, error)

// Options configures the realtime wizards. The zero Options reads extconfig.conf from the
// working directory and knows the curl driver only; SQL drivers need Databases.
type Options struct {
	// Config is the path of extconfig.conf; a relative path is relative to Dir. Zero:
	// "extconfig.conf".
	Config string

	// Dir is the directory relative paths are resolved against. Zero: the working directory.
	Dir string

	// Databases maps the database names of extconfig.conf lines (the second field, such as
	// "asterisk") to the databases the caller opened, for the SQL drivers: pgsql, mysql,
	// sqlite3 and odbc (whose dialect is detected), and sqldb. The caller closes them.
	Databases map[string]*sql.DB

	// SQL is applied to every SQL wizard (Timeout, Verbatim, IgnoreUnknownFields,
	// RequireConnection); its DB and Dialect are set per mapping. Zero: sqldb's defaults.
	SQL *sqldb.Options

	// Curl is applied to every curl wizard (timeouts, authentication, TLS, variables).
	// Zero: backends/curl's defaults.
	Curl *curl.Options

	// Drivers adds drivers, or replaces built-in ones, by name (matched without regard to
	// case). Zero: the built-in drivers only.
	Drivers map[string]Driver

	// AllowUnqualifiedFetch is res_sorcery_realtime's allow_unqualified_fetch: what a
	// search for every object (a Query with no condition, no id regex and no prefix) does.
	// "yes" fetches every row; "no" returns no objects, without asking the database;
	// "warn" logs a warning to Logger and fetches every row; "error" returns an error
	// matching errors.ErrUnsupported, without asking the database (Asterisk logs an error
	// and returns no objects; an error here keeps the refusal from reading as an empty
	// family). The factory sets it from the mapping's data. Zero: "yes", as in Asterisk.
	AllowUnqualifiedFetch string

	// Logger receives the warning of AllowUnqualifiedFetch "warn". Zero: slog.Default().
	Logger *slog.Logger
}

// member is one wizard of a family's chain.
type member struct {
	m Mapping
	w sorcery.Wizard
}

// Wizard serves one realtime family: the wizards of its extconfig.conf lines, tried in
// priority order. It implements sorcery.Wizard, sorcery.Searcher, sorcery.Writer,
// sorcery.Reloader and io.Closer, and is safe for concurrent use.
type Wizard struct {
	family string
	opts   Options
	fetch  string // AllowUnqualifiedFetch, lower case, "" for yes

	mu      sync.Mutex // guards the fields below
	conf    *Config
	members []member // replaced whole, never changed in place
	closed  bool
}

var (
	_ sorcery.Wizard   = (*Wizard)(nil)
	_ sorcery.Searcher = (*Wizard)(nil)
	_ sorcery.Writer   = (*Wizard)(nil)
	_ sorcery.Reloader = (*Wizard)(nil)
	_ io.Closer        = (*Wizard)(nil)
)

// New reads extconfig.conf as opts says and returns the wizard of family, such as
// "ps_endpoints". A family without a priority-1 line, a driver that is not known, or a
// database not in Options.Databases is errors.ErrInvalid.
func New(family string, opts *Options) (*Wizard, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	c, err := ReadConfig(o.configPath())
	if err != nil {
		return nil, errors.Errorf("realtime: %w", err)
	}
	return newWizard(family, c, o)
}

// Open returns the wizard of family as configured by c. opts.Config and opts.Dir are not
// used: the configuration is c, and Reload re-reads it only when c was read from a file.
func (c *Config) Open(family string, opts *Options) (*Wizard, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	return newWizard(family, c, o)
}

func newWizard(family string, c *Config, o Options) (*Wizard, error) {
	family = strings.TrimSpace(family)
	w := &Wizard{family: family, opts: o}
	switch f := strings.ToLower(strings.TrimSpace(o.AllowUnqualifiedFetch)); f {
	case "", "yes":
	case "no", "warn", "error":
		w.fetch = f
	default:
		return nil, errors.Errorf("realtime: family %s: allow_unqualified_fetch=%q: want yes, no, warn or error: %w", family, o.AllowUnqualifiedFetch, errors.ErrInvalid)
	}
	members, err := w.open(c)
	if err != nil {
		return nil, err
	}
	w.conf, w.members = c, members
	return w, nil
}

// Factory returns a [sorcery.WizardFactory] for the "realtime" wizard of sorcery.conf. The
// mapping's data is read as res_sorcery_realtime.c reads it: the family up to the first
// comma, then options, of which Asterisk has one,
//
//	endpoint = realtime,ps_endpoints
//	endpoint = realtime,ps_endpoints,allow_unqualified_fetch=warn
//
// allow_unqualified_fetch=yes|no|warn|error (an empty value is yes), setting
// Options.AllowUnqualifiedFetch. Any other option is errors.ErrInvalid.
func Factory(opts *Options) sorcery.WizardFactory {
	var base Options
	if opts != nil {
		base = *opts
	}
	return func(typeName, data string) (sorcery.Wizard, error) {
		o := base
		family, rest, _ := strings.Cut(data, ",")
		for rest != "" {
			var opt string
			opt, rest, _ = strings.Cut(rest, ",")
			name, value, _ := strings.Cut(opt, "=")
			if !strings.EqualFold(strings.TrimSpace(name), "allow_unqualified_fetch") {
				return nil, errors.Errorf("realtime: type %s: family %s: unknown option %q (want allow_unqualified_fetch): %w", typeName, strings.TrimSpace(family), strings.TrimSpace(name), errors.ErrInvalid)
			}
			o.AllowUnqualifiedFetch = strings.TrimSpace(value)
		}
		w, err := New(family, &o)
		if err != nil {
			return nil, errors.Errorf("realtime: type %s: %w", typeName, err)
		}
		return w, nil
	}
}

func (o *Options) configPath() string {
	p := o.Config
	if p == "" {
		p = "extconfig.conf"
	}
	if !filepath.IsAbs(p) && o.Dir != "" {
		p = filepath.Join(o.Dir, p)
	}
	return p
}

// open builds the chain of w's family from c. On an error it closes what it opened.
func (w *Wizard) open(c *Config) ([]member, error) {
	chain := c.Family(w.family)
	if len(chain) == 0 {
		return nil, errors.Errorf("realtime: family %q has no priority 1 line in extconfig.conf: %w", w.family, errors.ErrInvalid)
	}
	members := make([]member, 0, len(chain))
	for _, m := range chain {
		wz, err := w.driver(m)
		if err != nil {
			closeMembers(members)
			return nil, errors.Errorf("realtime: %s: %w", where(m), err)
		}
		members = append(members, member{m: m, w: wz})
	}
	return members, nil
}

// where names a mapping for messages.
func where(m Mapping) string {
	if m.File != "" {
		return fmt.Sprintf("%s:%d: %s priority %d", m.File, m.Line, m.Family, m.Priority)
	}
	return fmt.Sprintf("%s priority %d", m.Family, m.Priority)
}

// driver opens the wizard of m.
func (w *Wizard) driver(m Mapping) (sorcery.Wizard, error) {
	name := strings.ToLower(m.Driver)
	for k, d := range w.opts.Drivers {
		if strings.ToLower(k) == name && d != nil {
			return d(m)
		}
	}
	switch name {
	case "curl":
		return w.openCurl(m)
	case "odbc", "sqldb":
		return w.openSQL(m, "")
	}
	if d, err := sqldb.ParseDialect(name); err == nil {
		return w.openSQL(m, d)
	}
	return nil, errors.Errorf("unknown driver %q: %w", m.Driver, errors.ErrInvalid)
}

// openSQL opens an sqldb wizard on the mapping's table in the database it names.
func (w *Wizard) openSQL(m Mapping, d sqldb.Dialect) (sorcery.Wizard, error) {
	db := w.opts.Databases[m.Database]
	if db == nil {
		for k, v := range w.opts.Databases {
			if strings.EqualFold(k, m.Database) {
				db = v
			}
		}
	}
	if db == nil {
		return nil, errors.Errorf("database %q is not in Options.Databases: %w", m.Database, errors.ErrInvalid)
	}
	var o sqldb.Options
	if w.opts.SQL != nil {
		o = *w.opts.SQL
	}
	o.DB, o.Dialect = db, d
	return sqldb.New(db, m.Table, &o)
}

func closeMembers(members []member) error {
	var errs []error
	for _, m := range members {
		if c, ok := sorcery.Capability[io.Closer](m.w); ok {
			if err := c.Close(); err != nil && !errors.Is(err, errors.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Family returns the family the wizard serves.
func (w *Wizard) Family() string { return w.family }

// Mappings returns the lines of the chain, priority 1 first.
func (w *Wizard) Mappings() []Mapping {
	members, err := w.chain()
	if err != nil {
		return nil
	}
	ms := make([]Mapping, len(members))
	for i, m := range members {
		ms[i] = m.m
	}
	return ms
}

// chain returns the current members, or ErrClosed.
func (w *Wizard) chain() ([]member, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.Errorf("realtime: family %s: %w", w.family, errors.ErrClosed)
	}
	return w.members, nil
}

// failure wraps the error of one member.
func failure(m member, op string, err error) error {
	return errors.Errorf("%s: %s: %w", where(m.m), op, err)
}

// fail joins the members' errors into the family's.
func (w *Wizard) fail(op string, errs []error) error {
	return errors.Errorf("realtime: family %s: %s: %w", w.family, op, errors.Join(errs...))
}

// Retrieve asks the family's wizards in priority order. The first that answers — found or
// not found — decides: only an error moves on to the next priority (unlike Asterisk, which
// also moves on when a row is not found; Asterisk issue #1305). When every wizard fails the
// errors are joined, errors.ErrUnavailable matching when one of them does.
func (w *Wizard) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	members, err := w.chain()
	if err != nil {
		return sorcery.Record{}, false, err
	}
	var errs []error
	for _, m := range members {
		r, found, err := m.w.Retrieve(ctx, id)
		if err == nil {
			return r, found, nil
		}
		errs = append(errs, failure(m, "retrieve", err))
		if ctx.Err() != nil {
			break // the caller gave up: asking the next one would fail too
		}
	}
	return sorcery.Record{}, false, w.fail("retrieve", errs)
}

// Search asks the family's searchable wizards in priority order; the first that answers
// decides, an error moves on to the next. Without a searchable wizard it is
// errors.ErrUnsupported. A search for every object follows Options.AllowUnqualifiedFetch.
func (w *Wizard) Search(ctx context.Context, q sorcery.Query) ([]sorcery.Record, error) {
	members, err := w.chain()
	if err != nil {
		return nil, err
	}
	if w.fetch != "" && len(q.Conditions) == 0 && q.IDRegex == "" && q.IDPrefix == "" {
		switch w.fetch {
		case "no":
			return nil, nil
		case "error":
			return nil, errors.Errorf("realtime: family %s: unqualified fetch prevented (allow_unqualified_fetch=error): %w", w.family, errors.ErrUnsupported)
		case "warn":
			logger := w.opts.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.LogAttrs(ctx, slog.LevelWarn, "sorcery: realtime: unqualified fetch requested", slog.String("family", w.family))
		}
	}
	var errs []error
	for _, m := range members {
		s, ok := sorcery.Capability[sorcery.Searcher](m.w)
		if !ok {
			errs = append(errs, failure(m, "search", errors.ErrUnsupported))
			continue
		}
		rs, err := s.Search(ctx, q)
		if err == nil {
			return rs, nil
		}
		errs = append(errs, failure(m, "search", err))
		if ctx.Err() != nil || errors.Is(err, errors.ErrInvalid) {
			break // a bad query is bad everywhere
		}
	}
	return nil, w.fail("search", errs)
}

// answered reports whether a write's error is the source's answer (the object exists, does
// not exist, or is invalid) rather than a failure to answer.
func answered(err error) bool {
	return errors.Is(err, errors.ErrExists) || errors.Is(err, errors.ErrNotFound) || errors.Is(err, errors.ErrInvalid)
}

// write runs op on the writable wizards in priority order, as Asterisk's realtime store,
// update and destroy do: the first that succeeds, or answers (exists, not found, invalid),
// decides; a failure moves on to the next priority.
func (w *Wizard) write(ctx context.Context, name string, op func(sorcery.Writer) error) error {
	members, err := w.chain()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range members {
		wr, ok := sorcery.Capability[sorcery.Writer](m.w)
		if !ok {
			errs = append(errs, failure(m, name, errors.ErrReadOnly))
			continue
		}
		err := op(wr)
		if err == nil {
			return nil
		}
		if answered(err) {
			return w.fail(name, []error{failure(m, name, err)})
		}
		errs = append(errs, failure(m, name, err))
		if ctx.Err() != nil {
			break
		}
	}
	return w.fail(name, errs)
}

// Create stores r in the first wizard, by priority, that can take it. See [Wizard.Retrieve]
// for the failover; a failed write to priority 1 that priority 2 takes leaves the two
// sources different, as in Asterisk.
func (w *Wizard) Create(ctx context.Context, r sorcery.Record) error {
	return w.write(ctx, "create", func(wr sorcery.Writer) error { return wr.Create(ctx, r) })
}

// Update updates r in the first wizard, by priority, that can take it.
func (w *Wizard) Update(ctx context.Context, r sorcery.Record) error {
	return w.write(ctx, "update", func(wr sorcery.Writer) error { return wr.Update(ctx, r) })
}

// Delete deletes id from the first wizard, by priority, that can take it.
func (w *Wizard) Delete(ctx context.Context, id string) error {
	return w.write(ctx, "delete", func(wr sorcery.Writer) error { return wr.Delete(ctx, id) })
}

// Reload re-reads extconfig.conf when it changed (only when the wizard's configuration came
// from a file) and rebuilds the chain from it, then reloads every wizard of the chain that
// can be. On an error the wizard keeps the chain it had.
func (w *Wizard) Reload(ctx context.Context) error {
	w.mu.Lock()
	c, closed := w.conf, w.closed
	w.mu.Unlock()
	if closed {
		return errors.Errorf("realtime: family %s: %w", w.family, errors.ErrClosed)
	}
	if c.changed() {
		nc, err := ReadConfig(c.path())
		if err != nil {
			return errors.Errorf("realtime: family %s: reload: %w", w.family, err)
		}
		members, err := w.open(nc)
		if err != nil {
			return errors.Errorf("realtime: family %s: reload: %w", w.family, err)
		}
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			closeMembers(members)
			return errors.Errorf("realtime: family %s: %w", w.family, errors.ErrClosed)
		}
		old := w.members
		w.conf, w.members = nc, members
		w.mu.Unlock()
		// Calls still running on the old wizards finish: sqldb closes its statements once
		// they are done.
		closeMembers(old)
		return nil
	}
	members, err := w.chain()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range members {
		if r, ok := sorcery.Capability[sorcery.Reloader](m.w); ok {
			if err := r.Reload(ctx); err != nil {
				errs = append(errs, failure(m, "reload", err))
			}
		}
	}
	if len(errs) > 0 {
		return w.fail("reload", errs)
	}
	return nil
}

// Close closes the wizards of the chain (not the databases). Later calls, and a second
// Close, return errors.ErrClosed.
func (w *Wizard) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.Errorf("realtime: family %s: %w", w.family, errors.ErrClosed)
	}
	w.closed = true
	members := w.members
	w.members = nil
	w.mu.Unlock()
	if err := closeMembers(members); err != nil {
		return errors.Errorf("realtime: family %s: close: %w", w.family, err)
	}
	return nil
}
