package sqldb_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// checkedColumns are conformance columns whose name may not be "bad".
const checkedColumns = "id VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(255) CHECK (name <> 'bad'), " +
	"context VARCHAR(40), max_contacts INTEGER, allow VARCHAR(200)"

func creates(prefix string, n int) []sorcery.Write {
	ws := make([]sorcery.Write, n)
	for i := range ws {
		ws[i] = sorcery.Write{Op: sorcery.OperationCreate, Record: sqldbRecord(fmt.Sprintf("%s%04d", prefix, i), "ok")}
	}
	return ws
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}

func TestBatchNamesTheRowADatabaseRejects(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "batchcheck", checkedColumns)
		w := newWizard(t, db, table, nil)
		ws := creates("r", 700)
		ws[612].Record = sqldbRecord(ws[612].Record.ID, "bad") // in the second multi-row INSERT
		err := w.WriteBatch(t.Context(), ws)
		require.Error(t, err)
		var we *sorcery.WriteError
		require.ErrorAs(t, err, &we, "%v", err)
		assert.Equal(t, 612, we.Index, "%v", err)
		assert.Equal(t, ws[612].Record.ID, we.ID)
		assert.Zero(t, count(t, db, table), "rows after a failed batch")
	})
}

func TestBatchRejectsUnknownFieldsBeforeWriting(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		table := createTable(t, db, "batchfield", conformanceColumns)
		w := newWizard(t, db, table, nil)
		ws := creates("r", 5)
		ws[1].Record.Fields = append(ws[1].Record.Fields, sorcery.Field{Name: "nosuch", Value: "x"})
		ws[3].Record.Fields = append(ws[3].Record.Fields, sorcery.Field{Name: "id", Value: "x"})
		err := w.WriteBatch(t.Context(), ws)
		require.ErrorIs(t, err, errors.ErrInvalid)
		assert.Contains(t, err.Error(), "write 1 (create \"r0001\")")
		assert.Contains(t, err.Error(), "write 3 (create \"r0003\")")
		assert.Zero(t, count(t, db, table))
	})
}

func TestBatchTxSpansTablesAllOrNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		ta := createTable(t, db, "batcha", conformanceColumns)
		tb := createTable(t, db, "batchb", checkedColumns)
		wa, wb := newWizard(t, db, ta, nil), newWizard(t, db, tb, nil)
		require.NoError(t, wb.Create(t.Context(), sqldbRecord("taken", "x")))

		tx, err := db.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		require.NoError(t, wa.WriteBatchTx(t.Context(), tx, creates("a", 600)))
		ws := creates("b", 600)
		ws[599].Record.ID = "taken"
		err = wb.WriteBatchTx(t.Context(), tx, ws)
		require.ErrorIs(t, err, errors.ErrExists)
		var we *sorcery.WriteError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, 599, we.Index)
		require.NoError(t, tx.Rollback())
		assert.Zero(t, count(t, db, ta), "the other table of a rolled back transaction")
		assert.Equal(t, 1, count(t, db, tb))

		tx, err = db.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		require.NoError(t, wa.WriteBatchTx(t.Context(), tx, creates("a", 600)))
		require.NoError(t, wb.WriteBatchTx(t.Context(), tx, creates("b", 600)))
		require.NoError(t, tx.Commit())
		assert.Equal(t, 600, count(t, db, ta))
		assert.Equal(t, 601, count(t, db, tb))
		assert.ErrorIs(t, wa.WriteBatchTx(t.Context(), nil, creates("a", 1)), errors.ErrInvalid, "no transaction")
	})
}
