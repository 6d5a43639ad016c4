package redisbus_test

import (
	"context"
	"fmt"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/invalidate/redisbus"
	"github.com/gosorcery/gosorcery/sorcery"
)

func ExampleChannel() {
	c, _ := redisbus.Channel("", "endpoint")
	fmt.Println(c)
	// Output: sorcery:invalidate:endpoint
}

// A SIP server receives the invalidations of the types it caches, and a provisioning tool
// announces its changes.
func ExampleNewSource() {
	client := redis.NewClient(&redis.Options{Addr: "redis.example:6379"})
	defer client.Close()

	s := sorcery.New(nil)
	defer s.Close()
	// … register endpoint and aor, with their caches and wizards …
	src, err := redisbus.NewSource(client, s, &redisbus.Options{
		SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint", "aor"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	pub, err := redisbus.NewPublisher(client, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := pub.Publish(context.Background(), sorcery.Invalidation{Type: "aor", ID: "alice", Change: sorcery.Deleted}); err != nil {
		log.Print(err)
	}
}
