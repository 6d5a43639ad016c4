package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// defaultDB is the database import and export use when -db is not given.
const defaultDB = "sqlite:provision.db"

// dbTimeout bounds every call to the database.
const dbTimeout = 30 * time.Second

// dbSpec is a database named on the command line.
type dbSpec struct {
	driver  string        // the database/sql driver
	dsn     string        // what the driver opens
	dialect sqldb.Dialect // the SQL dialect
	path    string        // the file of an SQLite database
	name    string        // the spec as given, its password hidden, for messages
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// isDBSpec reports whether s names a database by its scheme rather than a file.
func isDBSpec(s string) bool {
	scheme, _, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3", "postgres", "postgresql", "mysql", "mariadb":
		return true
	}
	return false
}

// isSQLiteFile reports whether the file at path is an SQLite database.
func isSQLiteFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, _ := f.Read(head)
	return n == len(head) && bytes.Equal(head, []byte(sqliteMagic))
}

// parseDB parses a database spec:
//
//	sqlite:PATH (sqlite3:PATH, sqlite://PATH)          an SQLite file, through modernc.org/sqlite
//	postgres://… (postgresql://…)                      PostgreSQL, through pgx
//	mysql://user:pass@host:port/db?param=value         MySQL or MariaDB, through go-sql-driver
//	mysql:user:pass@tcp(host:port)/db?param=value      the same, in the driver's own syntax
func parseDB(s string) (dbSpec, error) {
	scheme, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return dbSpec{}, fmt.Errorf("database %q: no file: want sqlite:PATH", s)
		}
		dsn := withPragmas(path, "busy_timeout(10000)")
		file := strings.TrimPrefix(path, "file:")
		file, _, _ = strings.Cut(file, "?")
		return dbSpec{driver: "sqlite", dsn: dsn, dialect: sqldb.SQLite, path: file, name: s}, nil
	case "postgres", "postgresql":
		u, err := url.Parse(s)
		if err != nil {
			return dbSpec{}, fmt.Errorf("database %s: not a valid URL", redactAny(s))
		}
		name := redact(u)
		if u.User == nil {
			name = redactAny(s) // not a URL with a user part: hide what looks like one
		}
		return dbSpec{driver: "pgx", dsn: s, dialect: sqldb.PostgreSQL, name: name}, nil
	case "mysql", "mariadb":
		return parseMySQL(s, rest)
	}
	return dbSpec{}, fmt.Errorf("database %q: want sqlite:PATH, postgres://… or mysql://…", redactAny(s))
}

// withPragmas returns the SQLite DSN dsn with each of pragmas ("name(value)") that it does
// not set already.
func withPragmas(dsn string, pragmas ...string) string {
	for _, p := range pragmas {
		name, _, _ := strings.Cut(p, "(")
		if strings.Contains(dsn, name) {
			continue
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "_pragma=" + p
	}
	return dsn
}

// bulkPragmas are the settings import opens an SQLite database with: write-ahead logging, so
// that Asterisk reading the tables is not blocked while an import writes, and with it
// synchronous=NORMAL, which stays safe in WAL mode (docs/benchmarks.md has the measurements).
var bulkPragmas = []string{"journal_mode(WAL)", "synchronous(NORMAL)"}

// redactAny hides a password in a spec of unknown form: the text between the first ':' of
// the user part and the last '@'. The user part starts after the first "//" that comes before
// that '@', or else at the start: in u:s3cr3t@//host the "//" comes after the password.
func redactAny(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s[:at], "//"); i >= 0 {
		start = i + len("//")
	}
	colon := strings.Index(s[start:at], ":")
	if colon < 0 {
		return s
	}
	return s[:start+colon+1] + "xxx" + s[at:]
}

// parseMySQL parses a mysql: spec, s, whose part after the scheme is rest.
func parseMySQL(s, rest string) (dbSpec, error) {
	var native string
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse(s)
		if err != nil {
			return dbSpec{}, fmt.Errorf("database %s: not a valid URL", redactAny(s))
		}
		cfg := mysql.NewConfig()
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		cfg.Net, cfg.Addr = "tcp", u.Host
		if u.Port() == "" {
			cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		native = cfg.FormatDSN()
		if u.RawQuery != "" {
			native += "?" + u.RawQuery
		}
		s = redact(u)
	} else {
		native = rest
		s = "mysql:" + redactAny(rest)
	}
	cfg, err := mysql.ParseDSN(native)
	if err != nil {
		return dbSpec{}, fmt.Errorf("database %s: %w", s, err)
	}
	if cfg.DBName == "" {
		return dbSpec{}, fmt.Errorf("database %s: no database name", s)
	}
	return dbSpec{driver: "mysql", dsn: cfg.FormatDSN(), dialect: sqldb.MySQL, name: s}, nil
}

// redact returns u with its password hidden.
func redact(u *url.URL) string {
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			c := *u
			c.User = url.UserPassword(u.User.Username(), "xxx")
			return c.String()
		}
	}
	return u.String()
}

// database is an open database and the sqldb wizards of its tables.
type database struct {
	spec    dbSpec
	db      *sql.DB
	wizards map[*objectType]*sqldb.Wizard
}

// openDB opens the database s names and checks that it answers. Unless create is set, an
// SQLite file must exist already: opening would make an empty one.
func openDB(ctx context.Context, s string, create bool) (*database, error) {
	spec, err := parseDB(s)
	if err != nil {
		return nil, err
	}
	if spec.path != "" && !create {
		if _, err := os.Stat(spec.path); err != nil {
			return nil, fmt.Errorf("database %s: %w", spec.name, err)
		}
	}
	if spec.driver == "sqlite" && create {
		spec.dsn = withPragmas(spec.dsn, bulkPragmas...)
	}
	db, err := sql.Open(spec.driver, spec.dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", spec.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s does not answer: %w", spec.name, err)
	}
	return &database{spec: spec, db: db, wizards: make(map[*objectType]*sqldb.Wizard)}, nil
}

// close closes the wizards and the database.
func (d *database) close() error {
	for _, w := range d.wizards {
		_ = w.Close() // fails only when closed already
	}
	return d.db.Close()
}

// tableExists reports whether the table of t is in the database, where sqldb looks for it:
// the current schema of PostgreSQL, the current database of MySQL.
func (d *database) tableExists(ctx context.Context, t *objectType) (bool, error) {
	var q string
	switch d.spec.dialect {
	case sqldb.PostgreSQL:
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND lower(table_name) = lower($1)"
	case sqldb.MySQL:
		q = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?)"
	default:
		q = "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE"
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	var n int
	if err := d.db.QueryRowContext(ctx, q, t.table).Scan(&n); err != nil {
		return false, fmt.Errorf("database %s: looking for table %s: %w", d.spec.name, t.table, err)
	}
	return n > 0, nil
}

// createTable creates the table of t from backends/sqldb's schema file for the dialect.
func (d *database) createTable(ctx context.Context, t *objectType) error {
	stmts, err := sqldb.SchemaStatements(d.spec.dialect)
	if err != nil {
		return err
	}
	mine := tableStatements(stmts, t.table)
	if len(mine) == 0 {
		return fmt.Errorf("database %s: no schema creates table %s", d.spec.name, t.table)
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	for _, s := range mine {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("database %s: creating table %s: %w", d.spec.name, t.table, err)
		}
	}
	return nil
}

// createTableRE matches the start of a CREATE TABLE statement and captures the table name.
var createTableRE = regexp.MustCompile("(?i)^CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?[\"`]?(\\w+)")

// tableStatements returns the statements that make table: its CREATE TABLE and the
// statements that follow it up to the next CREATE TABLE (its indexes, for instance). The
// first schema that creates the table wins.
func tableStatements(stmts []string, table string) []string {
	var (
		out  []string
		in   bool
		done bool
	)
	for _, s := range stmts {
		if m := createTableRE.FindStringSubmatch(s); m != nil {
			if in {
				done = true
			}
			in = !done && strings.EqualFold(m[1], table)
		}
		if in {
			out = append(out, s)
		}
	}
	return out
}

// wizard returns the sqldb wizard of t's table, opening it on first use.
func (d *database) wizard(ctx context.Context, t *objectType) (*sqldb.Wizard, error) {
	if w, ok := d.wizards[t]; ok {
		return w, nil
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	w, err := sqldb.NewContext(ctx, d.db, t.table, &sqldb.Options{
		Dialect:           d.spec.dialect,
		Timeout:           dbTimeout,
		RequireConnection: true,
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", d.spec.name, err)
	}
	d.wizards[t] = w
	return w, nil
}

// load reads every object of the types ts. A type whose table is missing is an error when
// strict is set, and holds no objects otherwise. Option names are lower-cased; when raw is
// not set, the options are those that take effect (see effective).
func (d *database) load(ctx context.Context, ts []*objectType, strict, raw bool) (*objectSet, error) {
	set := newObjectSet()
	for _, t := range ts {
		if !t.realtime() {
			return nil, fmt.Errorf("database %s: type %s has no realtime table: %s", d.spec.name, t.name, t.why)
		}
		ok, err := d.tableExists(ctx, t)
		if err != nil {
			return nil, err
		}
		if !ok {
			if strict {
				return nil, fmt.Errorf("database %s has no table %s (type %s)", d.spec.name, t.table, t.name)
			}
			continue
		}
		w, err := d.wizard(ctx, t)
		if err != nil {
			return nil, err
		}
		recs, err := w.Search(ctx, sorcery.Query{})
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", d.spec.name, err)
		}
		for _, r := range recs {
			set.add(dbObject(t, r, raw))
		}
	}
	return set, nil
}

// dbObject returns the object of type t that record r of its table holds.
func dbObject(t *objectType, r sorcery.Record, raw bool) *object {
	fields := r.Fields.Clone()
	for i := range fields {
		fields[i].Name = strings.ToLower(fields[i].Name)
	}
	if !raw {
		fields, _ = effective(t, fields, nil)
	}
	return &object{typ: t, id: r.ID, fields: fields}
}

// columns returns the lower-cased column names of a wizard's table.
func columns(w *sqldb.Wizard) map[string]bool {
	cols := make(map[string]bool)
	for _, c := range w.Columns() {
		cols[strings.ToLower(c)] = true
	}
	return cols
}
