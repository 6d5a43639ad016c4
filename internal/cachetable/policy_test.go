package cachetable

import (
	"container/list"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// checkList verifies the policy's list against its own bookkeeping: the links agree in both
// directions, n counts the entries, and contains holds for exactly the entries in it.
func checkList[T any](t *testing.T, p *Policy[T], all []*Entry[T]) []string {
	t.Helper()
	var forward []string
	var prev *Entry[T]
	for e := p.head; e != nil; e = e.lruNext {
		if e.lruPrev != prev {
			t.Fatalf("%s: lruPrev is %v, want %v", e.key, keyOf(e.lruPrev), keyOf(prev))
		}
		if !p.contains(e) {
			t.Fatalf("%s is in the list but contains says it is not", e.key)
		}
		forward = append(forward, e.key)
		prev = e
		if len(forward) > len(all) {
			t.Fatal("the list has a cycle")
		}
	}
	if p.tail != prev {
		t.Fatalf("tail is %v, want %v", keyOf(p.tail), keyOf(prev))
	}
	if p.n != len(forward) {
		t.Fatalf("n = %d, the list holds %d", p.n, len(forward))
	}
	in := 0
	for _, e := range all {
		if p.contains(e) {
			in++
		} else if e.lruPrev != nil || e.lruNext != nil {
			t.Fatalf("%s is out of the list but keeps links", e.key)
		}
	}
	if in != p.n {
		t.Fatalf("contains holds for %d entries, the list holds %d", in, p.n)
	}
	return forward
}

func keyOf[T any](e *Entry[T]) string {
	if e == nil {
		return "<nil>"
	}
	return e.key
}

// TestPolicyListMatchesModel drives the intrusive recency list with random additions,
// removals, reads and evictions, and compares its order and its victims with a
// container/list model of least-recently-used with second chances.
func TestPolicyListMatchesModel(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			m := newLRUModel(8)
			p := NewPolicy[int](8)
			rng := rand.New(rand.NewPCG(seed, 1))
			var all []*Entry[int]
			for step := range 3000 {
				p.mu.Lock()
				switch op := rng.IntN(10); {
				case op < 4 || len(all) == 0: // a new entry
					e := &Entry[int]{key: fmt.Sprintf("e%d", step)}
					all = append(all, e)
					p.Add(e)
					m.add(e)
				case op < 5: // remove any entry, in the list or not
					e := all[rng.IntN(len(all))]
					p.Remove(e)
					m.remove(e)
				case op < 8: // a read of an entry whose reference bit is clear
					if e := all[rng.IntN(len(all))]; e.flags.Load()&Referenced == 0 {
						p.Touch(e)
						m.touch(e)
					}
				default:
					got, want := keys(p.Victims()), keys(m.victims())
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("step %d: victims %v, model %v", step, got, want)
					}
				}
				order := checkList(t, p, all)
				if len(m.pending) == 0 && fmt.Sprint(order) != fmt.Sprint(m.order()) {
					t.Fatalf("step %d: list %v, model %v", step, order, m.order())
				}
				p.mu.Unlock()
			}
		})
	}
}

// lruModel is the policy written the plain way: reads are noted and applied in order
// before an addition or an eviction; an entry whose reference bit is set at eviction
// time gets one second chance.
type lruModel struct {
	max     int
	l       *list.List // front: most recently used
	elems   map[*Entry[int]]*list.Element
	ref     map[*Entry[int]]bool
	pending []*Entry[int]
}

func newLRUModel(max int) *lruModel {
	return &lruModel{max: max, l: list.New(), elems: map[*Entry[int]]*list.Element{}, ref: map[*Entry[int]]bool{}}
}

func (m *lruModel) touch(e *Entry[int]) {
	m.ref[e] = true
	m.pending = append(m.pending, e)
}

func (m *lruModel) drain() {
	for _, e := range m.pending {
		if el, ok := m.elems[e]; ok {
			m.l.MoveToFront(el)
		}
		m.ref[e] = false
	}
	m.pending = nil
}

func (m *lruModel) add(e *Entry[int]) {
	m.drain()
	m.elems[e] = m.l.PushFront(e)
}

func (m *lruModel) remove(e *Entry[int]) {
	if el, ok := m.elems[e]; ok {
		m.l.Remove(el)
		delete(m.elems, e)
	}
}

func (m *lruModel) victims() []*Entry[int] {
	if m.l.Len() <= m.max {
		return nil
	}
	m.drain()
	var out []*Entry[int]
	for chances := m.l.Len(); m.l.Len() > m.max; {
		el := m.l.Back()
		e := el.Value.(*Entry[int])
		if chances > 0 && m.ref[e] {
			chances--
			m.ref[e] = false
			m.l.MoveToFront(el)
			continue
		}
		m.remove(e)
		out = append(out, e)
	}
	return out
}

func (m *lruModel) order() []string {
	var out []string
	for el := m.l.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*Entry[int]).key)
	}
	return out
}

func keys[T any](es []*Entry[T]) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.key
	}
	return out
}

// TestPolicyResetUnlinksEntries: after reset (Close), removing an entry that was in the
// list, as a refresh finishing late does, leaves the new list intact.
func TestPolicyResetUnlinksEntries(t *testing.T) {
	p := NewPolicy[int](4)
	old := []*Entry[int]{{key: "a"}, {key: "b"}, {key: "c"}}
	p.mu.Lock()
	for _, e := range old {
		p.Add(e)
	}
	p.mu.Unlock()
	p.Reset()
	p.mu.Lock()
	defer p.mu.Unlock()
	fresh := &Entry[int]{key: "d"}
	p.Add(fresh)
	for _, e := range old {
		p.Remove(e)
	}
	all := append(old, fresh)
	if got := checkList(t, p, all); fmt.Sprint(got) != "[d]" {
		t.Fatalf("list after reset and late removals: %v, want [d]", got)
	}
}

// TestReadsAreAppliedInTheOrderTheyHappenedAcrossStripes: alice is read, then the
// goroutine's stack moves and bob is read: bob's record lands in a stripe that is drained
// before alice's, and the sequence numbers still put alice first.
func TestReadsAreAppliedInTheOrderTheyHappenedAcrossStripes(t *testing.T) {
	p := NewPolicy[int](2)
	alice, bob, carol := NewEntry(1, "alice", 1), NewEntry(2, "bob", 2), NewEntry(3, "carol", 3)
	p.Lock()
	p.Add(alice)
	p.Add(bob)
	p.Unlock()
	record := func(stripe int, e *Entry[int]) {
		e.SetFlags(Referenced)
		b := &p.bufs[stripe]
		i := b.n.Add(1) - 1
		b.slots[i].seq.Store(p.seq.Add(1))
		b.slots[i].e.Store(e)
	}
	record(1, alice)
	record(0, bob)
	p.Lock()
	defer p.Unlock()
	p.Add(carol)
	if got := keys(p.Victims()); fmt.Sprint(got) != "[alice]" {
		t.Fatalf("victims %v, want [alice]: alice was read before bob", got)
	}
}

// TestFullAccessBufferDropsRecordsWithoutLosingEntries: more first reads than the
// buffers hold drop records, never entries, and every entry stays in the list.
func TestFullAccessBufferDropsRecordsWithoutLosingEntries(t *testing.T) {
	n := 2 * accessSlots * 256
	p := NewPolicy[int](2 * n)
	all := make([]*Entry[int], n)
	p.Lock()
	for i := range all {
		all[i] = NewEntry(uint64(i), fmt.Sprint(i), i)
		p.Add(all[i])
	}
	p.Unlock()
	for _, e := range all {
		p.Touch(e)
	}
	p.Lock()
	defer p.Unlock()
	p.Add(NewEntry(0, "one more", 0)) // applies what was buffered
	if p.Len() != n+1 {
		t.Fatalf("the list holds %d entries, want %d", p.Len(), n+1)
	}
	if v := p.Victims(); len(v) != 0 {
		t.Fatalf("%d victims under the maximum", len(v))
	}
}

// TestTouchRacesAddAndVictims: readers record reads without the lock while a writer adds
// entries and evicts under it. The list stays consistent and within the maximum, and
// every entry added is either in the list or was a victim, once.
func TestTouchRacesAddAndVictims(t *testing.T) {
	const max, n = 64, 20000
	p := NewPolicy[int](max)
	all := make([]*Entry[int], n)
	for i := range all {
		all[i] = NewEntry(uint64(i), fmt.Sprint(i), i)
	}
	var added atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := added.Load()
				if a == 0 {
					continue
				}
				if e := all[rng.IntN(int(a))]; e.Flags()&Referenced == 0 {
					p.Touch(e)
				}
			}
		})
	}
	evicted := map[*Entry[int]]bool{}
	for i, e := range all {
		p.Lock()
		p.Add(e)
		added.Store(int64(i + 1))
		for _, v := range p.Victims() {
			if evicted[v] {
				t.Errorf("%s evicted twice", v.Key())
			}
			evicted[v] = true
		}
		if p.Len() > max {
			t.Errorf("after %d additions the list holds %d, over %d", i+1, p.Len(), max)
		}
		p.Unlock()
	}
	close(stop)
	wg.Wait()
	p.Lock()
	defer p.Unlock()
	p.drain()
	order := checkList(t, p, all)
	if len(order)+len(evicted) != n {
		t.Fatalf("%d in the list and %d evicted, want %d in all", len(order), len(evicted), n)
	}
}
