package realtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/gosorcery/gosorcery/backends/realtime"
)

// openDB opens an in-memory SQLite database with a ps_endpoints table holding one row.
func openDB(context string) *sql.DB {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, s := range []string{
		"CREATE TABLE ps_endpoints (id VARCHAR(255) PRIMARY KEY, context VARCHAR(40), allow VARCHAR(200))",
		"INSERT INTO ps_endpoints VALUES ('1001', '" + context + "', 'opus;ulaw')",
	} {
		if _, err := db.Exec(s); err != nil {
			log.Fatal(err)
		}
	}
	return db
}

// A family served by two databases: the second answers while the first is down, and only
// then.
func Example() {
	dir, err := os.MkdirTemp("", "extconfig")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	conf := `[settings]
ps_endpoints => sqlite3,primary,ps_endpoints,1
ps_endpoints => sqlite3,backup,ps_endpoints,2
`
	if err := os.WriteFile(filepath.Join(dir, "extconfig.conf"), []byte(conf), 0o600); err != nil {
		log.Fatal(err)
	}
	primary, backup := openDB("from-primary"), openDB("from-backup")
	defer backup.Close()

	endpoints, err := realtime.New("ps_endpoints", &realtime.Options{
		Dir:       dir,
		Databases: map[string]*sql.DB{"primary": primary, "backup": backup},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer endpoints.Close()
	ctx := context.Background()

	ep, found, err := endpoints.Retrieve(ctx, "1001")
	fmt.Println(ep.Fields.Value("context"), ep.Fields.Values("allow"), found, err)

	_, found, err = endpoints.Retrieve(ctx, "1002")
	fmt.Println("1002:", found, err) // priority 1 said "not found": priority 2 is not asked

	primary.Close() // priority 1 fails
	ep, found, err = endpoints.Retrieve(ctx, "1001")
	fmt.Println(ep.Fields.Value("context"), found, err)
	// Output:
	// from-primary [opus ulaw] true <nil>
	// 1002: false <nil>
	// from-backup true <nil>
}

// ParseConfig reads extconfig.conf's lines as Asterisk does.
func ExampleParseConfig() {
	c, err := realtime.ParseConfig("extconfig.conf", []byte(`
[settings]
ps_endpoints => odbc,asterisk
ps_endpoints => curl,"http://prov.example/pjsip?x=1,y=2",endpoints,2
ps_endpoints => pgsql,far,ps_endpoints,4 ; after a gap: not used
`))
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range c.Family("ps_endpoints") {
		fmt.Println(m.Priority, m.Driver, m.Database, m.Table)
	}
	// Output:
	// 1 odbc asterisk ps_endpoints
	// 2 curl http://prov.example/pjsip?x=1,y=2 endpoints
}
