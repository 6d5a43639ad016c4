package cache

import (
	"context"
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadersFindEveryEntryWhileShardsGrow(t *testing.T) {
	var unexpected atomic.Int64
	c, err := New(func(ctx context.Context, id string) (int, bool, error) {
		unexpected.Add(1) // every id read was Set before: a load means a reader missed it
		return 0, false, nil
	}, nil)
	require.NoError(t, err)
	defer c.Close()

	const n = 50000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	var published atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, k := range keys {
			c.Set(k, i)
			published.Store(int64(i + 1))
		}
	})
	for r := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for published.Load() < n {
				p := published.Load()
				if p == 0 {
					continue
				}
				i := rng.IntN(int(p))
				v, ok, err := c.Get(context.Background(), keys[i])
				if err != nil || !ok || v != i {
					t.Errorf("Get(%s) = %d, %v, %v", keys[i], v, ok, err)
					return
				}
				if _, ok := c.Peek(keys[i]); !ok {
					t.Errorf("Peek(%s) missed", keys[i])
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, unexpected.Load(), "readers missed entries while the table grew")
	assert.Equal(t, n, c.Len())
}

func TestDeadlineHeapStaysOrdered(t *testing.T) {
	var s shard[int]
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	rng := rand.New(rand.NewPCG(1, 2))
	var live []*entry[int]
	check := func() {
		t.Helper()
		for i := range s.heap {
			switch {
			case s.heap[i].e.heapIdx != int32(i):
				t.Fatalf("slot %d: entry thinks it is at %d", i, s.heap[i].e.heapIdx)
			case s.heap[i].e.due() != s.heap[i].due:
				t.Fatalf("slot %d: stored due %d, entry due %d", i, s.heap[i].due, s.heap[i].e.due())
			case i > 0 && s.heap[(i-1)/2].due > s.heap[i].due:
				t.Fatalf("slot %d: earlier than its parent", i)
			}
		}
		want := never
		if len(s.heap) > 0 {
			want = s.heap[0].due
		}
		if s.minDue.Load() != want {
			t.Fatalf("minDue %d, want %d", s.minDue.Load(), want)
		}
	}
	for i := range 3000 {
		switch op := rng.IntN(4); {
		case op < 2 || len(live) == 0:
			e := &entry[int]{key: strconv.Itoa(i), staleAt: rng.Int64N(1000), expireAt: 1000 + rng.Int64N(1000)}
			if rng.IntN(5) == 0 {
				e.staleAt, e.expireAt = never, never
			}
			s.schedule(e)
			live = append(live, e)
		case op == 2:
			j := rng.IntN(len(live))
			live[j].flags.Or(flagStale)
			live[j].expireAt = rng.Int64N(3000)
			s.reschedule(live[j])
		default:
			j := rng.IntN(len(live))
			s.unschedule(live[j])
			live = append(live[:j], live[j+1:]...)
		}
		check()
	}
}

func TestReadWhoseRecordWasLostGetsSecondChance(t *testing.T) {
	c, err := New(func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }, &Options{MaxObjects: 2})
	require.NoError(t, err)
	defer c.Close()
	c.Set("alice", 1)
	c.Set("bob", 2)
	// A read of alice whose note the full access buffer dropped: only her bit is set.
	h := maphash.String(c.seed, "alice")
	c.shardFor(h).table.Load().find(h, "alice").flags.Or(flagRef)
	c.Set("carol", 3)
	_, ok := c.Peek("alice")
	assert.True(t, ok, "a referenced entry was evicted without a second chance")
	_, ok = c.Peek("bob")
	assert.False(t, ok)
	// The second chance made alice the most recently used: carol, pushed before it,
	// goes first; then alice, unread since, goes.
	c.Set("dave", 4)
	_, ok = c.Peek("carol")
	assert.False(t, ok)
	_, ok = c.Peek("alice")
	assert.True(t, ok)
	c.Set("eve", 5)
	_, ok = c.Peek("alice")
	assert.False(t, ok, "a spent second chance protected alice again")
}

func TestFullAccessBufferDropsRecordsWithoutLosingEntries(t *testing.T) {
	c, err := New(func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }, &Options{MaxObjects: 4 * accessSlots * 256})
	require.NoError(t, err)
	defer c.Close()
	n := 2 * accessSlots * len(c.policy.bufs)
	for i := range n {
		c.Set(strconv.Itoa(i), i)
	}
	for i := range n { // more first reads than the buffers hold
		_, ok, err := c.Get(context.Background(), strconv.Itoa(i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	c.Set("one more", 0) // applies what was buffered
	assert.Equal(t, n+1, c.Len())
}

func TestReadsAreAppliedInTheOrderTheyHappenedAcrossStripes(t *testing.T) {
	c, err := New(func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }, &Options{MaxObjects: 2})
	require.NoError(t, err)
	defer c.Close()
	c.Set("alice", 1)
	c.Set("bob", 2)
	find := func(id string) *entry[int] {
		h := maphash.String(c.seed, id)
		return c.shardFor(h).table.Load().find(h, id)
	}
	// alice is read, then the goroutine's stack moves and bob is read: bob's record lands
	// in a stripe that is drained before alice's.
	record := func(stripe int, e *entry[int]) {
		e.flags.Or(flagRef)
		b := &c.policy.bufs[stripe]
		i := b.n.Add(1) - 1
		b.slots[i].seq.Store(c.policy.seq.Add(1))
		b.slots[i].e.Store(e)
	}
	record(1, find("alice"))
	record(0, find("bob"))
	c.Set("carol", 3)
	_, ok := c.Peek("alice")
	assert.False(t, ok, "alice, read before bob, should have gone")
	_, ok = c.Peek("bob")
	assert.True(t, ok)
}
