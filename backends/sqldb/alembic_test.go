package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/internal/testdb"
)

// The shipped schema is checked against the schema of Asterisk's alembic head, kept as
// testdata/alembic/{postgres,mysql}.sql (each file's header names the Asterisk revision and
// how it was generated). Both are loaded into fresh schemas of a real server and compared
// through information_schema.columns.

// ddlColumn is one column as information_schema describes it.
type ddlColumn struct {
	typ   string   // data_type, lower case; "enum" for an enumeration
	width int64    // character_maximum_length; 0 when there is none
	enum  []string // the values of an enumeration, in order
}

func (c ddlColumn) String() string {
	switch {
	case c.typ == "enum":
		return "enum(" + strings.Join(c.enum, ",") + ")"
	case c.width > 0:
		return fmt.Sprintf("%s(%d)", c.typ, c.width)
	}
	return c.typ
}

// tableColumns maps a table name to its columns by name.
type tableColumns map[string]map[string]ddlColumn

// isText reports whether the type is a character type.
func isText(typ string) bool {
	switch typ {
	case "character varying", "varchar", "character", "char", "text":
		return true
	}
	return false
}

// compareSchemas compares every shipped table with Asterisk's, as SchemaFS documents that
// each ships all of Asterisk's columns. It returns the differences: shipped tables or columns
// missing from Asterisk, columns of another type or width, and Asterisk columns a shipped
// table lacks. An Asterisk enumeration is matched by a shipped character column wide enough
// for each of its values (the shipped schema keeps enumerations as plain text, as its header
// says), or by an enumeration with the same values.
func compareSchemas(shipped, asterisk tableColumns) (diffs []string) {
	for _, table := range mapsKeys(shipped) {
		theirs, ok := asterisk[table]
		if !ok {
			diffs = append(diffs, table+": no such table in Asterisk's schema")
			continue
		}
		for _, name := range mapsKeys(shipped[table]) {
			ours := shipped[table][name]
			their, ok := theirs[name]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s.%s: %s shipped, not in Asterisk's schema", table, name, ours))
			case their.typ == "enum" && ours.typ == "enum":
				if !slices.Equal(ours.enum, their.enum) {
					diffs = append(diffs, fmt.Sprintf("%s.%s: shipped %s, Asterisk %s", table, name, ours, their))
				}
			case their.typ == "enum":
				longest := 0
				for _, v := range their.enum {
					longest = max(longest, len(v))
				}
				if !isText(ours.typ) || (ours.width > 0 && ours.width < int64(longest)) {
					diffs = append(diffs, fmt.Sprintf("%s.%s: shipped %s does not hold Asterisk's %s", table, name, ours, their))
				}
			case ours.typ != their.typ || ours.width != their.width:
				diffs = append(diffs, fmt.Sprintf("%s.%s: shipped %s, Asterisk %s", table, name, ours, their))
			}
		}
		for _, name := range mapsKeys(theirs) {
			if _, ok := shipped[table][name]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: Asterisk's %s not shipped", table, name, theirs[name]))
			}
		}
	}
	return diffs
}

func mapsKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestCompareSchemasReportsEachDifference(t *testing.T) {
	asterisk := tableColumns{"ps_aors": {
		"id":             {typ: "varchar", width: 255},
		"outbound_proxy": {typ: "varchar", width: 255},
		"max_contacts":   {typ: "int"},
		"support_path":   {typ: "enum", enum: []string{"0", "1", "off", "on", "false", "true", "no", "yes"}},
		"voicemail":      {typ: "varchar", width: 80},
	}, "ps_endpoints": {
		"id":     {typ: "varchar", width: 255},
		"bundle": {typ: "enum", enum: []string{"yes", "no"}},
	}}
	shipped := tableColumns{"ps_aors": {
		"id":             {typ: "varchar", width: 255},
		"outbound_proxy": {typ: "varchar", width: 256},
		"max_contacts":   {typ: "varchar", width: 10},
		"support_path":   {typ: "varchar", width: 4},
		"extra":          {typ: "varchar", width: 40},
	}, "ps_endpoints": {
		"id": {typ: "varchar", width: 255},
	}, "ps_nothing": {
		"id": {typ: "varchar", width: 255},
	}}
	diffs := compareSchemas(shipped, asterisk)
	want := []string{
		"ps_aors.extra: varchar(40) shipped, not in Asterisk's schema",
		"ps_aors.max_contacts: shipped varchar(10), Asterisk int",
		"ps_aors.outbound_proxy: shipped varchar(256), Asterisk varchar(255)",
		"ps_aors.support_path: shipped varchar(4) does not hold Asterisk's enum(0,1,off,on,false,true,no,yes)",
		"ps_aors.voicemail: Asterisk's varchar(80) not shipped",
		"ps_endpoints.bundle: Asterisk's enum(yes,no) not shipped",
		"ps_nothing: no such table in Asterisk's schema",
	}
	if !slices.Equal(diffs, want) {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(diffs, "\n"), strings.Join(want, "\n"))
	}

	shipped["ps_aors"] = map[string]ddlColumn{}
	for name, c := range asterisk["ps_aors"] {
		shipped["ps_aors"][name] = c
	}
	shipped["ps_aors"]["support_path"] = ddlColumn{typ: "varchar", width: 5}
	shipped["ps_endpoints"]["bundle"] = ddlColumn{typ: "varchar", width: 3}
	delete(shipped, "ps_nothing")
	if diffs := compareSchemas(shipped, asterisk); len(diffs) != 0 {
		t.Errorf("equal schemas differ: %q", diffs)
	}
}

// TestShippedSchemaMatchesAlembicHead loads Asterisk's alembic head and the shipped schema
// into two fresh schemas of PostgreSQL and of MariaDB/MySQL, and compares each shipped table
// with Asterisk's, column by column, both ways.
func TestShippedSchemaMatchesAlembicHead(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		db := testdb.Postgres(t)
		checkAgainstAlembic(t, PostgreSQL, func(stmts []string) tableColumns {
			return loadPostgres(t, db, stmts)
		})
	})
	t.Run("mysql", func(t *testing.T) {
		db := testdb.MySQL(t)
		checkAgainstAlembic(t, MySQL, func(stmts []string) tableColumns {
			return loadMySQL(t, db, stmts)
		})
	})
}

func checkAgainstAlembic(t *testing.T, d Dialect, load func(stmts []string) tableColumns) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "alembic", string(d)+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	asterisk := load(splitStatements(string(text)))
	ours, err := SchemaStatements(d)
	if err != nil {
		t.Fatal(err)
	}
	shipped := load(ours)
	if len(shipped) == 0 || len(asterisk["ps_endpoints"]) == 0 {
		t.Fatalf("schemas not loaded: %d shipped tables, %d columns in Asterisk's ps_endpoints",
			len(shipped), len(asterisk["ps_endpoints"]))
	}
	if diffs := compareSchemas(shipped, asterisk); len(diffs) > 0 {
		t.Errorf("the shipped %s schema differs from Asterisk's alembic head:\n%s", d, strings.Join(diffs, "\n"))
	}
}

// loadPostgres runs the statements in a new schema and returns its columns.
func loadPostgres(t *testing.T, db *sql.DB, stmts []string) tableColumns {
	t.Helper()
	schema := testdb.Name(t, "alembic")
	testdb.Exec(t, db, "CREATE SCHEMA "+schema)
	testdb.Cleanup(t, db, "DROP SCHEMA "+schema+" CASCADE")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.ExecContext(ctx, "RESET search_path") }()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("exec %.80q: %v", s, err)
		}
	}

	enums := map[string][]string{}
	rows, err := db.QueryContext(ctx, `SELECT t.typname, e.enumlabel FROM pg_enum e
		JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = $1 ORDER BY t.typname, e.enumsortorder`, schema)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ, label string
		if err := rows.Scan(&typ, &label); err != nil {
			t.Fatal(err)
		}
		enums[typ] = append(enums[typ], label)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()

	rows, err = db.QueryContext(ctx, `SELECT table_name, column_name, data_type,
		COALESCE(character_maximum_length, 0), udt_name
		FROM information_schema.columns WHERE table_schema = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols := tableColumns{}
	for rows.Next() {
		var table, name, udt string
		var c ddlColumn
		if err := rows.Scan(&table, &name, &c.typ, &c.width, &udt); err != nil {
			t.Fatal(err)
		}
		c.typ = strings.ToLower(c.typ)
		if values, ok := enums[udt]; ok && c.typ == "user-defined" {
			c.typ, c.enum = "enum", values
		}
		addColumn(cols, table, name, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

// loadMySQL runs the statements in a new database and returns its columns.
func loadMySQL(t *testing.T, db *sql.DB, stmts []string) tableColumns {
	t.Helper()
	name := testdb.Name(t, "alembic")
	testdb.Exec(t, db, "CREATE DATABASE "+name)
	testdb.Cleanup(t, db, "DROP DATABASE "+name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	var current sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&current); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "USE "+name); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if current.Valid {
			_, _ = conn.ExecContext(ctx, "USE "+current.String)
		} else {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("exec %.80q: %v", s, err)
		}
	}

	rows, err := db.QueryContext(ctx, `SELECT table_name, column_name, data_type,
		COALESCE(character_maximum_length, 0), column_type
		FROM information_schema.columns WHERE table_schema = ?`, name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols := tableColumns{}
	for rows.Next() {
		var table, col, colType string
		var c ddlColumn
		if err := rows.Scan(&table, &col, &c.typ, &c.width, &colType); err != nil {
			t.Fatal(err)
		}
		c.typ = strings.ToLower(c.typ)
		if c.typ == "enum" {
			c.enum = enumValues(colType)
			c.width = 0
		}
		addColumn(cols, table, col, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

// enumValues returns the values of a MySQL column type enum('a','b').
func enumValues(colType string) []string {
	inner := strings.TrimSuffix(strings.TrimPrefix(colType, "enum("), ")")
	inner = strings.TrimSuffix(strings.TrimPrefix(inner, "'"), "'")
	values := strings.Split(inner, "','")
	for i, v := range values {
		values[i] = strings.ReplaceAll(v, "''", "'")
	}
	return values
}

func addColumn(cols tableColumns, table, name string, c ddlColumn) {
	if cols[table] == nil {
		cols[table] = map[string]ddlColumn{}
	}
	cols[table][name] = c
}
