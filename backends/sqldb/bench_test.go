package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/backends/sqldb"
)

// benchTable creates a table of sorcerytest's columns holding n rows, and returns it with the
// query the wizard runs for Retrieve, written out.
func benchTable(b *testing.B, db *sql.DB, d sqldb.Dialect, n int) (table, query string) {
	table = createTable(b, db, "bench", conformanceColumns)
	for i := range n {
		insertRaw(b, db, d, table, map[string]any{
			"id": fmt.Sprintf("user%04d", i), "name": fmt.Sprintf("User %d", i), "context": "default",
			"max_contacts": i % 10, "allow": "opus;ulaw;alaw",
		})
	}
	q := func(s string) string { return quote(d, s) }
	query = "SELECT " + q("id") + ", " + q("name") + ", " + q("context") + ", " + q("max_contacts") + ", " + q("allow") +
		" FROM " + q(table) + " WHERE " + q("id") + " = " + ph(d, 1)
	return table, query
}

var benchDialects = []dialectCase{dialects[0], dialects[1]} // SQLite and PostgreSQL

// BenchmarkRetrieve compares the wizard's Retrieve with a raw db.QueryRowContext of the same
// query, scanned into sql.NullString, on the same table in the same run.
func BenchmarkRetrieve(b *testing.B) {
	for _, dc := range benchDialects {
		b.Run(dc.name, func(b *testing.B) {
			db := dc.open(b)
			const rows = 1000
			table, query := benchTable(b, db, dc.dialect, rows)
			w := newWizard(b, db, table, nil)
			ctx := context.Background()
			b.Run("wizard", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, found, err := w.Retrieve(ctx, fmt.Sprintf("user%04d", i%rows)); err != nil || !found {
						b.Fatal(found, err)
					}
					i++
				}
			})
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				var v [5]sql.NullString
				i := 0
				for b.Loop() {
					if err := db.QueryRowContext(ctx, query, fmt.Sprintf("user%04d", i%rows)).Scan(&v[0], &v[1], &v[2], &v[3], &v[4]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}

// BenchmarkRetrieveOverhead interleaves the wizard's Retrieve and the raw query, in
// alternating order, so both see the same machine at the same moment, and reports their
// times and ratio (wizard / raw).
func BenchmarkRetrieveOverhead(b *testing.B) {
	for _, dc := range benchDialects {
		b.Run(dc.name, func(b *testing.B) {
			db := dc.open(b)
			const rows = 1000
			table, query := benchTable(b, db, dc.dialect, rows)
			w := newWizard(b, db, table, nil)
			ctx := context.Background()
			var v [5]sql.NullString
			var wizard, raw time.Duration
			i := 0
			for b.Loop() {
				id := fmt.Sprintf("user%04d", i%rows)
				i++
				callWizard := func() {
					start := time.Now()
					if _, found, err := w.Retrieve(ctx, id); err != nil || !found {
						b.Fatal(found, err)
					}
					wizard += time.Since(start)
				}
				callRaw := func() {
					start := time.Now()
					if err := db.QueryRowContext(ctx, query, id).Scan(&v[0], &v[1], &v[2], &v[3], &v[4]); err != nil {
						b.Fatal(err)
					}
					raw += time.Since(start)
				}
				if i%2 == 0 { // alternate, so that neither always runs first
					callWizard()
					callRaw()
				} else {
					callRaw()
					callWizard()
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(wizard.Nanoseconds())/n, "wizard-ns/op")
			b.ReportMetric(float64(raw.Nanoseconds())/n, "raw-ns/op")
			b.ReportMetric(float64(wizard)/float64(raw), "ratio")
		})
	}
}
