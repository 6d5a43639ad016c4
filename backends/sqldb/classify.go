package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"

	"github.com/gosorcery/gosorcery/errors"
)

// Error classification.
//
// The library imports no driver, so it recognises drivers' errors by their shape:
//
//   - SQLSTATE codes through the method SQLState() string (pgx's *pgconn.PgError, lib/pq's
//     *pq.Error) or the field SQLState [5]byte (go-sql-driver/mysql's *mysql.MySQLError);
//   - MySQL's error numbers through the field Number of a struct named MySQLError;
//   - SQLite's result codes through the method Code() int (modernc.org/sqlite's *sqlite.Error)
//     or the fields Code and ExtendedCode of a struct named Error in a package named sqlite3
//     (mattn/go-sqlite3);
//   - network failures as net.Error, syscall errnos, io.EOF and io.ErrUnexpectedEOF, and
//     errors that say Timeout() or SafeToRetry() (pgx's connection errors);
//   - database/sql's driver.ErrBadConn and sql.ErrConnDone.
//
// Only where a driver offers nothing else is the message read: go-sql-driver/mysql's
// ErrInvalidConn ("invalid connection") and ErrPktSync, which it returns when a connection
// broke mid-command, and a few messages of connections that died ("bad connection",
// "conn closed", "connection reset by peer", "broken pipe", "connection refused").

// dbError carries the sentinel a database error was classified as, and the error itself.
type dbError struct {
	kind error // errors.ErrUnavailable, errors.ErrInvalid, …; never nil
	err  error // the driver's error, or the context's
}

func (e *dbError) Error() string { return "sorcery: " + e.Detail() }

// Detail is Error without the library's name (see errors.Detailer).
func (e *dbError) Detail() string { return errors.Detail(e.kind) + ": " + errors.Detail(e.err) }

func (e *dbError) Unwrap() []error { return []error{e.kind, e.err} }

// wrapDB returns err from a database call made under ctx, marked with the sentinel it is
// classified as. A context that ended wins: a deadline is errors.ErrUnavailable and
// context.DeadlineExceeded, a cancellation matches context.Canceled. Errors of no known
// class are returned as they are.
func wrapDB(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		cause := context.Cause(ctx)
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			if errors.Is(cause, context.DeadlineExceeded) {
				return &dbError{kind: errors.ErrUnavailable, err: cause}
			}
			return &dbError{kind: errors.ErrUnavailable, err: errors.Join(ctxErr, cause)}
		}
		if cause != ctxErr {
			return errors.Join(ctxErr, cause)
		}
		return ctxErr
	}
	if kind := classify(ctx, err); kind != nil {
		return &dbError{kind: kind, err: redact(err)}
	}
	return redact(err)
}

// classify returns the sentinel err belongs to, or nil.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.ErrUnavailable
	}
	if errors.Is(err, context.Canceled) {
		if ctx.Err() == nil {
			// The driver gave up on its own (a closed connection pool): not the caller.
			return errors.ErrUnavailable
		}
		return nil
	}
	var kind error
	walk(err, func(e error) bool {
		kind = classifyOne(e)
		return kind != nil
	})
	return kind
}

// walk calls f on every error in err's tree, depth first, until f returns true.
func walk(err error, f func(error) bool) bool {
	for err != nil {
		if f(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, f) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}

// classifyOne classifies one error of a tree, without looking at what it wraps.
func classifyOne(e error) error {
	switch e {
	case driver.ErrBadConn, sql.ErrConnDone, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed:
		return errors.ErrUnavailable
	}
	if n, ok := mysqlNumber(e); ok {
		if kind := classifyMySQL(n); kind != nil {
			return kind
		}
	}
	if state, ok := sqlState(e); ok {
		if kind := classifySQLState(state); kind != nil {
			return kind
		}
	}
	if code, ok := sqliteCode(e); ok {
		return classifySQLite(code)
	}
	if errno, ok := e.(syscall.Errno); ok {
		switch errno {
		case syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
			syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
			syscall.EHOSTDOWN, syscall.EADDRNOTAVAIL, syscall.ENOTCONN, syscall.ESHUTDOWN:
			return errors.ErrUnavailable
		}
	}
	if _, ok := e.(net.Error); ok {
		return errors.ErrUnavailable
	}
	if t, ok := e.(interface{ Timeout() bool }); ok && t.Timeout() {
		return errors.ErrUnavailable
	}
	if r, ok := e.(interface{ SafeToRetry() bool }); ok && r.SafeToRetry() {
		return errors.ErrUnavailable
	}
	msg := e.Error()
	for _, m := range brokenConnMessages {
		if msg == m || strings.HasSuffix(msg, ": "+m) {
			return errors.ErrUnavailable
		}
	}
	return nil
}

// brokenConnMessages are whole messages (or their last part after ": ") of errors that
// drivers return, without a type or code, when a connection broke.
var brokenConnMessages = []string{
	"invalid connection", // go-sql-driver/mysql ErrInvalidConn
	"commands out of sync. You can't run this command now", // go-sql-driver/mysql ErrPktSync
	"bad connection",           // driver.ErrBadConn's text, when a driver copies it
	"conn closed",              // pgx
	"connection reset by peer", // a connection error flattened to text
	"broken pipe",              // idem
	"connection refused",       // idem
	"server closed the connection unexpectedly", // lib/pq and libpq
}

// sqlState returns the SQLSTATE code e carries: by the method SQLState() string (pgx,
// lib/pq), or by the field SQLState [5]byte (go-sql-driver/mysql).
func sqlState(e error) (string, bool) {
	if s, ok := e.(interface{ SQLState() string }); ok {
		state := s.SQLState()
		return state, len(state) == 5
	}
	v := structOf(e)
	if !v.IsValid() {
		return "", false
	}
	f := v.FieldByName("SQLState")
	if f.IsValid() && f.Kind() == reflect.Array && f.Len() == 5 && f.Type().Elem().Kind() == reflect.Uint8 {
		var b [5]byte
		for i := range b {
			b[i] = byte(f.Index(i).Uint())
		}
		if b != ([5]byte{}) {
			return string(b[:]), true
		}
	}
	return "", false
}

// mysqlNumber returns the error number of a MySQL or MariaDB server error, read from the
// field Number of a struct named MySQLError (go-sql-driver/mysql).
func mysqlNumber(e error) (uint16, bool) {
	v := structOf(e)
	if !v.IsValid() || v.Type().Name() != "MySQLError" {
		return 0, false
	}
	f := v.FieldByName("Number")
	if !f.IsValid() || !f.CanUint() {
		return 0, false
	}
	return uint16(f.Uint()), true
}

// sqliteCode returns the (extended, when known) result code of an SQLite error: by the method
// Code() int (modernc.org/sqlite), or by the fields ExtendedCode and Code of a struct named
// Error from a package named sqlite3 (mattn/go-sqlite3).
func sqliteCode(e error) (int, bool) {
	if c, ok := e.(interface{ Code() int }); ok {
		return c.Code(), true
	}
	v := structOf(e)
	if !v.IsValid() || v.Type().Name() != "Error" || !strings.HasSuffix(v.Type().PkgPath(), "sqlite3") {
		return 0, false
	}
	for _, name := range []string{"ExtendedCode", "Code"} {
		if f := v.FieldByName(name); f.IsValid() && f.CanInt() && f.Int() != 0 {
			return int(f.Int()), true
		}
	}
	return 0, false
}

// structOf returns the struct e is or points to, or the zero Value.
func structOf(e error) reflect.Value {
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v
}

// classifySQLState classifies a SQLSTATE code (PostgreSQL's, and the standard classes
// MySQL uses).
func classifySQLState(state string) error {
	switch state {
	case "57014", // query_canceled: statement_timeout, or a cancel request
		"57P01", "57P02", "57P03", "57P04", "57P05", // shutdowns, cannot connect now, idle session timeout
		"40001", "40P01", // serialization failure, deadlock: retry later
		"55P03", // lock_not_available
		"25006": // read_only_sql_transaction: a standby, during failover
		return errors.ErrUnavailable
	case "23505":
		return errors.ErrInvalid // a duplicate; Create tells ErrExists from the rest
	}
	switch state[:2] {
	case "08", // connection exception (MySQL's 08S01 too)
		"53", // insufficient resources: too many connections, out of memory, disk full
		"58", // system error: I/O error
		"28": // invalid authorization: the server turned us away
		return errors.ErrUnavailable
	case "22", // data exception: a value the column cannot hold, a bad pattern
		"23": // integrity constraint violation
		return errors.ErrInvalid
	}
	return nil
}

// classifyMySQL classifies the error numbers of MySQL and MariaDB (server errors, and the
// client errors other clients report).
func classifyMySQL(n uint16) error {
	switch n {
	case 1040, // too many connections
		1044, 1045, // access denied
		1053,       // server shutdown in progress
		1081,       // can't create IP socket
		1129, 1130, // host blocked, host not allowed
		1152, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, // aborted connection, net read/write errors and timeouts
		1205, 1213, // lock wait timeout, deadlock
		1290, 1836, 1792, // read-only server or transaction, during failover
		1317,                         // query interrupted
		1615,                         // prepared statement needs to be re-prepared
		1927,                         // connection killed (MariaDB)
		1969,                         // statement timeout (MariaDB)
		3024,                         // max_execution_time exceeded (MySQL)
		4031,                         // disconnected by the server for inactivity (MySQL)
		2002, 2003, 2006, 2013, 2055: // can't connect (socket, TCP), gone away, lost connection
		return errors.ErrUnavailable
	case 1048, 1364, // column cannot be null, has no default
		1062, 1169, 1586, // duplicate entry; Create tells ErrExists from the rest
		1264, 1265, 1292, 1366, 1367, 1406, 1411, 1690, // out of range, truncated, incorrect value
		1451, 1452, // foreign key
		3819, 4025, // check constraint (MySQL, MariaDB)
		1139: // regex error (MariaDB)
		return errors.ErrInvalid
	}
	if n >= 3685 && n <= 3699 { // MySQL's regular expression errors
		return errors.ErrInvalid
	}
	return nil
}

// classifySQLite classifies SQLite result codes.
func classifySQLite(code int) error {
	switch code & 0xff {
	case 5, 6, // SQLITE_BUSY, SQLITE_LOCKED
		10, // SQLITE_IOERR
		13, // SQLITE_FULL
		14, // SQLITE_CANTOPEN
		15: // SQLITE_PROTOCOL
		return errors.ErrUnavailable
	case 18, // SQLITE_TOOBIG
		19, // SQLITE_CONSTRAINT
		20, // SQLITE_MISMATCH
		25: // SQLITE_RANGE
		return errors.ErrInvalid
	}
	return nil
}

// isDuplicate reports whether err says a unique constraint was violated.
func isDuplicate(err error) bool {
	return walk(err, func(e error) bool {
		if n, ok := mysqlNumber(e); ok {
			return n == 1062 || n == 1169 || n == 1586
		}
		if state, ok := sqlState(e); ok && state == "23505" {
			return true
		}
		if code, ok := sqliteCode(e); ok {
			return code == 1555 || code == 2067 // SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE
		}
		return false
	})
}
