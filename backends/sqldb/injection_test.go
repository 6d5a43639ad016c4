package sqldb_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// hostileNames are field names written to break out of an identifier or a statement.
var hostileNames = []string{
	`name; DROP TABLE victim; --`,
	`name" = '' OR "1"="1`,
	"name` = '' OR `1`=`1",
	`name = name OR 1=1 --`,
	`(SELECT 1)`,
	`name/**/`,
	"name\x00",
	`id; DELETE FROM victim`,
	`*`,
	``,
}

// hostileValues are values written to break out of a literal; they must be stored and found
// as they are.
var hostileValues = []string{
	`'; DROP TABLE victim; --`,
	`' OR '1'='1`,
	`\'; DROP TABLE victim; --`,
	`" OR ""="`,
	"`; DROP TABLE victim; --",
	`$1`,
	`?`,
	`%`,
	`_`,
	`\`,
	`!`,
	`x' UNION SELECT id FROM victim --`,
}

// Field names and values can never become SQL: names are checked against the table's
// columns, values are bound.
func TestHostileInputIsRejectedOrBoundNeverExecuted(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		victim := createTable(t, db, "victim", "id VARCHAR(255) NOT NULL PRIMARY KEY, note VARCHAR(40)")
		insertRaw(t, db, dc.dialect, victim, map[string]any{"id": "keep", "note": "untouched"})
		table := createTable(t, db, "inj", "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(255)")
		w := newWizard(t, db, table, nil)
		ctx := ctxTimeout(t, 30*time.Second)
		require.NoError(t, w.Create(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Alice"}}}))

		for _, name := range hostileNames {
			for _, op := range []sorcery.Op{sorcery.OpEqual, sorcery.OpNotEqual, sorcery.OpLess, sorcery.OpLike, sorcery.OpRegex} {
				_, err := w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: name, Op: op, Value: "x"}}})
				assert.ErrorIs(t, err, errors.ErrInvalid, "Search on field %q %s", name, op)
			}
			err := w.Create(ctx, sorcery.Record{ID: "evil", Fields: sorcery.Fields{{Name: name, Value: "x"}}})
			assert.ErrorIs(t, err, errors.ErrInvalid, "Create with field %q", name)
			err = w.Update(ctx, sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: name, Value: "x"}}})
			assert.ErrorIs(t, err, errors.ErrInvalid, "Update with field %q", name)
		}

		for i, v := range hostileValues {
			id := v + string(rune('A'+i)) // hostile ids too
			require.NoError(t, w.Create(ctx, sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "name", Value: v}}}), "Create with value %q", v)
			got, found, err := w.Retrieve(ctx, id)
			require.NoError(t, err, "Retrieve(%q)", id)
			require.True(t, found, "Retrieve(%q)", id)
			assert.Equal(t, v, got.Fields.Value("name"), "value %q read back", v)

			for _, op := range []sorcery.Op{sorcery.OpEqual, sorcery.OpLike} {
				pattern := v
				if op == sorcery.OpLike {
					pattern = sorcery.EscapeLike(v)
				}
				rs, err := w.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: op, Value: pattern}}})
				require.NoError(t, err, "Search name %s %q", op, pattern)
				assert.Equal(t, []string{id}, ids(rs), "Search name %s %q finds exactly its record", op, pattern)
			}
			rs, err := w.Search(ctx, sorcery.Query{IDPrefix: id})
			require.NoError(t, err, "Search IDPrefix %q", id)
			assert.Equal(t, []string{id}, ids(rs), "IDPrefix %q finds exactly its record", id)
		}
		_, found, err := w.Retrieve(ctx, `alice' OR '1'='1`)
		require.NoError(t, err)
		assert.False(t, found, "a hostile id finds nothing")
		assert.ErrorIs(t, w.Delete(ctx, `x' OR '1'='1`), errors.ErrNotFound, "a hostile id deletes nothing")

		// Nothing was executed: the victim and the wizard's table are intact.
		raw, ok := rawValue(t, db, dc.dialect, victim, "note", "keep")
		assert.True(t, ok && raw == "untouched", "victim table intact")
		rs, err := w.Search(ctx, sorcery.Query{})
		require.NoError(t, err)
		assert.Len(t, rs, 1+len(hostileValues), "every record still there")
	})
}

// A table name is looked up in the database's catalog, never pasted into SQL.
func TestHostileTableNameIsInvalid(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		victim := createTable(t, db, "victim", "id VARCHAR(255) NOT NULL PRIMARY KEY")
		for _, name := range []string{
			victim + "; DROP TABLE " + victim,
			victim + `" WHERE 1=1 --`,
			victim + "` --",
			"(SELECT id FROM " + victim + ")",
			victim + ".x.y",
			".",
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := sqldb.NewContext(ctx, db, name, nil)
			cancel()
			assert.ErrorIs(t, err, errors.ErrInvalid, "table name %q", name)
		}
		insertRaw(t, db, dc.dialect, victim, map[string]any{"id": "still-here"})
	})
}
