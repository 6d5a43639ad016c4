package sqldb_test

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

type aor struct {
	ID          string   `sorcery:"id"`
	MaxContacts int      `sorcery:"max_contacts,default=1"`
	Contact     []string `sorcery:"contact"`
}

// The factory opens wizards for sorcery.conf mapping lines naming a table.
func TestFactoryServesMappingLines(t *testing.T) {
	db := testdbSQLite(t)
	table := createTable(t, db, "ps_aors", "id VARCHAR(255) NOT NULL PRIMARY KEY, max_contacts INTEGER, contact VARCHAR(255)")
	insertRaw(t, db, sqldb.SQLite, table, map[string]any{"id": "alice", "max_contacts": 2, "contact": "sip:a@h1;sip:a@h2"})

	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{"sqldb": sqldb.Factory(&sqldb.Options{DB: db})}})
	defer s.Close()
	aors, err := sorcery.Register[aor](s, "aor", nil)
	require.NoError(t, err)
	require.NoError(t, s.Apply("aor", "sqldb", table))
	got, found, err := aors.Retrieve(ctxTimeout(t, 10*time.Second), "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, aor{ID: "alice", MaxContacts: 2, Contact: []string{"sip:a@h1", "sip:a@h2"}}, got)

	_, err = sqldb.Factory(&sqldb.Options{DB: db})("aor", table+"_missing")
	assert.ErrorIs(t, err, errors.ErrInvalid, "a missing table")
	assert.ErrorIs(t, s.Apply("aor", "sqldb", table+"_other"), errors.ErrExists, "a second sqldb mapping of aor is ignored, as main/sorcery.c does")
	_, err = sqldb.Factory(nil)("aor", table)
	assert.ErrorIs(t, err, errors.ErrInvalid, "no DB")
}

// The dialect is detected from the driver, and a wizard reports it.
func TestDialectIsDetected(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "dia", "id VARCHAR(255) NOT NULL PRIMARY KEY")
		w := newWizard(t, db, table, nil)
		assert.Equal(t, dc.dialect, w.Dialect())
		assert.Equal(t, table, w.Table())
	})
}

// The shipped schemas create Asterisk's PJSIP tables, which the wizards serve.
func TestSchemasCreatePJSIPTables(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		stmts, err := sqldb.SchemaStatements(dc.dialect)
		require.NoError(t, err)
		require.Len(t, stmts, 7)
		// Unique table names, so tests sharing the server do not collide.
		prefix := strings.TrimSuffix(strings.TrimPrefix(createTable(t, db, "sch", "id VARCHAR(255)"), "sch_"), "_")
		names := map[string]string{}
		for _, table := range pjsipTables {
			names[table] = table + "_" + prefix
		}
		for _, s := range stmts {
			for table, name := range names {
				s = strings.Replace(s, "EXISTS "+table+" (", "EXISTS "+name+" (", 1)
			}
			_, err := db.ExecContext(context.Background(), s)
			require.NoError(t, err, "%s: %s", dc.name, s[:60])
		}
		for _, name := range names {
			t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+name) })
		}

		ctx := ctxTimeout(t, 10*time.Second)
		wanted := map[string][]string{
			"ps_endpoints": {"id", "transport", "aors", "auth", "context", "disallow", "allow", "direct_media",
				"dtmf_mode", "force_rport", "rewrite_contact", "rtp_symmetric", "callerid", "100rel", "webrtc",
				"media_encryption", "outbound_auth", "from_user", "from_domain", "mailboxes", "set_var", "tenantid"},
			"ps_auths": {"id", "auth_type", "nonce_lifetime", "md5_cred", "password", "realm", "username",
				"refresh_token", "oauth_clientid", "oauth_secret", "password_digest",
				"supported_algorithms_uac", "supported_algorithms_uas"},
			"ps_aors": {"id", "contact", "default_expiration", "mailboxes", "max_contacts", "minimum_expiration",
				"remove_existing", "qualify_frequency", "authenticate_qualify", "maximum_expiration",
				"outbound_proxy", "support_path", "qualify_timeout", "voicemail_extension",
				"remove_unavailable", "qualify_2xx_only"},
			"ps_contacts": {"id", "uri", "expiration_time", "qualify_frequency", "outbound_proxy", "path",
				"user_agent", "qualify_timeout", "reg_server", "authenticate_qualify", "via_addr", "via_port",
				"call_id", "endpoint", "prune_on_boot", "qualify_2xx_only"},
			"ps_endpoint_id_ips": {"id", "endpoint", "match", "srv_lookups", "match_header", "match_request_uri"},
			"ps_domain_aliases":  {"id", "domain"},
			"ps_registrations": {"id", "auth_rejection_permanent", "client_uri", "contact_user", "expiration",
				"max_retries", "outbound_auth", "outbound_proxy", "retry_interval", "forbidden_retry_interval",
				"server_uri", "transport", "support_path", "fatal_retry_interval", "line", "endpoint",
				"support_outbound", "contact_header_params", "max_random_initial_delay",
				"security_negotiation", "security_mechanisms", "user_agent"},
		}
		for table, cols := range wanted {
			w := newWizard(t, db, names[table], nil)
			if table == "ps_endpoints" {
				assert.Subset(t, w.Columns(), cols, table)
			} else {
				assert.Equal(t, cols, w.Columns(), table)
			}
		}

		endpoints := newWizard(t, db, names["ps_endpoints"], nil)
		ep := sorcery.Record{ID: "1001", Fields: sorcery.Fields{
			{Name: "transport", Value: "transport-udp"}, {Name: "aors", Value: "1001"}, {Name: "auth", Value: "1001"},
			{Name: "context", Value: "from-internal"}, {Name: "disallow", Value: "all"},
			{Name: "allow", Value: "opus"}, {Name: "allow", Value: "ulaw"},
			{Name: "callerid", Value: `"Reception; front desk" <1001>`}, {Name: "100rel", Value: "yes"},
			{Name: "rtp_timeout", Value: "30"},
		}}
		require.NoError(t, endpoints.Create(ctx, ep))
		got, found, err := endpoints.Retrieve(ctx, "1001")
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, ep.Fields, got.Fields)

		contacts := newWizard(t, db, names["ps_contacts"], nil)
		c := sorcery.Record{ID: "1001;@a1b2", Fields: sorcery.Fields{
			{Name: "uri", Value: "sip:1001@192.0.2.10:5060;ob"}, {Name: "expiration_time", Value: "1767225600"},
			{Name: "qualify_timeout", Value: "3"}, {Name: "endpoint", Value: "1001"},
		}}
		require.NoError(t, contacts.Create(ctx, c))
		got, found, err = contacts.Retrieve(ctx, c.ID)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, c.Fields, got.Fields)
	})
	_, err := sqldb.Schema("oracle")
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

// pjsipTables are the tables the shipped schemas create.
var pjsipTables = []string{"ps_endpoints", "ps_auths", "ps_aors", "ps_contacts", "ps_endpoint_id_ips", "ps_domain_aliases", "ps_registrations"}

func TestSchemaFilesAreEmbedded(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.PostgreSQL, sqldb.MySQL, sqldb.SQLite} {
		b, err := fs.ReadFile(sqldb.SchemaFS(), string(d)+".sql")
		require.NoError(t, err, d)
		text, err := sqldb.Schema(d)
		require.NoError(t, err, d)
		assert.Equal(t, string(b), text, d)
		for _, table := range pjsipTables {
			assert.Contains(t, text, "CREATE TABLE IF NOT EXISTS "+table+" (", "%s: %s", d, table)
		}
	}
}

// The three schema files ship the same tables with the same columns, in the same order, and
// SQLite's types have the affinity of the others' (only PostgreSQL's and MySQL's are checked
// against Asterisk's alembic head, by TestShippedSchemaMatchesAlembicHead).
func TestSchemasShipTheSameColumnsInEachDialect(t *testing.T) {
	sqliteType := map[string]string{"VARCHAR": "TEXT", "TEXT": "TEXT", "INTEGER": "INTEGER",
		"BIGINT": "INTEGER", "DOUBLE": "REAL"}
	pg := schemaColumns(t, sqldb.PostgreSQL)
	require.Len(t, pg, len(pjsipTables))
	for _, table := range pg {
		require.NotEmpty(t, table.columns, table.name)
	}
	for _, d := range []sqldb.Dialect{sqldb.MySQL, sqldb.SQLite} {
		other := schemaColumns(t, d)
		require.Len(t, other, len(pg), d)
		for i, table := range pg {
			require.Equal(t, table.name, other[i].name, d)
			var want, got []string
			for _, c := range table.columns {
				want = append(want, c[0])
			}
			for _, c := range other[i].columns {
				got = append(got, c[0])
			}
			require.Equal(t, want, got, "%s: columns of %s", d, table.name)
			if d != sqldb.SQLite {
				continue
			}
			for j, c := range table.columns {
				base, _, _ := strings.Cut(c[1], "(")
				assert.Equal(t, sqliteType[base], other[i].columns[j][1], "%s.%s: the type of %s", table.name, c[0], c[1])
			}
		}
	}
}

type schemaTable struct {
	name    string
	columns [][2]string // name and type, as the file writes them
}

// schemaColumns parses the CREATE TABLE statements of the dialect's schema file: one column
// a line, its name first (quoted or not), then its type.
func schemaColumns(t *testing.T, d sqldb.Dialect) []schemaTable {
	t.Helper()
	stmts, err := sqldb.SchemaStatements(d)
	require.NoError(t, err, d)
	var tables []schemaTable
	for _, s := range stmts {
		lines := strings.Split(s, "\n")
		name, ok := strings.CutPrefix(lines[0], "CREATE TABLE IF NOT EXISTS ")
		require.True(t, ok, "%s: %s", d, lines[0])
		table := schemaTable{name: strings.TrimSuffix(name, " (")}
		for _, line := range lines[1:] {
			f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ","))
			if len(f) == 1 && f[0] == ")" {
				continue
			}
			require.GreaterOrEqual(t, len(f), 2, "%s: %s: %q", d, table.name, line)
			table.columns = append(table.columns, [2]string{strings.Trim(f[0], "\"`"), f[1]})
		}
		tables = append(tables, table)
	}
	return tables
}
