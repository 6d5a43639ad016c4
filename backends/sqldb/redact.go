package sqldb

import "strconv"

// redacted is an error a database server answered, shown without its message: servers quote
// the values of a statement in their messages (PostgreSQL's `invalid input syntax for type
// integer: "…"`, MySQL's `Duplicate entry '…' for key …`), and values carry passwords, while
// errors end up in logs. Its Error names the server's codes; errors.As on the wizard's error
// still finds the driver's error, message and all, for a caller that wants it.
type redacted struct {
	err  error
	desc string
}

func (e *redacted) Error() string {
	return "the database refused the statement (" + e.desc + "; its message is not shown: it may quote values)"
}

func (e *redacted) Unwrap() error { return e.err }

// keptMySQL are MySQL error numbers whose messages name only identifiers or the statement
// (whose values travel as parameters), never values: a syntax error (1064),
// access denied (1044, 1045, 1142, 1143), unknown database, table or column (1049, 1146,
// 1054), too many connections (1040, 1203), lock timeout and deadlock (1205, 1213).
var keptMySQL = map[uint16]bool{1064: true, 1040: true, 1044: true, 1045: true, 1049: true, 1054: true, 1142: true, 1143: true, 1146: true, 1203: true, 1205: true, 1213: true}

// redact hides the message of a server's error that may quote values: SQLSTATE classes 22
// (data exception) and 23 (integrity constraint violation), and MySQL errors but those of
// keptMySQL. Connection errors, and errors about identifiers, keep their messages. SQLite's
// messages name constraints and columns, not values, and are kept.
func redact(err error) error {
	var desc string
	walk(err, func(e error) bool {
		if n, ok := mysqlNumber(e); ok {
			if !keptMySQL[n] {
				desc = "MySQL error " + strconv.Itoa(int(n))
			}
			return true
		}
		if state, ok := sqlState(e); ok {
			if c := state[:2]; c == "22" || c == "23" {
				desc = "SQLSTATE " + state
			}
			return true
		}
		return false
	})
	if desc == "" {
		return err
	}
	return &redacted{err: err, desc: desc}
}
