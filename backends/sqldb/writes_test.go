package sqldb_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Writes that the table cannot take are errors.ErrInvalid, with the database's reason.
func TestBadWritesAreInvalid(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "bad", "id VARCHAR(255) NOT NULL PRIMARY KEY, "+
			"name VARCHAR(10) NOT NULL UNIQUE, max_contacts INTEGER CHECK (max_contacts >= 0)")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)
		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}}}))
		cases := []struct {
			name string
			r    sorcery.Record
		}{
			{"unknown field", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "X"}, {Name: "nosuch", Value: "1"}}}},
			{"id among the fields", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "X"}, {Name: "ID", Value: "y"}}}},
			{"no id", sorcery.Record{Fields: sorcery.Fields{{Name: "name", Value: "X"}}}},
			{"NOT NULL column left out", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "max_contacts", Value: "1"}}}},
			{"another unique column taken", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}}}},
			{"check constraint", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "X"}, {Name: "max_contacts", Value: "-1"}}}},
			{"several values for a number", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "X"}, {Name: "max_contacts", Value: "1"}, {Name: "max_contacts", Value: "2"}}}},
		}
		if dc.dialect != sqldb.SQLite { // SQLite stores what it is given
			cases = append(cases,
				struct {
					name string
					r    sorcery.Record
				}{"not a number", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "X"}, {Name: "max_contacts", Value: "ten"}}}},
				struct {
					name string
					r    sorcery.Record
				}{"too long", sorcery.Record{ID: "x", Fields: sorcery.Fields{{Name: "name", Value: "far too long a name"}}}},
			)
		}
		for _, c := range cases {
			err := w.Create(ctx, c.r)
			assert.ErrorIs(t, err, errors.ErrInvalid, "Create: %s", c.name)
			assert.NotErrorIs(t, err, errors.ErrExists, "Create: %s", c.name)
			assert.NotErrorIs(t, err, errors.ErrUnavailable, "Create: %s", c.name)
		}
		assert.ErrorIs(t, w.Create(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Other"}}}), errors.ErrExists)

		_, err := w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "nosuch", Op: sorcery.OpEqual, Value: "1"}}})
		assert.ErrorIs(t, err, errors.ErrInvalid, "Search on an unknown field")
		_, err = w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.OpRegex, Value: "("}}})
		assert.ErrorIs(t, err, errors.ErrInvalid, "Search with a bad regex")
	})
}

// IgnoreUnknownFields drops fields the table has no column for, as Asterisk does.
func TestIgnoreUnknownFieldsDropsThem(t *testing.T) {
	db := testdbSQLite(t)
	table := createTable(t, db, "ign", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
	w := newWizard(t, db, table, &sqldb.Options{IgnoreUnknownFields: true})
	ctx := ctxTimeout(t, 10*time.Second)
	r := sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}, {Name: "webrtc", Value: "yes"}}}
	require.NoError(t, w.Create(ctx, r))
	require.NoError(t, w.Update(ctx, r))
	got, _, err := w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, sorcery.Fields{{Name: "name", Value: "Alice"}}, got.Fields)
	assert.ErrorIs(t, w.Create(ctx, sorcery.Record{ID: "bob", Fields: sorcery.Fields{{Name: "id", Value: "x"}}}), errors.ErrInvalid,
		"the id field is never ignored")
}

// Update replaces the whole row; an update that changes nothing still finds the row (MySQL
// counts changed rows only).
func TestUpdateReplacesTheRow(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "upd", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40), context VARCHAR(40)")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)
		r := sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}, {Name: "context", Value: "default"}}}
		require.NoError(t, w.Create(ctx, r))
		require.NoError(t, w.Update(ctx, r), "an update that changes nothing")
		require.NoError(t, w.Update(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Al"}}}))
		got, _, err := w.Retrieve(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, sorcery.Fields{{Name: "name", Value: "Al"}}, got.Fields, "context was cleared")
		assert.ErrorIs(t, w.Update(ctx, sorcery.Record{ID: "ALICE"}), errors.ErrNotFound, "ids are exact")
		assert.ErrorIs(t, w.Delete(ctx, "ALICE"), errors.ErrNotFound, "ids are exact")
	})
}

// A table of ids only still works.
func TestTableOfIDsOnly(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "ids", "id VARCHAR(255) NOT NULL PRIMARY KEY")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 10*time.Second)
		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "a"}))
		require.NoError(t, w.Update(ctx, sorcery.Record{ID: "a"}))
		assert.ErrorIs(t, w.Update(ctx, sorcery.Record{ID: "b"}), errors.ErrNotFound)
		got, found, err := w.Retrieve(ctx, "a")
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, sorcery.Record{ID: "a"}, got)
	})
}

// A table without an id column, or that does not exist, cannot be opened.
func TestTableWithoutIDIsInvalid(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "noid", "name VARCHAR(40)")
		_, err := sqldb.New(db, table, nil)
		assert.ErrorIs(t, err, errors.ErrInvalid, "no id column")
		_, err = sqldb.New(db, table+"_missing", nil)
		assert.ErrorIs(t, err, errors.ErrInvalid, "no table")
		_, err = sqldb.New(db, "", nil)
		assert.ErrorIs(t, err, errors.ErrInvalid, "no name")
		_, err = sqldb.New(nil, table, nil)
		assert.ErrorIs(t, err, errors.ErrInvalid, "no db")
		_, err = sqldb.New(db, table, &sqldb.Options{Dialect: "oracle"})
		assert.ErrorIs(t, err, errors.ErrInvalid, "unknown dialect")
	})
}

// A table is found whatever the case of its name, and may be qualified by its schema.
func TestTableNameCaseAndSchema(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "tcase", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(40)")
		insertRaw(t, db, dc.dialect, table, map[string]any{"id": "a", "name": "A"})
		schema := map[sqldb.Dialect]string{sqldb.PostgreSQL: "public", sqldb.MySQL: "test", sqldb.SQLite: "main"}[dc.dialect]
		for _, name := range []string{upper(table), schema + "." + table} {
			w := newWizard(t, db, name, nil)
			got, found, err := w.Retrieve(ctxTimeout(t, 10*time.Second), "a")
			require.NoError(t, err, "table %q", name)
			assert.True(t, found, "table %q", name)
			assert.Equal(t, "A", got.Fields.Value("name"), "table %q", name)
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Calls honour their ctx, and Options.Timeout bounds them.
func TestCallsHonourTheirContext(t *testing.T) {
	db := testdbSQLite(t)
	table := createTable(t, db, "ctx", "id VARCHAR(255) NOT NULL PRIMARY KEY")
	w := newWizard(t, db, table, nil)
	ctx := ctxTimeout(t, time.Nanosecond)
	<-ctx.Done()
	_, _, err := w.Retrieve(ctx, "a")
	assert.ErrorIs(t, err, errors.ErrUnavailable, "a deadline is the source not answering in time")
	assert.ErrorIs(t, err, sqlDeadline, "and says it was the deadline")
}
