package sqldb_test

import (
	"database/sql"
	"testing"

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorcerytest"
)

// harness opens a wizard over a new table of sorcerytest's columns holding the seed, stored
// as Asterisk stores realtime rows.
func harness(db *sql.DB, d sqldb.Dialect) sorcerytest.Harness {
	return func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
		table := createTable(t, db, "conf", conformanceColumns)
		seedRaw(t, db, d, table, seed)
		return newWizard(t, db, table, nil)
	}
}

func TestConformance(t *testing.T) {
	eachDialect(t, func(t *testing.T, dc dialectCase, db *sql.DB) {
		sorcerytest.Run(t, harness(db, dc.dialect))
	})
}
