package cache_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

func ExampleNew() {
	endpoints := map[string]string{"alice": "context=default"}
	c, err := cache.New(func(ctx context.Context, id string) (string, bool, error) {
		v, ok := endpoints[id] // a real LoadFunc asks a database or a provisioning service
		return v, ok, nil
	}, &cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: time.Hour})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	v, found, err := c.Get(context.Background(), "alice")
	fmt.Println(v, found, err)
	_, found, err = c.Get(context.Background(), "bob")
	fmt.Println(found, err)
	// Output:
	// context=default true <nil>
	// false <nil>
}

func ExampleParseOptions() {
	o, err := cache.ParseOptions("name=endpoints,maximum_objects=1000,object_lifetime_stale=60,object_lifetime_maximum=86400,stale_if_error=3600")
	if err != nil {
		panic(err)
	}
	fmt.Println(o.Name, o.MaxObjects, o.LifetimeStale, o.LifetimeMaximum, o.StaleIfError)

	_, err = cache.ParseOptions("maximum_objects=toast")
	fmt.Println(err)
	fmt.Println(errors.Is(err, errors.ErrInvalid))
	// Output:
	// endpoints 1000 1m0s 24h0m0s 1h0m0s
	// sorcery: cache option "maximum_objects": not a whole number
	// true
}

// A source that fails does not take the cached objects with it: an entry whose refresh
// fails is kept, served and its life extended, where Asterisk would drop it.
func ExampleCache_Get_sourceDown() {
	var (
		mu   sync.Mutex
		down bool
	)
	load := func(ctx context.Context, id string) (string, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return "", false, fmt.Errorf("provisioning service: %w", errors.ErrUnavailable)
		}
		return "context=default", true, nil
	}
	refreshed := make(chan cache.Event, 1)
	c, err := cache.New(load, &cache.Options{
		LifetimeStale: time.Minute, LifetimeMaximum: 24 * time.Hour,
		OnEvent: func(ev cache.Event) {
			if ev.Kind == cache.EventRefreshError {
				refreshed <- ev
			}
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Get(ctx, "alice")

	mu.Lock()
	down = true
	mu.Unlock()
	c.MarkStale("alice", true) // as if a minute had passed: refresh now
	ev := <-refreshed
	fmt.Println(ev.Kind, ev.ID, errors.Is(ev.Err, errors.ErrUnavailable))

	v, found, err := c.Get(ctx, "alice")
	fmt.Println(v, found, err)
	fmt.Println("extended:", c.Stats().Extended)
	// Output:
	// refresh_error alice true
	// context=default true <nil>
	// extended: 1
}

// Full-backend mode holds the whole set: absent ids are answered from memory.
func ExampleNewFull() {
	all := func(ctx context.Context) ([]cache.Entry[string], error) {
		return []cache.Entry[string]{{ID: "bob", Value: "b"}, {ID: "alice", Value: "a"}}, nil
	}
	c, err := cache.NewFull(nil, all, &cache.Options{FullBackend: true, LifetimeStale: time.Minute})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	_, found, _ := c.Get(ctx, "carol") // loads the set, then answers from it
	fmt.Println("carol:", found)
	entries, _ := c.All(ctx)
	for _, e := range entries {
		fmt.Println(e.ID, e.Value)
	}
	// Output:
	// carol: false
	// alice a
	// bob b
}
