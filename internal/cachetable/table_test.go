package cachetable

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedTable is a table with the owner's lock, as a cache shard holds it.
type lockedTable struct {
	mu sync.Mutex // guards t's writes
	t  Table[int]
}

func hashOf(key string) uint64 {
	// A weak hash on purpose: chains of several entries, and growth that splits them.
	h, _ := strconv.ParseUint(key[1:], 10, 64)
	return h * 0x9E3779B97F4A7C15 >> 3
}

func TestTableLookupInsertReplaceRemove(t *testing.T) {
	var tab Table[int]
	tab.Init()
	const n = 1000
	for i := range n {
		k := "k" + strconv.Itoa(i)
		_, e := tab.Lookup(hashOf(k), k)
		require.Nil(t, e, k)
		tab.Insert(NewEntry(hashOf(k), k, i))
	}
	assert.Equal(t, n, tab.Len())
	assert.GreaterOrEqual(t, int(tab.Mask())+1, 2*n, "at most one entry per two buckets")
	for i := range n {
		k := "k" + strconv.Itoa(i)
		e := tab.Find(hashOf(k), k)
		require.NotNil(t, e, k)
		assert.Equal(t, i, e.Value, k)
		assert.Equal(t, k, e.Key())
		assert.Equal(t, hashOf(k), e.Hash())
	}
	assert.Nil(t, tab.Find(hashOf("k1000"), "k1000"))

	// Replace the even ones, remove those divisible by three.
	for i := range n {
		k := "k" + strconv.Itoa(i)
		link, old := tab.Lookup(hashOf(k), k)
		switch {
		case i%3 == 0:
			tab.Remove(link, old)
		case i%2 == 0:
			tab.Replace(link, old, NewEntry(hashOf(k), k, -i))
		}
	}
	seen := map[string]int{}
	for e := range tab.All {
		seen[e.Key()] = e.Value
	}
	assert.Equal(t, tab.Len(), len(seen))
	for i := range n {
		k := "k" + strconv.Itoa(i)
		v, ok := seen[k]
		switch {
		case i%3 == 0:
			assert.False(t, ok, k)
		case i%2 == 0:
			assert.Equal(t, -i, v, k)
		default:
			assert.Equal(t, i, v, k)
		}
	}
	visited := 0
	for b := uint64(0); b <= tab.Mask(); b++ {
		for e := range tab.Bucket(b) {
			assert.Equal(t, e.Hash()&tab.Mask(), b, e.Key())
			visited++
		}
	}
	assert.Equal(t, tab.Len(), visited)

	tab.Init()
	assert.Zero(t, tab.Len())
	assert.Nil(t, tab.Find(hashOf("k1"), "k1"))
}

// TestReadersNeverFindWrongEntriesWhileTheTableGrows runs lock-free readers against a
// writer that inserts (growing the table many times), replaces and removes. A reader may
// miss an entry while the table grows, never find a wrong one, and a miss confirmed under
// the lock finds every entry that was published.
func TestReadersNeverFindWrongEntriesWhileTheTableGrows(t *testing.T) {
	var lt lockedTable
	lt.t.Init()
	const n = 20000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	var published atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, k := range keys {
			lt.mu.Lock()
			lt.t.Insert(NewEntry(hashOf(k), k, i))
			if i%7 == 0 && i > 0 { // replace an earlier one with the same value, remove none
				j := i / 2
				link, old := lt.t.Lookup(hashOf(keys[j]), keys[j])
				lt.t.Replace(link, old, NewEntry(hashOf(keys[j]), keys[j], j))
			}
			lt.mu.Unlock()
			published.Store(int64(i + 1))
		}
	})
	var lockedMisses atomic.Int64
	for r := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for published.Load() < n {
				p := published.Load()
				if p == 0 {
					continue
				}
				i := rng.IntN(int(p))
				k := keys[i]
				e := lt.t.Find(hashOf(k), k)
				if e == nil {
					lockedMisses.Add(1)
					lt.mu.Lock()
					_, e = lt.t.Lookup(hashOf(k), k)
					lt.mu.Unlock()
				}
				if e == nil || e.Key() != k || e.Value != i {
					t.Errorf("%s: found %+v", k, e)
					return
				}
			}
		})
	}
	wg.Wait()
	lt.mu.Lock()
	defer lt.mu.Unlock()
	assert.Equal(t, n, lt.t.Len())
	t.Logf("misses confirmed under the lock: %d", lockedMisses.Load())
}

// TestReaderOnARemovedEntryWalksOn: a reader standing on an entry when it is removed or
// replaced still reaches the rest of its chain.
func TestReaderOnARemovedEntryWalksOn(t *testing.T) {
	var tab Table[int]
	tab.Init()
	// Three keys in one bucket: equal hashes.
	a, b, c := NewEntry(8, "a", 1), NewEntry(8, "b", 2), NewEntry(8, "c", 3)
	tab.Insert(a)
	tab.Insert(b)
	tab.Insert(c) // the chain is c, b, a
	standing := tab.Find(8, "b")
	require.Same(t, b, standing)
	link, _ := tab.Lookup(8, "b")
	tab.Remove(link, b)
	assert.Same(t, a, standing.next.Load(), "a removed entry keeps its link")
	assert.Nil(t, tab.Find(8, "b"))
	link, _ = tab.Lookup(8, "c")
	n := NewEntry(8, "c", 30)
	tab.Replace(link, c, n)
	assert.Same(t, n, tab.Find(8, "c"))
	assert.Same(t, a, c.next.Load(), "a replaced entry keeps its link")
	assert.Equal(t, 2, tab.Len())
}

func TestDeadlineHeapStaysOrdered(t *testing.T) {
	var d Deadlines[int]
	d.Init()
	rng := rand.New(rand.NewPCG(1, 2))
	var live []*Entry[int]
	due := map[*Entry[int]]int64{}
	check := func() {
		t.Helper()
		for i := range d.heap {
			switch {
			case d.heap[i].e.heapIdx != int32(i):
				t.Fatalf("slot %d: entry thinks it is at %d", i, d.heap[i].e.heapIdx)
			case due[d.heap[i].e] != d.heap[i].due:
				t.Fatalf("slot %d: stored due %d, entry due %d", i, d.heap[i].due, due[d.heap[i].e])
			case i > 0 && d.heap[(i-1)/2].due > d.heap[i].due:
				t.Fatalf("slot %d: earlier than its parent", i)
			}
		}
		e, first := d.First()
		if d.MinDue() != first || (e == nil) != (first == Never) {
			t.Fatalf("MinDue %d, First %v at %d", d.MinDue(), e, first)
		}
		for _, e := range live {
			if (e.heapIdx >= 0) != (due[e] != Never) {
				t.Fatalf("%s: in the heap %v, due %d", e.Key(), e.heapIdx >= 0, due[e])
			}
		}
	}
	for i := range 3000 {
		switch op := rng.IntN(5); {
		case op < 2 || len(live) == 0:
			e := NewEntry(uint64(i), strconv.Itoa(i), i)
			due[e] = rng.Int64N(1000)
			if rng.IntN(5) == 0 {
				due[e] = Never
			}
			d.Schedule(e, due[e])
			live = append(live, e)
		case op == 2:
			j := rng.IntN(len(live))
			due[live[j]] = rng.Int64N(3000)
			if rng.IntN(5) == 0 {
				due[live[j]] = Never
			}
			d.Reschedule(live[j], due[live[j]])
		case op == 3 && rng.IntN(20) == 0:
			d.Refigure(func(e *Entry[int]) int64 {
				due[e] = rng.Int64N(3000)
				return due[e]
			})
		default:
			j := rng.IntN(len(live))
			d.Unschedule(live[j])
			delete(due, live[j])
			live = append(live[:j], live[j+1:]...)
		}
		check()
	}
	d.Init()
	assert.Zero(t, d.Len())
	assert.Equal(t, Never, d.MinDue())
}

func TestCountersSumEveryStripe(t *testing.T) {
	c := NewCounters()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Add(g % 3)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, uint64(3000), c.Sum(0))
	assert.Equal(t, uint64(3000), c.Sum(1))
	assert.Equal(t, uint64(2000), c.Sum(2))
	assert.Zero(t, c.Sum(3))
	assert.Less(t, StripeHint(), uint64(256))
}

func TestEntryFlags(t *testing.T) {
	e := NewEntry(1, "a", 0)
	e.StoreFlags(1)
	e.SetFlags(2 | Referenced)
	assert.Equal(t, 3|Referenced, e.Flags())
	e.ClearFlags(1)
	assert.Equal(t, 2|Referenced, e.Flags())
	e.UpdateFlags(2|Referenced, 4)
	assert.Equal(t, uint32(4), e.Flags())
	assert.False(t, e.CompareAndSwapFlags(5, 6))
	assert.True(t, e.CompareAndSwapFlags(4, 6))
	assert.Equal(t, uint32(6), e.Flags())
}
