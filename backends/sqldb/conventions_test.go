package sqldb_test

import (
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/testdb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Rows written the way Asterisk and its provisioning tools write them read as Asterisk reads
// them.
func TestRealtimeRowsDecodeAsAsteriskReadsThem(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "conv", "id VARCHAR(255) NOT NULL PRIMARY KEY, allow VARCHAR(200), "+
			"callerid VARCHAR(80), context VARCHAR(40), mailboxes VARCHAR(80), max_contacts INTEGER")
		rows := []struct {
			name   string
			values map[string]any
			want   sorcery.Fields
		}{
			{"list", map[string]any{"allow": "ulaw;alaw;g722"},
				sorcery.Fields{{Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}, {Name: "allow", Value: "g722"}}},
			{"list chunks trimmed, empty chunks dropped", map[string]any{"allow": " ulaw ; ;alaw;"},
				sorcery.Fields{{Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}}},
			{"escaped separator", map[string]any{"callerid": `"Sales^3B EMEA" <100>`},
				sorcery.Fields{{Name: "callerid", Value: `"Sales; EMEA" <100>`}}},
			{"escaped caret", map[string]any{"callerid": "a^5Eb"},
				sorcery.Fields{{Name: "callerid", Value: "a^b"}}},
			{"escapes inside a list", map[string]any{"mailboxes": "1^3B2@default;3@default"},
				sorcery.Fields{{Name: "mailboxes", Value: "1;2@default"}, {Name: "mailboxes", Value: "3@default"}}},
			{"caret not followed by two hex digits", map[string]any{"callerid": "x^3y^Z^"},
				sorcery.Fields{{Name: "callerid", Value: "x^3y^Z^"}}},
			{"lower-case hex", map[string]any{"callerid": "x^3by"},
				sorcery.Fields{{Name: "callerid", Value: "x;y"}}},
			{"NULL and empty columns are no field", map[string]any{"allow": nil, "callerid": "", "context": "default"},
				sorcery.Fields{{Name: "context", Value: "default"}}},
			{"a lone value is trimmed too, as res_config_pgsql and res_config_odbc strip every chunk", map[string]any{"callerid": " Bob "},
				sorcery.Fields{{Name: "callerid", Value: "Bob"}}},
			{"a column of blanks only is no field", map[string]any{"callerid": "   ", "context": "default"},
				sorcery.Fields{{Name: "context", Value: "default"}}},
			{"encoded edge spaces survive the trimming", map[string]any{"callerid": "^20Bob^20"},
				sorcery.Fields{{Name: "callerid", Value: " Bob "}}},
			{"numbers", map[string]any{"max_contacts": 5},
				sorcery.Fields{{Name: "max_contacts", Value: "5"}}},
		}
		for i, r := range rows {
			r.values["id"] = "row" + string(rune('a'+i))
			insertRaw(t, db, dc.dialect, table, r.values)
		}
		w := newWizard(t, db, table, nil)
		for i, r := range rows {
			id := "row" + string(rune('a'+i))
			got, found, err := w.Retrieve(ctxTimeout(t, 10*time.Second), id)
			require.NoError(t, err, r.name)
			require.True(t, found, r.name)
			assert.Equal(t, r.want, got.Fields, "%s: row %v", r.name, r.values)
		}
	})
}

// Values written by the wizard are stored as Asterisk expects them, and read back unchanged.
func TestWrittenValuesUseAsteriskEncodingAndRoundTrip(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "enc", "id VARCHAR(255) NOT NULL PRIMARY KEY, allow VARCHAR(200), "+
			"callerid VARCHAR(80), mailboxes VARCHAR(80), context VARCHAR(40)")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)
		cases := []struct {
			name   string
			fields sorcery.Fields
			column string
			raw    string
		}{
			{"list joined with ;", sorcery.Fields{{Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}}, "allow", "ulaw;alaw"},
			{"; and ^ escaped", sorcery.Fields{{Name: "callerid", Value: "Dave; the ^second^"}}, "callerid", "Dave^3B the ^5Esecond^5E"},
			{"escapes in a list", sorcery.Fields{{Name: "mailboxes", Value: "a;b"}, {Name: "mailboxes", Value: "c^"}}, "mailboxes", "a^3Bb;c^5E"},
			{"spaces at the ends of listed values", sorcery.Fields{{Name: "allow", Value: " ulaw"}, {Name: "allow", Value: "alaw\t"}}, "allow", "^20ulaw;alaw^09"},
			{"a text that looks like an escape", sorcery.Fields{{Name: "callerid", Value: "^3B"}}, "callerid", "^5E3B"},
		}
		for i, c := range cases {
			id := "enc" + string(rune('a'+i))
			require.NoError(t, w.Create(ctx, sorcery.Record{ID: id, Fields: c.fields}), c.name)
			raw, ok := rawValue(t, db, dc.dialect, table, c.column, id)
			require.True(t, ok, "%s: column %s is NULL", c.name, c.column)
			assert.Equal(t, c.raw, raw, "%s: stored value of %v", c.name, c.fields)
			got, found, err := w.Retrieve(ctx, id)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, c.fields, got.Fields, "%s: read back", c.name)
		}

		// Empty values are not stored: the column stays NULL.
		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "empty", Fields: sorcery.Fields{{Name: "context", Value: ""}, {Name: "allow", Value: ""}}}))
		_, ok := rawValue(t, db, dc.dialect, table, "context", "empty")
		assert.False(t, ok, "an empty value is stored as NULL")

		// Searches match one value of a list, and decoded values.
		got, err := w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "allow", Op: sorcery.OpEqual, Value: "alaw"}}})
		require.NoError(t, err)
		assert.Equal(t, []string{"enca"}, ids(got), "allow = alaw")
		got, err = w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "callerid", Op: sorcery.OpLike, Value: "Dave;%"}}})
		require.NoError(t, err)
		assert.Equal(t, []string{"encb"}, ids(got), "callerid LIKE 'Dave;%%'")
		got, err = w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "mailboxes", Op: sorcery.OpRegex, Value: `^c\^$`}}})
		require.NoError(t, err)
		assert.Equal(t, []string{"encc"}, ids(got), `mailboxes ~ ^c\^$`)
	})
}

// Column names are matched without case, as Asterisk's option names are, and records carry
// them as the database's catalog spells them.
func TestColumnNamesMatchWithoutCase(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		d := dc.dialect
		table := createTable(t, db, "case", "id VARCHAR(255) NOT NULL PRIMARY KEY, "+
			quote(d, "Context")+" VARCHAR(40), "+quote(d, "MAX_CONTACTS")+" INTEGER")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)
		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{
			{Name: "context", Value: "default"}, {Name: "max_contacts", Value: "3"},
		}}))
		got, found, err := w.Retrieve(ctx, "alice")
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, sorcery.Fields{{Name: "Context", Value: "default"}, {Name: "MAX_CONTACTS", Value: "3"}}, got.Fields)
		assert.Equal(t, "default", got.Fields.Value("context"), "Fields.Get ignores case")

		rs, err := w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{
			{Field: "CONTEXT", Op: sorcery.OpEqual, Value: "default"},
			{Field: "max_contacts", Op: sorcery.OpGreaterEqual, Value: "3"},
		}})
		require.NoError(t, err)
		assert.Equal(t, []string{"alice"}, ids(rs))
		assert.Equal(t, []string{"id", "Context", "MAX_CONTACTS"}, w.Columns())
	})
}

// With the conventions off, values are stored and read as they are.
func TestVerbatimTurnsOffTheConventions(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "verb", "id VARCHAR(255) NOT NULL PRIMARY KEY, allow VARCHAR(200)")
		insertRaw(t, db, dc.dialect, table, map[string]any{"id": "raw", "allow": "ulaw;a^3Bb"})
		w := newWizard(t, db, table, &sqldb.Options{Verbatim: true})
		ctx := ctxTimeout(t, 10*time.Second)
		got, found, err := w.Retrieve(ctx, "raw")
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, sorcery.Fields{{Name: "allow", Value: "ulaw;a^3Bb"}}, got.Fields)

		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "semi", Fields: sorcery.Fields{{Name: "allow", Value: "x;y^"}}}))
		raw, _ := rawValue(t, db, dc.dialect, table, "allow", "semi")
		assert.Equal(t, "x;y^", raw)

		err = w.Create(ctx, sorcery.Record{ID: "two", Fields: sorcery.Fields{{Name: "allow", Value: "a"}, {Name: "allow", Value: "b"}}})
		assert.ErrorIs(t, err, errors.ErrInvalid, "two values for one column without the conventions")
	})
}

// Asterisk's alembic scripts make yes/no options ENUM columns; they read and write as text,
// and a value outside the enumeration is errors.ErrInvalid.
func TestEnumColumnsReadAndWriteAsText(t *testing.T) {
	for _, dc := range dialects[1:] { // PostgreSQL and MySQL have enumerations
		t.Run(dc.name, func(t *testing.T) {
			db := dc.open(t)
			yesno := "ENUM('yes', 'no')"
			if dc.dialect == sqldb.PostgreSQL {
				yesno = testdb.Name(t, "yesno_values")
				testdb.Exec(t, db, "CREATE TYPE "+yesno+" AS ENUM ('yes', 'no')")
				testdb.Cleanup(t, db, "DROP TYPE IF EXISTS "+yesno)
			}
			table := createTable(t, db, "enum", "id VARCHAR(255) NOT NULL PRIMARY KEY, direct_media "+yesno+", rtp_symmetric "+yesno)
			w := newWizard(t, db, table, nil)
			ctx := ctxTimeout(t, 10*time.Second)
			r := sorcery.Record{ID: "1001", Fields: sorcery.Fields{{Name: "direct_media", Value: "no"}, {Name: "rtp_symmetric", Value: "yes"}}}
			require.NoError(t, w.Create(ctx, r))
			got, found, err := w.Retrieve(ctx, "1001")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, r.Fields, got.Fields)
			rs, err := w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "direct_media", Op: sorcery.OpEqual, Value: "no"}}})
			require.NoError(t, err)
			assert.Equal(t, []string{"1001"}, ids(rs))
			err = w.Update(ctx, sorcery.Record{ID: "1001", Fields: sorcery.Fields{{Name: "direct_media", Value: "maybe"}}})
			assert.ErrorIs(t, err, errors.ErrInvalid, "a value outside the enumeration")
		})
	}
}

// Ids holding ';' or '^' (PJSIP contacts are "aor;@hash") are stored encoded, as Asterisk's
// ODBC driver stores them, and found decoded by every call.
func TestIDsWithSeparatorsAreStoredEncoded(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "cid", "id VARCHAR(255) NOT NULL PRIMARY KEY, uri VARCHAR(255)")
		insertRaw(t, db, dc.dialect, table, map[string]any{"id": "2002^3B@def", "uri": "sip:2002@192.0.2.2"})
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)

		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "1001;@abc", Fields: sorcery.Fields{{Name: "uri", Value: "sip:1001@192.0.2.1"}}}))
		var raw string
		require.NoError(t, db.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE uri = "+ph(dc.dialect, 1), "sip:1001@192.0.2.1").Scan(&raw))
		assert.Equal(t, "1001^3B@abc", raw, "stored as ODBC stores it")

		for _, id := range []string{"1001;@abc", "2002;@def"} {
			got, found, err := w.Retrieve(ctx, id)
			require.NoError(t, err, id)
			require.True(t, found, id)
			assert.Equal(t, id, got.ID)
		}
		_, found, err := w.Retrieve(ctx, "2002^3B@def")
		require.NoError(t, err)
		assert.False(t, found, "the encoded form is not the id")

		for _, q := range []sorcery.Query{
			{IDPrefix: "2002;"},
			{IDRegex: ";@d"},
			{Conditions: []sorcery.Condition{{Field: "id", Op: sorcery.OpEqual, Value: "2002;@def"}}},
			{Conditions: []sorcery.Condition{{Field: "id", Op: sorcery.OpLike, Value: "2002;%"}}},
		} {
			rs, err := w.Search(ctx, q)
			require.NoError(t, err, "%+v", q)
			assert.Equal(t, []string{"2002;@def"}, ids(rs), "%+v", q)
		}
		require.NoError(t, w.Update(ctx, sorcery.Record{ID: "2002;@def", Fields: sorcery.Fields{{Name: "uri", Value: "sip:2002@192.0.2.3"}}}))
		require.NoError(t, w.Delete(ctx, "1001;@abc"))
		assert.ErrorIs(t, w.Create(ctx, sorcery.Record{ID: "2002;@def"}), errors.ErrExists)
	})
}

// A row that does not decode is invalid data located by table and id, not a failing source.
func TestUndecodableRowIsInvalidDataWithItsTableAndID(t *testing.T) {
	db := testdbSQLite(t)
	table := createTable(t, db, "ps_aors", "id VARCHAR(255) NOT NULL PRIMARY KEY, max_contacts VARCHAR(10)")
	insertRaw(t, db, sqldb.SQLite, table, map[string]any{"id": "alice", "max_contacts": "many"})
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	aors, err := sorcery.Register[aor](s, "aor", nil)
	require.NoError(t, err)
	require.NoError(t, aors.AddWizard("sql", newWizard(t, db, table, nil), nil))
	_, found, err := aors.Retrieve(ctxTimeout(t, 10*time.Second), "alice")
	assert.False(t, found)
	var ir *sorcery.InvalidRecordError
	require.ErrorAs(t, err, &ir)
	assert.Equal(t, "table "+table+` id "alice"`, ir.Origin)
}
