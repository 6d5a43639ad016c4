package sqldb_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/internal/pjsipgen"
	"github.com/gosorcery/gosorcery/sorcery"
)

// importTable is one table of the import benchmark: the objects of one type of the
// generated pjsip.conf, and the table's columns, id first.
type importTable struct {
	typ     string
	cols    []string
	records []sorcery.Record
	name    string // the table created for a run
}

// importTables reads a generated pjsip.conf of users (an endpoint, an auth and an aor each)
// through the config wizard, and returns the records of each type without their type=.
func importTables(b *testing.B, users int) []*importTable {
	b.Helper()
	var buf bytes.Buffer
	if err := pjsipgen.Write(&buf, users); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "pjsip.conf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	ts := []*importTable{
		{typ: "endpoint", cols: []string{"id", "context", "disallow", "allow", "auth", "aors", "callerid", "mailboxes",
			"direct_media", "rtp_symmetric", "force_rport", "rewrite_contact", "language", "dtmf_mode"}},
		{typ: "auth", cols: []string{"id", "auth_type", "username", "password"}},
		{typ: "aor", cols: []string{"id", "max_contacts", "remove_existing", "qualify_frequency"}},
	}
	for _, t := range ts {
		w, err := config.New(path, &config.Options{Type: t.typ, Criteria: sorcery.Fields{{Name: "type", Value: t.typ}}})
		if err != nil {
			b.Fatal(err)
		}
		recs, err := w.Search(context.Background(), sorcery.Query{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range recs {
			recs[i].Fields = slicesDeleteType(recs[i].Fields)
		}
		t.records = recs
	}
	return ts
}

func slicesDeleteType(fs sorcery.Fields) sorcery.Fields {
	out := fs[:0]
	for _, f := range fs {
		if f.Name != "type" {
			out = append(out, f)
		}
	}
	return out
}

// BenchmarkImport15k imports 15,000 objects (a pjsip.conf of 5,000 users: endpoints, auths
// and aors) into three tables in one transaction, through the wizards' bulk writes
// (WriteBatchTx, one call per table) and by a hand-written baseline with database/sql (a
// prepared multi-row INSERT of every column, as many rows a statement as the library puts
// in one: see baselineRows), alternating in each
// iteration on emptied tables, so both see the same machine at the same moment. It reports
// the time of each and their ratio (library / baseline).
func BenchmarkImport15k(b *testing.B) {
	ts := importTables(b, 5000)
	for _, dc := range dialects {
		b.Run(dc.name, func(b *testing.B) {
			db := dc.open(b)
			ctx := context.Background()
			wizards := make([]*sqldb.Wizard, len(ts))
			for i, t := range ts {
				var defs []string
				for _, c := range t.cols {
					def := quote(dc.dialect, c) + " VARCHAR(255)"
					if c == "id" {
						def += " NOT NULL PRIMARY KEY"
					}
					defs = append(defs, def)
				}
				t.name = createTable(b, db, "imp"+t.typ, strings.Join(defs, ", "))
				wizards[i] = newWizard(b, db, t.name, nil)
			}
			empty := func() {
				for _, t := range ts {
					q := "DELETE FROM " + t.name
					if dc.dialect != sqldb.SQLite {
						q = "TRUNCATE TABLE " + t.name
					}
					if _, err := db.ExecContext(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			}
			library := func() {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer tx.Rollback()
				for i, t := range ts {
					writes := make([]sorcery.Write, len(t.records))
					for j, r := range t.records {
						writes[j] = sorcery.Write{Op: sorcery.OperationCreate, Record: r}
					}
					if err := wizards[i].WriteBatchTx(ctx, tx, writes); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			baseline := func() {
				if err := baselineImport(ctx, db, dc.dialect, ts); err != nil {
					b.Fatal(err)
				}
			}
			var lib, base time.Duration
			timed := func(f func(), into *time.Duration) {
				empty()
				start := time.Now()
				f()
				*into += time.Since(start)
			}
			i := 0
			for b.Loop() {
				if i++; i%2 == 0 {
					timed(library, &lib)
					timed(baseline, &base)
				} else {
					timed(baseline, &base)
					timed(library, &lib)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(lib.Milliseconds())/n, "library-ms/op")
			b.ReportMetric(float64(base.Milliseconds())/n, "baseline-ms/op")
			b.ReportMetric(float64(lib)/float64(base), "ratio")
		})
	}
}

// baselineRows is how many rows of cols columns the baseline puts in one INSERT: as many as
// the library does (500, and at most 999 parameters on SQLite, whose modernc.org driver binds
// in a time quadratic in the parameters of a statement), so that the ratio measures the
// library's own cost.
func baselineRows(d sqldb.Dialect, cols int) int {
	if d == sqldb.SQLite {
		return min(500, 999/cols)
	}
	return 500
}

// baselineImport is the hand-written import the library is measured against: one
// transaction, and per table a prepared INSERT of baselineRows rows of every column, a value
// being the field's values joined with ';' (NULL when the record lacks the field).
func baselineImport(ctx context.Context, db *sql.DB, d sqldb.Dialect, ts []*importTable) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range ts {
		rows := baselineRows(d, len(t.cols))
		insert := func(n int) string {
			var b strings.Builder
			b.WriteString("INSERT INTO " + t.name + " (")
			for i, c := range t.cols {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quote(d, c))
			}
			b.WriteString(") VALUES ")
			p := 0
			for r := range n {
				if r > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('(')
				for i := range t.cols {
					if i > 0 {
						b.WriteString(", ")
					}
					p++
					b.WriteString(ph(d, p))
				}
				b.WriteByte(')')
			}
			return b.String()
		}
		full, err := tx.PrepareContext(ctx, insert(rows))
		if err != nil {
			return err
		}
		args := make([]any, 0, rows*len(t.cols))
		for start := 0; start < len(t.records); start += rows {
			chunk := t.records[start:min(start+rows, len(t.records))]
			args = args[:0]
			for _, r := range chunk {
				args = append(args, r.ID)
				for _, c := range t.cols[1:] {
					if vs := r.Fields.Values(c); len(vs) > 0 {
						args = append(args, strings.Join(vs, ";"))
					} else {
						args = append(args, nil)
					}
				}
			}
			if len(chunk) == rows {
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, insert(len(chunk)), args...)
			}
			if err != nil {
				full.Close()
				return err
			}
		}
		full.Close()
	}
	return tx.Commit()
}
