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

func TestReadWhoseRecordWasLostGetsSecondChance(t *testing.T) {
	c, err := New(func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }, &Options{MaxObjects: 2})
	require.NoError(t, err)
	defer c.Close()
	c.Set("alice", 1)
	c.Set("bob", 2)
	// A read of alice whose note the full access buffer dropped: only her bit is set.
	h := maphash.String(c.seed, "alice")
	c.shardFor(h).table.Find(h, "alice").SetFlags(flagRef)
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
