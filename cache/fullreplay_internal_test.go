package cache

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"testing"
	"time"
)

// A write made while a whole load runs is replayed onto the set that load publishes. The
// entry written into the old set must not be linked into the new one as well: an entry has
// one chain link, and relinking it cuts the old set's chain behind it, so that a reader
// still on the old set finds "absent" for objects both sets hold.
func TestWritesReplayedOntoANewSetLeaveTheOldSetWhole(t *testing.T) {
	const n = 4096
	objs := make([]Entry[int], n)
	for i := range objs {
		objs[i] = Entry[int]{ID: fmt.Sprint("ep", i), Value: i}
	}
	// The second load finds many more objects: the new set's tables are larger, laid out
	// apart from the old set's.
	more := append([]Entry[int](nil), objs...)
	for i := range 4 * n {
		more = append(more, Entry[int]{ID: fmt.Sprint("more", i), Value: i})
	}
	var calls atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	loadAll := func(ctx context.Context) ([]Entry[int], error) {
		if calls.Add(1) == 2 {
			close(started)
			<-release
			return more, nil
		}
		return objs, nil
	}
	c, err := NewFull[int](nil, loadAll, &Options{FullBackend: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.All(ctx); err != nil {
		t.Fatal(err)
	}
	old := c.full.cur.Load()

	done := make(chan error, 1)
	go func() { done <- c.Populate(ctx) }() // a second whole load, held until released
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the second whole load did not start")
	}
	var written []string
	for i := range 2048 {
		id := fmt.Sprint("new", i)
		c.Set(id, -i) // into the old set, and into the log of the running load
		written = append(written, id)
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second whole load did not return")
	}
	if c.full.cur.Load() == old {
		t.Fatal("the second whole load did not publish a new set")
	}

	lost := 0
	for _, id := range append(written, ids(objs)...) {
		if old.find(c, maphash.String(c.seed, id), id) == nil {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d objects of the old set cannot be found in it once the writes were replayed onto the new one", lost, n+len(written))
	}
	for _, id := range written {
		if _, ok := c.Peek(id); !ok {
			t.Errorf("%s, written during the load, is missing from the new set", id)
		}
	}
}

func ids(entries []Entry[int]) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}
