package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/gosorcery/gosorcery/errors"
)

// column is one column of the table, as the database's catalog names it.
type column struct {
	name    string // as the catalog spells it
	quoted  string // name quoted for the dialect
	textual bool   // holds text: string comparisons and the realtime conventions apply
	asText  string // the column as an expression LIKE and regular expressions take
}

// table is what the wizard learnt about its table at one discovery: the columns, the SQL
// built from them, and the statements prepared for that SQL. A Reload builds a new table;
// the old one's statements are closed once the calls using it are done.
type table struct {
	dialect Dialect
	name    string // the table's name as the catalog spells it, without schema
	quoted  string // the table, schema-qualified when one was given, quoted
	cols    []column
	id      int            // index of the id column in cols
	exact   map[string]int // column name → index
	folded  map[string]int // lower-case column name → index, or -1 when two columns fold alike

	retrieveSQL string
	updateSQL   string
	deleteSQL   string
	existsSQL   string

	mu      sync.Mutex // guards the fields below
	stmts   map[string]*sql.Stmt
	refs    int  // calls using the table
	retired bool // replaced by a Reload, or the wizard closed
}

// maxStatements bounds the prepared statements one table keeps. Searches and creates with
// other shapes run unprepared.
const maxStatements = 128

// discover reads the columns of the table named name (optionally "schema.table") and builds
// the table.
func discover(ctx context.Context, db *sql.DB, d Dialect, name string) (*table, error) {
	schema, tname, qualified := strings.Cut(name, ".")
	if !qualified {
		schema, tname = "", name
	}
	if tname == "" || (qualified && schema == "") || strings.Contains(tname, ".") {
		return nil, errors.Errorf("sqldb: bad table name %q: %w", name, errors.ErrInvalid)
	}
	var (
		rows *sql.Rows
		err  error
	)
	switch d {
	case PostgreSQL:
		q := `SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND lower(table_name) = lower($1)
ORDER BY table_name, ordinal_position`
		args := []any{tname}
		if qualified {
			q = strings.Replace(q, "current_schema()", "$2", 1)
			args = append(args, schema)
		}
		rows, err = db.QueryContext(ctx, q, args...)
	case MySQL:
		q := "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS " +
			"WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = LOWER(?) " +
			"ORDER BY TABLE_NAME, ORDINAL_POSITION"
		args := []any{tname}
		if qualified {
			q = strings.Replace(q, "DATABASE()", "?", 1)
			args = []any{schema, tname}
		}
		rows, err = db.QueryContext(ctx, q, args...)
	case SQLite:
		master := "sqlite_master"
		if qualified {
			master = d.quote(schema) + ".sqlite_master"
		}
		q := "SELECT m.name, p.name, p.type FROM " + master + " AS m, pragma_table_info(m.name" +
			map[bool]string{true: ", ?", false: ""}[qualified] + ") AS p " +
			"WHERE m.type IN ('table', 'view') AND m.name = ? COLLATE NOCASE ORDER BY m.name, p.cid"
		args := []any{tname}
		if qualified {
			args = []any{schema, tname}
		}
		rows, err = db.QueryContext(ctx, q, args...)
	default:
		return nil, errors.Errorf("sqldb: unknown dialect %q: %w", d, errors.ErrInvalid)
	}
	if err != nil {
		return nil, errors.Errorf("sqldb: columns of %s: %w", name, wrapDB(ctx, err))
	}
	defer rows.Close()

	type found struct {
		table string
		cols  []column
	}
	var tables []*found
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, errors.Errorf("sqldb: columns of %s: %w", name, wrapDB(ctx, err))
		}
		if len(tables) == 0 || tables[len(tables)-1].table != t {
			tables = append(tables, &found{table: t})
		}
		f := tables[len(tables)-1]
		f.cols = append(f.cols, newColumn(d, c, typ))
	}
	if err := rows.Err(); err != nil {
		return nil, errors.Errorf("sqldb: columns of %s: %w", name, wrapDB(ctx, err))
	}

	// The table whose name matches exactly wins; otherwise the one whose name matches but for
	// case, when there is only one.
	var pick *found
	for _, f := range tables {
		if f.table == tname {
			pick = f
		}
	}
	if pick == nil {
		if len(tables) > 1 {
			return nil, errors.Errorf("sqldb: table %s: %d tables differ from it only in case: %w", name, len(tables), errors.ErrInvalid)
		}
		if len(tables) == 0 {
			return nil, errors.Errorf("sqldb: table %s does not exist or has no columns: %w", name, errors.ErrInvalid)
		}
		pick = tables[0]
	}
	quoted := d.quote(pick.table)
	if qualified {
		quoted = d.quote(schema) + "." + quoted
	}
	return newTable(d, pick.table, quoted, pick.cols)
}

// newColumn describes the column name of the catalog type typ.
func newColumn(d Dialect, name, typ string) column {
	c := column{name: name, quoted: d.quote(name), textual: isTextual(d, typ)}
	c.asText = c.quoted
	if d == PostgreSQL {
		// PostgreSQL has LIKE and ~ for its string types only: enumerations (Asterisk's
		// yes/no columns), numbers and the rest are cast.
		t := strings.ToLower(typ)
		if !strings.Contains(t, "char") && t != "text" {
			c.asText = "CAST(" + c.quoted + " AS TEXT)"
		}
	}
	return c
}

// isTextual reports whether a column of the catalog type typ holds text.
func isTextual(d Dialect, typ string) bool {
	t := strings.ToLower(typ)
	if d == SQLite {
		// SQLite's type affinity rules: a declared type with INT is integer, with CHAR, CLOB or
		// TEXT text, with BLOB or none a blob (which holds what it is given), with REAL, FLOA
		// or DOUB real, and anything else numeric.
		switch {
		case strings.Contains(t, "int"):
			return false
		case strings.Contains(t, "char"), strings.Contains(t, "clob"), strings.Contains(t, "text"):
			return true
		case t == "", strings.Contains(t, "blob"):
			return true
		}
		return false
	}
	for _, s := range []string{"char", "text", "clob", "enum", "set", "user-defined", "json", "uuid", "name", "citext"} {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// newTable builds the table from its columns.
func newTable(d Dialect, name, quoted string, cols []column) (*table, error) {
	t := &table{
		dialect: d,
		name:    name,
		quoted:  quoted,
		cols:    cols,
		id:      -1,
		exact:   make(map[string]int, len(cols)),
		folded:  make(map[string]int, len(cols)),
		stmts:   make(map[string]*sql.Stmt),
	}
	for i, c := range cols {
		t.exact[c.name] = i
		k := strings.ToLower(c.name)
		if _, dup := t.folded[k]; dup {
			t.folded[k] = -1
		} else {
			t.folded[k] = i
		}
	}
	id, err := t.lookup("id")
	if err != nil {
		return nil, errors.Errorf("sqldb: table %s has no id column: %w", name, errors.ErrInvalid)
	}
	t.id = id

	var sel strings.Builder
	for i, c := range cols {
		if i > 0 {
			sel.WriteString(", ")
		}
		sel.WriteString(c.quoted)
	}
	where := t.idWhere(1)
	t.retrieveSQL = "SELECT " + sel.String() + " FROM " + quoted + " WHERE " + where
	t.existsSQL = "SELECT " + cols[id].quoted + " FROM " + quoted + " WHERE " + where
	t.deleteSQL = "DELETE FROM " + quoted + " WHERE " + where

	var upd strings.Builder
	upd.WriteString("UPDATE " + quoted + " SET ")
	n := 0
	for i, c := range cols {
		if i == id {
			continue
		}
		if n > 0 {
			upd.WriteString(", ")
		}
		n++
		upd.WriteString(c.quoted + " = " + d.placeholder(n))
	}
	if n == 0 {
		t.updateSQL = "" // a table of ids only: an update is an existence check
	} else {
		upd.WriteString(" WHERE " + t.idWhere(n+1))
		t.updateSQL = upd.String()
	}
	return t, nil
}

// idWhere returns the condition "the id is the parameter", the parameter being the n-th.
// MySQL compares under the column's collation, usually case-insensitive and blind to
// trailing spaces; a binary comparison next to the indexed one makes the match exact there
// too, and the id is then bound twice.
func (t *table) idWhere(n int) string {
	id := t.cols[t.id].quoted
	if t.dialect == MySQL {
		return id + " = ? AND CAST(" + id + " AS BINARY) = CAST(? AS BINARY)"
	}
	return id + " = " + t.dialect.placeholder(n)
}

// idArgs returns the arguments idWhere needs for id.
func (t *table) idArgs(args []any, id string) []any {
	if t.dialect == MySQL {
		return append(args, id, id)
	}
	return append(args, id)
}

// lookup returns the index of the column a field name stands for: the column of that exact
// name, or else the only one whose name differs from it in case.
func (t *table) lookup(field string) (int, error) {
	if i, ok := t.exact[field]; ok {
		return i, nil
	}
	i, ok := t.folded[strings.ToLower(field)]
	if !ok {
		return 0, errors.Errorf("sqldb: table %s has no column %q: %w", t.name, field, errors.ErrInvalid)
	}
	if i < 0 {
		return 0, errors.Errorf("sqldb: table %s has several columns named %q but for case: %w", t.name, field, errors.ErrInvalid)
	}
	return i, nil
}

// acquire notes a call using t; release ends it.
func (t *table) acquire() {
	t.mu.Lock()
	t.refs++
	t.mu.Unlock()
}

func (t *table) release() {
	t.mu.Lock()
	t.refs--
	var stmts map[string]*sql.Stmt
	if t.retired && t.refs == 0 {
		stmts, t.stmts = t.stmts, nil
	}
	t.mu.Unlock()
	closeStmts(stmts)
}

// retire marks t replaced; its statements are closed once no call uses it.
func (t *table) retire() {
	t.mu.Lock()
	t.retired = true
	var stmts map[string]*sql.Stmt
	if t.refs == 0 {
		stmts, t.stmts = t.stmts, nil
	}
	t.mu.Unlock()
	closeStmts(stmts)
}

func closeStmts(stmts map[string]*sql.Stmt) {
	for _, s := range stmts {
		_ = s.Close() // database/sql's Stmt.Close reports nothing a caller can act on
	}
}

// stmt returns the prepared statement for query, preparing it on first use. It returns nil
// and no error when the cache is full: the caller then runs query unprepared. The caller
// holds a reference to t.
func (t *table) stmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	t.mu.Lock()
	s, ok := t.stmts[query]
	full := len(t.stmts) >= maxStatements
	t.mu.Unlock()
	if ok {
		return s, nil
	}
	if full {
		return nil, nil
	}
	s, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if other, ok := t.stmts[query]; ok {
		_ = s.Close()
		return other, nil
	}
	if t.stmts == nil { // retired and already released: cannot happen while the caller holds a reference
		_ = s.Close()
		return nil, nil
	}
	t.stmts[query] = s
	return s, nil
}
