// Package sqldb serves sorcery objects from Asterisk realtime tables (ps_endpoints,
// ps_auths, ps_aors, ps_contacts, …) through database/sql, on PostgreSQL, MySQL/MariaDB and
// SQLite. It reads and writes the same rows Asterisk's res_config_pgsql, res_config_mysql and
// res_config_odbc do, so a Go program and Asterisk can share one database.
//
// The package imports no driver: the caller opens the *sql.DB with the driver of its choice
// (pgx's stdlib or lib/pq, go-sql-driver/mysql, modernc.org/sqlite or mattn/go-sqlite3) and
// keeps it; the dialect is detected from the driver or given in [Options].
//
//	db, _ := sql.Open("pgx", "postgres://asterisk@db/asterisk")
//	endpoints, err := sqldb.New(db, "ps_endpoints", nil)
//
// # Tables and identifiers
//
// When a wizard opens, and at every Reload, it reads the table's columns from the database's
// catalog (information_schema, or SQLite's table_info); the table must have an id column.
// Every identifier in the SQL it writes is one of those names, quoted for the dialect, so a
// field name can never inject SQL: a field without a column is errors.ErrInvalid (writes may
// drop such fields instead, with [Options].IgnoreUnknownFields). Every value is a bound
// parameter. Field names match columns without regard to case, as Asterisk's option names
// do; records carry the names as the catalog spells them.
//
// # Realtime conventions
//
// The column id is the object's id; every other column is a field of the same name. A NULL
// or empty column is no field. A value holding ';' is a list, as Asterisk's realtime drivers
// read it: split at each ';', each chunk trimmed, empty chunks dropped, and ^XX decoded in
// each chunk (^3B is ';', ^5E is '^'). Writing does the reverse: a field's values are joined
// with ';' after ';' and '^' are encoded, so they read back unchanged here and in Asterisk.
// The id is never split, but is encoded and decoded the same way, as Asterisk's ODBC driver
// does with every value it binds: a PJSIP contact "1001;@a1b2" is stored as "1001^3B@a1b2".
// [Options].Verbatim turns all this off. Columns that do not hold text (numbers, booleans,
// dates) are read and written as they are.
//
// Retrieve compares the id exactly, even where the column's collation (MySQL's usual ones)
// ignores case or trailing spaces. Create writes only the columns the record has values for,
// so the others take their defaults, and reports a taken id as errors.ErrExists; Update
// replaces the whole row (columns the record lacks become NULL); Update and Delete of a
// missing id are errors.ErrNotFound.
//
// # Searches
//
// A [sorcery.Query] becomes one SELECT. Conditions on =, !=, LIKE and regular expressions,
// and the id's prefix and regular expression, are pushed to the database as a filter that
// keeps at least every matching row (rows holding lists or escapes always pass it), and the
// query's sorcery.Matcher then keeps exactly the matching records: so "allow = alaw" finds
// a row whose allow is "ulaw;alaw", and a search means the same on every dialect and every
// collation. LIKE patterns and id prefixes are escaped with an explicit ESCAPE character.
// Regular expressions use the database's own operator where it has one (PostgreSQL's ~,
// MySQL's REGEXP) and a LIKE on a literal every match holds on SQLite; the pattern must then
// mean the same to the database as to Go's regexp, which holds for the common POSIX subset
// (PostgreSQL reads \b as a backspace, for one, where Go reads a word boundary). The ordering
// comparisons (<, <=, >, >=) are left to the database, which compares by the column's type:
// numerically on a number column, by collation on a text one.
//
// # Failure versus absence
//
// No row is "not found". An error is classified without importing a driver (see
// classify.go): a refused, reset or broken connection, a timeout, PostgreSQL's connection,
// shutdown and resource errors (SQLSTATE classes 08, 53, 57P0x …), MySQL's lost, gone away
// and can't-connect errors (2002, 2003, 2006, 2013, the driver's "invalid connection") and
// database/sql's driver.ErrBadConn are errors.ErrUnavailable: the caller, typically a cache,
// keeps serving what it holds. A constraint violated or a value the column cannot hold is
// errors.ErrInvalid. A cancelled ctx returns an error matching context.Canceled; a deadline
// matches both context.DeadlineExceeded and errors.ErrUnavailable. Other database errors
// are returned wrapped, matching none of these.
//
// A wizard opened while its database is down still opens (unless
// [Options].RequireConnection): it learns its columns on first use, every call failing with
// errors.ErrUnavailable until then.
//
// # Schemas
//
// [Schema] and [SchemaStatements] return SQL that creates Asterisk's PJSIP tables for each
// dialect, with Asterisk's column names and compatible types; [SchemaFS] holds the files.
//
// # Capabilities, concurrency and lifetime
//
// A [Wizard] implements sorcery.Wizard, sorcery.Searcher, sorcery.Writer, sorcery.Reloader
// and io.Closer, and is safe for concurrent use. Its statements are prepared once per SQL
// text and reused (database/sql prepares them again on each connection that needs them).
// Reload re-reads the columns; the statements of the old columns are closed once the calls
// using them are done. Close closes the statements, never the *sql.DB. The zero Wizard is
// not usable: open one with [New].
package sqldb
