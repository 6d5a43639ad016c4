package pgnotify

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/invalidate"
)

//go:embed function.sql
var functionSQL string

//go:embed ps_tables.sql
var psTablesSQL string

// Table maps a realtime table to the object type whose changes its trigger announces.
type Table struct {
	Name     string // the table, optionally schema-qualified: "ps_endpoints", "asterisk.ps_aors"
	Type     string // the object type: "endpoint"
	IDColumn string // the column holding the object id; empty means "id"
}

// PSTables returns the PJSIP realtime tables of Asterisk and their object types:
// ps_endpoints (endpoint), ps_auths (auth), ps_aors (aor) and ps_contacts (contact).
func PSTables() []Table {
	return []Table{
		{Name: "ps_endpoints", Type: "endpoint"},
		{Name: "ps_auths", Type: "auth"},
		{Name: "ps_aors", Type: "aor"},
		{Name: "ps_contacts", Type: "contact"},
	}
}

// FunctionSQL returns the SQL that creates (or replaces) the trigger function
// sorcery_notify(), in the first schema of the search path. Attach it to any table with
// [TriggerSQL].
func FunctionSQL() string { return functionSQL }

// PSTablesSQL returns the script shipped as ps_tables.sql: in one transaction, the trigger
// function and a trigger on each of [PSTables] announcing on the default channel. Run it with
// psql against the Asterisk realtime database:
//
//	psql -d asterisk -f ps_tables.sql
func PSTablesSQL() string { return psTablesSQL }

// TriggerSQL returns the SQL that attaches sorcery_notify to table t, announcing on channel
// (empty means [DefaultChannel]): it drops the table's trigger named sorcery_notify if there
// is one and creates it again, AFTER INSERT OR UPDATE OR DELETE, FOR EACH ROW. A table or type
// that cannot be used is errors.ErrInvalid.
func TriggerSQL(t Table, channel string) (string, error) {
	if channel == "" {
		channel = DefaultChannel
	}
	if err := validChannel(channel); err != nil {
		return "", err
	}
	if err := invalidate.ValidType(t.Type); err != nil {
		return "", errors.Errorf("pgnotify: table %q: %w", t.Name, err)
	}
	table, err := quoteQualified(t.Name)
	if err != nil {
		return "", err
	}
	args := []string{quoteLiteral(t.Type)}
	if channel != DefaultChannel || t.IDColumn != "" {
		args = append(args, quoteLiteral(channel))
	}
	if t.IDColumn != "" {
		if strings.ContainsAny(t.IDColumn, "\x00\\") {
			return "", errors.Errorf("pgnotify: table %q: bad id column %q: %w", t.Name, t.IDColumn, errors.ErrInvalid)
		}
		args = append(args, quoteLiteral(t.IDColumn))
	}
	return fmt.Sprintf("DROP TRIGGER IF EXISTS sorcery_notify ON %s;\n"+
		"CREATE TRIGGER sorcery_notify AFTER INSERT OR UPDATE OR DELETE ON %s\n"+
		"\tFOR EACH ROW EXECUTE FUNCTION sorcery_notify(%s);\n",
		table, table, strings.Join(args, ", ")), nil
}

// InstallSQL returns [FunctionSQL] followed by [TriggerSQL] for each table, announcing on
// channel (empty means [DefaultChannel]); no tables means [PSTables]. It has no BEGIN or
// COMMIT: run it in a transaction of yours, or as one multi-statement Exec, which PostgreSQL
// runs as one transaction.
func InstallSQL(channel string, tables ...Table) (string, error) {
	if len(tables) == 0 {
		tables = PSTables()
	}
	var b strings.Builder
	b.WriteString(functionSQL)
	for _, t := range tables {
		s, err := TriggerSQL(t, channel)
		if err != nil {
			return "", err
		}
		b.WriteString("\n")
		b.WriteString(s)
	}
	return b.String(), nil
}

// Install runs [InstallSQL] on db as one statement batch (one transaction): after it, every
// change made to the tables, by any tool, is announced on channel. The tables must exist.
func Install(ctx context.Context, db Execer, channel string, tables ...Table) error {
	script, err := InstallSQL(channel, tables...)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, script); err != nil {
		return errors.Errorf("pgnotify: install triggers: %w", err)
	}
	return nil
}

// quoteQualified quotes a table name, optionally schema-qualified, as SQL identifiers.
func quoteQualified(name string) (string, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return "", errors.Errorf("pgnotify: table %q: more than schema.table: %w", name, errors.ErrInvalid)
	}
	for i, p := range parts {
		if p == "" || strings.ContainsRune(p, 0) {
			return "", errors.Errorf("pgnotify: bad table name %q: %w", name, errors.ErrInvalid)
		}
		parts[i] = quoteIdent(p)
	}
	return strings.Join(parts, "."), nil
}

// quoteIdent quotes s as an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings on, the default
// since PostgreSQL 9.1).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
