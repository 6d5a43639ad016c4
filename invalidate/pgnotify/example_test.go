package pgnotify_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/gosorcery/gosorcery/invalidate/pgnotify"
	"github.com/gosorcery/gosorcery/sorcery"
)

func ExampleTriggerSQL() {
	s, err := pgnotify.TriggerSQL(pgnotify.Table{Name: "ps_endpoints", Type: "endpoint"}, "")
	if err != nil {
		panic(err)
	}
	fmt.Print(s)
	// Output:
	// DROP TRIGGER IF EXISTS sorcery_notify ON "ps_endpoints";
	// CREATE TRIGGER sorcery_notify AFTER INSERT OR UPDATE OR DELETE ON "ps_endpoints"
	// 	FOR EACH ROW EXECUTE FUNCTION sorcery_notify('endpoint');
}

func ExamplePSTables() {
	for _, t := range pgnotify.PSTables() {
		fmt.Println(t.Name, "→", t.Type)
	}
	// Output:
	// ps_endpoints → endpoint
	// ps_auths → auth
	// ps_aors → aor
	// ps_contacts → contact
}

// A SIP server listens for the changes the triggers announce and applies them to its caches.
func ExampleNewSource() {
	s := sorcery.New(nil)
	defer s.Close()
	// … register the types, add their caches and wizards …

	src, err := pgnotify.NewSource("postgres://asterisk@db.example/asterisk", s, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
}

// A provisioning tool installs the triggers once, and announces changes the triggers cannot
// see (made elsewhere than in the tables) in the transaction that makes them.
func ExampleInstall() {
	ctx := context.Background()
	var db *sql.DB // opened with a PostgreSQL driver, such as pgx's stdlib
	if err := pgnotify.Install(ctx, db, "", pgnotify.PSTables()...); err != nil {
		log.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	pub, err := pgnotify.NewPublisher(tx, nil)
	if err != nil {
		log.Fatal(err)
	}
	// … write the change in tx …
	if err := pub.Publish(ctx, sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Changed}); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil { // the notification leaves now
		log.Fatal(err)
	}
}
