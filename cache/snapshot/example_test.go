package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
)

// A process keeps its cache in a snapshot; the next one, started while the source is down,
// restores it and serves what the first one served.
func Example() {
	dir, err := os.MkdirTemp("", "snapshot-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "endpoint.snap")
	ctx := context.Background()

	// The first process: the source answers.
	up := func(ctx context.Context, id string) (string, bool, error) { return "context=internal", true, nil }
	c, _ := cache.New(up, nil)
	snap, err := snapshot.New(c, path, nil) // JSON of string; written every minute and on Close
	if err != nil {
		panic(err)
	}
	c.Get(ctx, "alice")
	snap.Close() // first: writes what the cache holds
	c.Close()

	// The next process: the source is down.
	down := func(ctx context.Context, id string) (string, bool, error) { return "", false, errors.ErrUnavailable }
	c, _ = cache.New(down, &cache.Options{OnEvent: func(ev cache.Event) {
		if ev.Kind == cache.EventSnapshotRestored {
			fmt.Println("restored", ev.Objects, "object")
		}
	}})
	defer c.Close()
	snap, err = snapshot.New(c, path, nil)
	if err != nil {
		panic(err)
	}
	defer snap.Close()
	if _, err := snap.Restore(ctx); err != nil {
		panic(err)
	}
	v, found, err := c.Get(ctx, "alice")
	fmt.Println(v, found, err)
	// Output:
	// restored 1 object
	// context=internal true <nil>
}
