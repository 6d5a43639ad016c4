package sqldb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

var _ sorcery.BatchWriter = (*Wizard)(nil)

// batchRows bounds the rows of one multi-row INSERT of a batch.
const batchRows = 500

// batchParams returns the most bind parameters one multi-row INSERT of a batch takes.
// PostgreSQL and MySQL take up to 65535. SQLite takes 32766 since 3.32 (999 before), but
// modernc.org/sqlite matches each parameter to its argument by a scan of the arguments, a
// cost quadratic in the parameters of a statement: statements of at most 999 parameters
// import fastest there (docs/benchmarks.md).
func (d Dialect) batchParams() int {
	if d == SQLite {
		return 999
	}
	return 65535
}

// WriteBatch applies writes in order in one transaction, all or nothing, bounded by
// Options.Timeout like every call. Every record is checked against the table's columns, and
// the writes against each other, before the transaction starts: a record the table cannot
// hold fails the batch with an error naming each write at fault ([*sorcery.WriteError]).
// Creates go to the table in multi-row INSERTs, updates and deletes one prepared statement
// each. A create of a taken id is errors.ErrExists, an update or a delete of a missing one
// errors.ErrNotFound, each naming the write; a database that fails mid-way is
// errors.ErrUnavailable, and the transaction is rolled back.
func (w *Wizard) WriteBatch(ctx context.Context, writes []sorcery.Write) error {
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	defer t.release()
	if len(writes) == 0 {
		return nil
	}
	vals, err := w.checkBatch(t, writes)
	if err != nil {
		return err
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return w.fail(ctx, "batch: begin", err)
	}
	if err := w.runBatch(ctx, tx, t, writes, vals); err != nil {
		_ = tx.Rollback() // the error that made the batch fail is the one to report
		err = w.trace(ctx, t, writes, vals, err)
		return w.nothingWritten(len(writes), w.batchError(ctx, w.db, t, writes, err))
	}
	if err := tx.Commit(); err != nil {
		return w.fail(ctx, "batch: commit", err)
	}
	return nil
}

// WriteBatchTx is [Wizard.WriteBatch] in tx, a transaction the caller began on the wizard's
// database and commits or rolls back: a batch across several tables is then all or nothing
// too. When WriteBatchTx fails, some writes may have been made in tx before the failure;
// roll it back.
func (w *Wizard) WriteBatchTx(ctx context.Context, tx *sql.Tx, writes []sorcery.Write) error {
	if tx == nil {
		return errors.Errorf("sqldb: table %s: batch: no transaction: %w", w.table, errors.ErrInvalid)
	}
	ctx, cancel := w.withTimeout(ctx)
	defer cancel()
	t, err := w.acquire(ctx)
	if err != nil {
		return err
	}
	defer t.release()
	if len(writes) == 0 {
		return nil
	}
	vals, err := w.checkBatch(t, writes)
	if err != nil {
		return err
	}
	if err := w.runBatch(ctx, tx, t, writes, vals); err != nil {
		// PostgreSQL refuses every statement of a transaction after an error: the ids are
		// looked up outside it.
		var q querier = tx
		if t.dialect == PostgreSQL {
			q = w.db
		}
		return errors.Errorf("sqldb: table %s: batch of %d writes: %w", w.table, len(writes), w.batchError(ctx, q, t, writes, err))
	}
	return nil
}

// querier runs queries: a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// checkBatch checks the writes against each other and their records against the table, and
// returns the column values of each create and update.
func (w *Wizard) checkBatch(t *table, writes []sorcery.Write) ([][]any, error) {
	var errs []error
	if err := sorcery.CheckBatch(writes, nil); err != nil {
		errs = append(errs, err)
	}
	vals := make([][]any, len(writes))
	for i, c := range writes {
		if c.Op != sorcery.OperationCreate && c.Op != sorcery.OperationUpdate || c.Record.ID == "" {
			continue
		}
		v, _, err := w.columnValues(t, c.Record)
		if err != nil {
			errs = append(errs, &sorcery.WriteError{Index: i, Op: c.Op, ID: c.Record.ID, Err: err})
			continue
		}
		vals[i] = v
	}
	if len(errs) > 0 {
		return nil, w.nothingWritten(len(writes), errors.Join(errs...))
	}
	return vals, nil
}

func (w *Wizard) nothingWritten(n int, err error) error {
	return errors.Errorf("sqldb: table %s: batch of %d writes: nothing written: %w", w.table, n, err)
}

// batchFailure is the failure of the statement of writes [from, to) of a batch.
type batchFailure struct {
	from, to int
	err      error // the database's error, or a *sorcery.WriteError already classified

	// For a multi-row INSERT not traced to its row yet: its columns and rows.
	cols, rows []int
}

func (f *batchFailure) Error() string { return f.err.Error() }

// Detail is the cause's (see errors.Detailer).
func (f *batchFailure) Detail() string { return errors.Detail(f.err) }
func (f *batchFailure) Unwrap() error  { return f.err }

// runBatch makes the writes in tx: each run of creates in multi-row INSERTs (a statement per
// set of columns the records fill), each update and delete on its own.
func (w *Wizard) runBatch(ctx context.Context, tx *sql.Tx, t *table, writes []sorcery.Write, vals [][]any) error {
	stmts := make(map[string]*sql.Stmt)
	defer func() {
		for _, s := range stmts {
			_ = s.Close() // closing a statement of a finished transaction reports nothing useful
		}
	}()
	exec := func(q string, args []any) (sql.Result, error) {
		s, ok := stmts[q]
		if !ok {
			var err error
			if s, err = tx.PrepareContext(ctx, q); err != nil {
				return nil, err
			}
			stmts[q] = s
		}
		return s.ExecContext(ctx, args...)
	}
	for i := 0; i < len(writes); {
		op := writes[i].Op
		j := i + 1
		for j < len(writes) && writes[j].Op == op {
			j++
		}
		var err error
		switch op {
		case sorcery.OperationCreate:
			err = w.insertRun(ctx, tx, t, exec, writes, vals, i, j)
		case sorcery.OperationUpdate:
			err = w.updateRun(ctx, tx, t, exec, writes, vals, i, j)
		case sorcery.OperationDelete:
			err = w.deleteRun(t, exec, writes, i, j)
		}
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

// insertRun inserts the creates [from, to), grouped by the columns they fill, in multi-row
// INSERTs.
func (w *Wizard) insertRun(ctx context.Context, tx *sql.Tx, t *table, exec func(string, []any) (sql.Result, error),
	writes []sorcery.Write, vals [][]any, from, to int) error {
	type group struct {
		cols []int // the columns the rows fill
		rows []int // indexes into writes
	}
	var (
		groups []*group
		byKey  = make(map[string]*group)
		key    []byte
	)
	for i := from; i < to; i++ {
		key = key[:0]
		for c, v := range vals[i] {
			if v != nil {
				key = strconv.AppendInt(key, int64(c), 36)
				key = append(key, ',')
			}
		}
		g := byKey[string(key)]
		if g == nil {
			g = &group{}
			for c, v := range vals[i] {
				if v != nil {
					g.cols = append(g.cols, c)
				}
			}
			byKey[string(key)] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, i)
	}
	var args []any
	for _, g := range groups {
		per := max(1, min(batchRows, t.dialect.batchParams()/len(g.cols)))
		for start := 0; start < len(g.rows); start += per {
			rows := g.rows[start:min(start+per, len(g.rows))]
			args = args[:0]
			for _, r := range rows {
				for _, c := range g.cols {
					args = append(args, vals[r][c])
				}
			}
			if _, err := exec(t.insertSQL(g.cols, len(rows)), args); err != nil {
				return w.insertFailed(ctx, tx, t, exec, writes, vals, g.cols, rows, err)
			}
		}
	}
	return nil
}

// trace traces err, the failure of a multi-row INSERT of a rolled back batch that
// insertFailed could not trace (on PostgreSQL), to its row: it makes the rows one at a time in a transaction of its
// own, rolled back, and returns the failure of the first that fails, or err.
func (w *Wizard) trace(ctx context.Context, t *table, writes []sorcery.Write, vals [][]any, err error) error {
	var f *batchFailure
	if !errors.As(err, &f) || len(f.rows) < 2 || !traceable(ctx, f.err) {
		return err
	}
	tx, berr := w.db.BeginTx(ctx, nil)
	if berr != nil {
		return err
	}
	defer tx.Rollback() // a scratch transaction: nothing of it is kept
	exec := func(q string, args []any) (sql.Result, error) { return tx.ExecContext(ctx, q, args...) }
	args := make([]any, len(f.cols))
	for _, r := range f.rows {
		for k, c := range f.cols {
			args[k] = vals[r][c]
		}
		if _, rerr := exec(t.insertSQL(f.cols, 1), args); rerr != nil {
			return w.insertFailed(ctx, tx, t, exec, writes, vals, f.cols, []int{r}, rerr)
		}
	}
	return err
}

// traceable reports whether a failed INSERT may be traced to its row by running its rows
// one at a time: only when the database refused the data (a constraint, a value), which
// undoes the statement and leaves the transaction going. Other errors — a lost connection, a
// deadlock, a full disk — may have ended the transaction, and statements run after them
// could commit on their own.
func traceable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(classify(ctx, err), errors.ErrInvalid)
}

// insertFailed finds out why the INSERT of rows failed with err: the creates of ids the
// table holds, or else the first row that fails on its own.
func (w *Wizard) insertFailed(ctx context.Context, tx *sql.Tx, t *table, exec func(string, []any) (sql.Result, error),
	writes []sorcery.Write, vals [][]any, cols []int, rows []int, err error) error {
	whole := &batchFailure{from: rows[0], to: rows[len(rows)-1] + 1, err: err, cols: cols, rows: rows}
	if !traceable(ctx, err) {
		return whole
	}
	if len(rows) > 1 && t.dialect == PostgreSQL {
		// PostgreSQL refuses every statement of the transaction now (a savepoint before each
		// statement would be a subtransaction, and more than 64 in a transaction slow every
		// session of the server): WriteBatch traces the failure after its rollback.
		return whole
	}
	// SQLite and MySQL undid the failed statement, and the transaction goes on.
	if isDuplicate(err) {
		ids := make([]string, len(rows))
		for k, r := range rows {
			ids[k] = writes[r].Record.ID
		}
		if len(rows) == 1 && t.dialect == PostgreSQL {
			return whole // the transaction refuses every statement now; the caller looks
		}
		if have, xerr := w.existing(ctx, tx, t, ids); xerr == nil {
			var errs []error
			for _, r := range rows {
				if have[writes[r].Record.ID] {
					errs = append(errs, &sorcery.WriteError{Index: r, Op: writes[r].Op, ID: writes[r].Record.ID, Err: errors.ErrExists})
				}
			}
			if len(errs) > 0 {
				return &batchFailure{from: whole.from, to: whole.to, err: errors.Join(errs...)}
			}
		}
	}
	if len(rows) == 1 {
		return whole
	}
	args := make([]any, len(cols))
	for _, r := range rows {
		for k, c := range cols {
			args[k] = vals[r][c]
		}
		if _, err := exec(t.insertSQL(cols, 1), args); err != nil {
			return w.insertFailed(ctx, tx, t, exec, writes, vals, cols, []int{r}, err)
		}
	}
	return whole // no row fails on its own
}

// insertSQL returns the INSERT of n rows filling the columns cols.
func (t *table) insertSQL(cols []int, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.quoted + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.cols[c].quoted)
	}
	b.WriteString(") VALUES ")
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			p++
			b.WriteString(t.dialect.placeholder(p))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// updateRun updates the objects of the writes [from, to), one statement each.
func (w *Wizard) updateRun(ctx context.Context, tx *sql.Tx, t *table, exec func(string, []any) (sql.Result, error),
	writes []sorcery.Write, vals [][]any, from, to int) error {
	var args []any
	for i := from; i < to; i++ {
		id := w.encodeID(writes[i].Record.ID)
		if t.updateSQL != "" {
			args = args[:0]
			for c, v := range vals[i] {
				if c != t.id {
					args = append(args, v)
				}
			}
			res, err := exec(t.updateSQL, t.idArgs(args, id))
			if err != nil {
				return &batchFailure{from: i, to: i + 1, err: err}
			}
			if n, err := res.RowsAffected(); err != nil || n > 0 {
				continue
			}
		}
		// No row changed: MySQL counts the rows changed, not those matched, so ask.
		have, err := w.existing(ctx, tx, t, []string{writes[i].Record.ID})
		if err != nil {
			return &batchFailure{from: i, to: i + 1, err: err}
		}
		if !have[writes[i].Record.ID] {
			return &batchFailure{from: i, to: i + 1, err: &sorcery.WriteError{Index: i, Op: writes[i].Op, ID: writes[i].Record.ID, Err: errors.ErrNotFound}}
		}
	}
	return nil
}

// deleteRun deletes the objects of the writes [from, to), one statement each.
func (w *Wizard) deleteRun(t *table, exec func(string, []any) (sql.Result, error), writes []sorcery.Write, from, to int) error {
	var args []any
	for i := from; i < to; i++ {
		res, err := exec(t.deleteSQL, t.idArgs(args[:0], w.encodeID(writes[i].Record.ID)))
		if err != nil {
			return &batchFailure{from: i, to: i + 1, err: err}
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return &batchFailure{from: i, to: i + 1, err: &sorcery.WriteError{Index: i, Op: writes[i].Op, ID: writes[i].Record.ID, Err: errors.ErrNotFound}}
		}
	}
	return nil
}

// batchError returns why a batch failed with err, naming the writes at fault: a create that
// met a taken id is errors.ErrExists when q finds the id in the table.
func (w *Wizard) batchError(ctx context.Context, q querier, t *table, writes []sorcery.Write, err error) error {
	var f *batchFailure
	if !errors.As(err, &f) {
		return wrapDB(ctx, err)
	}
	var we *sorcery.WriteError
	if errors.As(f.err, &we) {
		return f.err
	}
	op := writes[f.from].Op
	if op == sorcery.OperationCreate && isDuplicate(f.err) && ctx.Err() == nil {
		rows := f.rows
		if len(rows) == 0 {
			rows = []int{f.from}
		}
		ids := make([]string, len(rows))
		for k, r := range rows {
			ids[k] = writes[r].Record.ID
		}
		if have, xerr := w.existing(ctx, q, t, ids); xerr == nil {
			var errs []error
			for _, r := range rows {
				if have[writes[r].Record.ID] {
					errs = append(errs, &sorcery.WriteError{Index: r, Op: op, ID: writes[r].Record.ID, Err: errors.ErrExists})
				}
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
		}
	}
	if f.to-f.from > 1 {
		return errors.Errorf("writes %d to %d (%s): %w", f.from, f.to-1, op, wrapDB(ctx, f.err))
	}
	return &sorcery.WriteError{Index: f.from, Op: op, ID: writes[f.from].Record.ID, Err: wrapDB(ctx, f.err)}
}

// existing returns which of ids the table holds, compared exactly.
func (w *Wizard) existing(ctx context.Context, q querier, t *table, ids []string) (map[string]bool, error) {
	have := make(map[string]bool)
	for start := 0; start < len(ids); start += batchRows {
		chunk := ids[start:min(start+batchRows, len(ids))]
		var b strings.Builder
		b.WriteString("SELECT " + t.cols[t.id].quoted + " FROM " + t.quoted + " WHERE " + t.cols[t.id].quoted + " IN (")
		args := make([]any, len(chunk))
		for i, id := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.dialect.placeholder(i + 1))
			args[i] = w.encodeID(id)
		}
		b.WriteByte(')')
		rows, err := q.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var got sql.NullString
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return nil, err
			}
			have[w.decodeID(got.String)] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = have[id]
	}
	return want, nil
}
