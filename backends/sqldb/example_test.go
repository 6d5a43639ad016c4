package sqldb_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	_ "modernc.org/sqlite" // the "sqlite" driver; the sqldb package itself imports none

	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/sorcery"
)

// openPJSIP opens an in-memory SQLite database holding the PJSIP realtime tables.
func openPJSIP() *sql.DB {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: an in-memory database lives in it
	stmts, err := sqldb.SchemaStatements(sqldb.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			log.Fatal(err)
		}
	}
	return db
}

// A wizard over Asterisk's ps_endpoints table: a list is stored ';'-joined, as Asterisk
// stores it, and read back as repeated fields.
func Example() {
	ctx := context.Background()
	db := openPJSIP()
	defer db.Close()
	_, err := db.Exec(`INSERT INTO ps_endpoints (id, context, allow, callerid)
		VALUES ('1001', 'from-internal', 'opus;ulaw', '"Front desk^3B lobby" <1001>')`)
	if err != nil {
		log.Fatal(err)
	}

	endpoints, err := sqldb.New(db, "ps_endpoints", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer endpoints.Close()

	ep, found, err := endpoints.Retrieve(ctx, "1001")
	fmt.Println(found, err)
	for _, f := range ep.Fields {
		fmt.Printf("%s=%s\n", f.Name, f.Value)
	}
	// Output:
	// true <nil>
	// context=from-internal
	// allow=opus
	// allow=ulaw
	// callerid="Front desk; lobby" <1001>
}

// Writes encode the way Asterisk decodes, and searches match one value of a list.
func ExampleWizard_Search() {
	ctx := context.Background()
	db := openPJSIP()
	defer db.Close()
	aors, err := sqldb.New(db, "ps_aors", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer aors.Close()

	for _, r := range []sorcery.Record{
		{ID: "1001", Fields: sorcery.Fields{{Name: "max_contacts", Value: "1"}, {Name: "contact", Value: "sip:1001@192.0.2.1"}}},
		{ID: "1002", Fields: sorcery.Fields{{Name: "max_contacts", Value: "5"}}},
		{ID: "trunk", Fields: sorcery.Fields{
			{Name: "contact", Value: "sip:pbx@192.0.2.7"}, {Name: "contact", Value: "sip:pbx@192.0.2.8"},
		}},
	} {
		if err := aors.Create(ctx, r); err != nil {
			log.Fatal(err)
		}
	}
	var stored string
	_ = db.QueryRow("SELECT contact FROM ps_aors WHERE id = 'trunk'").Scan(&stored)
	fmt.Println("stored:", stored)

	found, err := aors.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{
		{Field: "contact", Op: sorcery.OpLike, Value: "%192.0.2.8"},
	}})
	fmt.Println(len(found), found[0].ID, err)

	found, err = aors.Search(ctx, sorcery.Query{IDPrefix: "100", Conditions: []sorcery.Condition{
		{Field: "max_contacts", Op: sorcery.OpGreater, Value: "2"},
	}})
	fmt.Println(len(found), found[0].ID, err)
	// Output:
	// stored: sip:pbx@192.0.2.7;sip:pbx@192.0.2.8
	// 1 trunk <nil>
	// 1 1002 <nil>
}

// The factory serves sorcery.conf mapping lines such as "endpoint = sqldb,ps_endpoints".
func ExampleFactory() {
	db := openPJSIP()
	defer db.Close()
	_, _ = db.Exec(`INSERT INTO ps_auths (id, auth_type, username, password) VALUES ('1001', 'userpass', '1001', 's3cret')`)

	type Auth struct {
		ID       string `sorcery:"id"`
		AuthType string `sorcery:"auth_type,default=userpass"`
		Username string `sorcery:"username"`
		Password string `sorcery:"password"`
	}
	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{
		"sqldb": sqldb.Factory(&sqldb.Options{DB: db}),
	}})
	defer s.Close()
	auths, err := sorcery.Register[Auth](s, "auth", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Apply("auth", "sqldb", "ps_auths"); err != nil {
		log.Fatal(err)
	}
	a, found, err := auths.Retrieve(context.Background(), "1001")
	fmt.Println(a.Username, a.AuthType, found, err)
	// Output:
	// 1001 userpass true <nil>
}
