package natsbus_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nats-io/nats.go"

	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/invalidate/natsbus"
	"github.com/gosorcery/gosorcery/sorcery"
)

func ExampleSubject() {
	s, _ := natsbus.Subject("", "endpoint")
	fmt.Println(s)
	s, _ = natsbus.Subject("pbx.prod", "aor")
	fmt.Println(s)
	// Output:
	// sorcery.invalidate.endpoint
	// pbx.prod.aor
}

// A SIP server receives the invalidations of the types it caches.
func ExampleNewSource() {
	s := sorcery.New(nil)
	defer s.Close()
	// … register endpoint, aor and auth, with their caches and wizards …

	src, err := natsbus.NewSource("nats://nats.example:4222", s, &natsbus.Options{
		SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint", "aor", "auth"}},
		Connect:       []nats.Option{nats.UserCredentials("sip.creds")},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
}

// A provisioning tool announces a change after writing it.
func ExamplePublisher() {
	nc, err := nats.Connect("nats://nats.example:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	pub, err := natsbus.NewPublisher(nc, nil)
	if err != nil {
		log.Fatal(err)
	}
	// … write the endpoint at the source …
	err = pub.Publish(context.Background(), sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Changed})
	if err != nil {
		log.Print(err) // caches catch up within their stale period
	}
}
