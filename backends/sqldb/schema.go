package sqldb

import (
	"embed"
	"io/fs"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
)

//go:embed schema/*.sql
var schemas embed.FS

// SchemaFS returns the schema files, one per dialect: postgres.sql, mysql.sql and
// sqlite.sql. Each creates Asterisk's PJSIP realtime tables, when they do not exist:
// ps_endpoints, ps_auths, ps_aors, ps_contacts, ps_endpoint_id_ips (identify),
// ps_domain_aliases and ps_registrations, each with every column of Asterisk's alembic
// scripts, under Asterisk's names and with types compatible with Asterisk's.
func SchemaFS() fs.FS {
	sub, err := fs.Sub(schemas, "schema")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// Schema returns the schema file of the dialect: SQL statements, each ending with ';' at the
// end of a line, with comment lines starting with "--".
func Schema(d Dialect) (string, error) {
	if !d.valid() {
		return "", errors.Errorf("sqldb: no schema for dialect %q: %w", d, errors.ErrInvalid)
	}
	b, err := fs.ReadFile(SchemaFS(), string(d)+".sql")
	if err != nil {
		return "", errors.Errorf("sqldb: schema for %s: %w", d, err)
	}
	return string(b), nil
}

// SchemaStatements returns the statements of the dialect's schema file one by one, without
// comments, for drivers that run one statement per Exec (go-sql-driver/mysql unless
// multiStatements=true).
func SchemaStatements(d Dialect) ([]string, error) {
	text, err := Schema(d)
	if err != nil {
		return nil, err
	}
	return splitStatements(text), nil
}

// splitStatements splits an SQL schema file into its statements, for drivers that run one
// statement per Exec: each statement ends with ';' at the end of a line; "--" comment lines
// and blank lines are dropped, and so is the ';'.
func splitStatements(text string) []string {
	var (
		stmts []string
		cur   strings.Builder
	)
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	return stmts
}
