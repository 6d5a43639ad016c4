package sorcerytest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Columns returns the field names the records of [Seed] use, id first (allow is
// multi-valued): what a wizard over a fixed schema, such as an SQL table, must store to pass
// [Run]. A fresh slice on every call.
func Columns() []string { return []string{"id", "name", "context", "max_contacts", "allow"} }

// Harness opens the wizard under test holding exactly the seed records (none when seed is
// empty), and registers any cleanup with t.Cleanup. Run calls it once per subtest; the
// cleanup must tolerate a wizard that the test has already closed.
type Harness func(t *testing.T, seed []sorcery.Record) sorcery.Wizard

// Seed returns the records Run seeds, fresh copies on every call.
func Seed() []sorcery.Record {
	return []sorcery.Record{
		{ID: "alice", Fields: sorcery.Fields{
			{Name: "name", Value: "Alice Liddell"}, {Name: "context", Value: "default"},
			{Name: "max_contacts", Value: "10"}, {Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"},
		}},
		{ID: "bob", Fields: sorcery.Fields{
			{Name: "name", Value: "Bob"}, {Name: "context", Value: "internal"},
			{Name: "max_contacts", Value: "20"}, {Name: "allow", Value: "g722"},
		}},
		{ID: "carol", Fields: sorcery.Fields{
			{Name: "name", Value: `Carol & "Co" = 100% + ü`}, {Name: "context", Value: "default"},
			{Name: "max_contacts", Value: "30"},
		}},
		{ID: "a_b", Fields: sorcery.Fields{
			{Name: "name", Value: "Underscore"}, {Name: "context", Value: "lab"},
			{Name: "max_contacts", Value: "40"},
		}},
		{ID: "axb", Fields: sorcery.Fields{
			{Name: "name", Value: "Axe"}, {Name: "context", Value: "lab"},
			{Name: "max_contacts", Value: "50"}, {Name: "allow", Value: "opus"},
		}},
	}
}

// Run runs the conformance suite against the wizards h opens.
func Run(t *testing.T, h Harness) {
	t.Run("Retrieve", func(t *testing.T) { testRetrieve(t, h) })
	t.Run("Search", func(t *testing.T) { testSearch(t, h) })
	t.Run("Write", func(t *testing.T) { testWrite(t, h) })
	t.Run("Batch", func(t *testing.T) { testBatch(t, h) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, h) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("Close", func(t *testing.T) { testClose(t, h) })
}

// AssertRecord checks that got holds every field of want with the same values in the same
// order per name. Fields that want lacks are allowed: a config file carries type=, a table
// has more columns.
func AssertRecord(t testing.TB, want, got sorcery.Record) bool {
	t.Helper()
	ok := assert.Equal(t, want.ID, got.ID, "id of %q", want.ID)
	for _, name := range want.Fields.Names() {
		ok = assert.Equal(t, want.Fields.Values(name), got.Fields.Values(name), "field %q of %q", name, want.ID) && ok
	}
	return ok
}

func ids(rs []sorcery.Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	sort.Strings(out)
	return out
}

func testRetrieve(t *testing.T, h Harness) {
	seed := Seed()
	w := h(t, seed)
	ctx := t.Context()
	for _, want := range seed {
		got, found, err := w.Retrieve(ctx, want.ID)
		require.NoError(t, err, "Retrieve(%q)", want.ID)
		require.True(t, found, "Retrieve(%q) found", want.ID)
		AssertRecord(t, want, got)
	}
	for _, id := range []string{"nobody", "ALICE", "alice ", "a%", "a_", "%", ".*"} {
		got, found, err := w.Retrieve(ctx, id)
		assert.NoError(t, err, "Retrieve(%q) of an absent id", id)
		assert.False(t, found, "Retrieve(%q) of an absent id reported found: %v", id, got)
	}
	// A wizard that answers at once answers as Retrieve does (asked of the wizard itself,
	// as the core asks it).
	if now, ok := w.(sorcery.ImmediateRetriever); ok && now.AnswersFor(w) {
		for _, want := range seed {
			got, found, err, answered := now.RetrieveNow(ctx, want.ID)
			if answered {
				require.NoError(t, err, "RetrieveNow(%q)", want.ID)
				require.True(t, found, "RetrieveNow(%q) found", want.ID)
				AssertRecord(t, want, got)
			}
		}
		got, found, err, answered := now.RetrieveNow(ctx, "nobody")
		if answered {
			assert.NoError(t, err, "RetrieveNow of an absent id")
			assert.False(t, found, "RetrieveNow of an absent id reported found: %v", got)
		}
	}
}

func testSearch(t *testing.T, h Harness) {
	w := h(t, Seed())
	s, ok := sorcery.Capability[sorcery.Searcher](w)
	if !ok {
		t.Skip("not a sorcery.Searcher")
	}
	cond := func(field string, op sorcery.Op, value string) []sorcery.Condition {
		return []sorcery.Condition{{Field: field, Op: op, Value: value}}
	}
	cases := []struct {
		name string
		q    sorcery.Query
		want []string
	}{
		{"all", sorcery.Query{}, []string{"a_b", "alice", "axb", "bob", "carol"}},
		{"equal", sorcery.Query{Conditions: cond("context", sorcery.OpEqual, "default")}, []string{"alice", "carol"}},
		{"equal none", sorcery.Query{Conditions: cond("context", sorcery.OpEqual, "nowhere")}, []string{}},
		{"not equal", sorcery.Query{Conditions: cond("context", sorcery.OpNotEqual, "lab")}, []string{"alice", "bob", "carol"}},
		{"less", sorcery.Query{Conditions: cond("max_contacts", sorcery.OpLess, "20")}, []string{"alice"}},
		{"less equal", sorcery.Query{Conditions: cond("max_contacts", sorcery.OpLessEqual, "20")}, []string{"alice", "bob"}},
		{"greater", sorcery.Query{Conditions: cond("max_contacts", sorcery.OpGreater, "25")}, []string{"a_b", "axb", "carol"}},
		{"greater equal", sorcery.Query{Conditions: cond("max_contacts", sorcery.OpGreaterEqual, "40")}, []string{"a_b", "axb"}},
		{"like", sorcery.Query{Conditions: cond("name", sorcery.OpLike, "_o%")}, []string{"bob"}},
		{"like prefix", sorcery.Query{Conditions: cond("name", sorcery.OpLike, "Al%")}, []string{"alice"}},
		{"like escaped", sorcery.Query{Conditions: cond("id", sorcery.OpLike, `a\_%`)}, []string{"a_b"}},
		{"like special value", sorcery.Query{Conditions: cond("name", sorcery.OpLike, `%100\%%`)}, []string{"carol"}},
		{"regex", sorcery.Query{Conditions: cond("name", sorcery.OpRegex, "^(Bob|Axe)$")}, []string{"axb", "bob"}},
		{"id equal", sorcery.Query{Conditions: cond("id", sorcery.OpEqual, "bob")}, []string{"bob"}},
		{"two conditions", sorcery.Query{Conditions: []sorcery.Condition{
			{Field: "context", Op: sorcery.OpEqual, Value: "lab"},
			{Field: "max_contacts", Op: sorcery.OpGreater, Value: "45"},
		}}, []string{"axb"}},
		{"id regex", sorcery.Query{IDRegex: "^a"}, []string{"a_b", "alice", "axb"}},
		{"id regex suffix", sorcery.Query{IDRegex: "b$"}, []string{"a_b", "axb", "bob"}},
		{"id regex none", sorcery.Query{IDRegex: "^z"}, []string{}},
		{"id prefix", sorcery.Query{IDPrefix: "a"}, []string{"a_b", "alice", "axb"}},
		{"id prefix with wildcard characters", sorcery.Query{IDPrefix: "a_"}, []string{"a_b"}},
		{"id prefix whole id", sorcery.Query{IDPrefix: "bob"}, []string{"bob"}},
		{"id prefix and condition", sorcery.Query{IDPrefix: "a", Conditions: cond("context", sorcery.OpEqual, "default")}, []string{"alice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Search(t.Context(), tc.q)
			require.NoError(t, err, "Search(%+v)", tc.q)
			assert.Equal(t, tc.want, ids(got), "Search(%+v)", tc.q)
		})
	}
	t.Run("records complete", func(t *testing.T) {
		got, err := s.Search(t.Context(), sorcery.Query{})
		require.NoError(t, err)
		byID := map[string]sorcery.Record{}
		for _, r := range got {
			byID[r.ID] = r
		}
		for _, want := range Seed() {
			AssertRecord(t, want, byID[want.ID])
		}
	})
	t.Run("bad regex", func(t *testing.T) {
		_, err := s.Search(t.Context(), sorcery.Query{IDRegex: "("})
		assert.ErrorIs(t, err, errors.ErrInvalid, "Search with IDRegex %q", "(")
	})
}

func testWrite(t *testing.T, h Harness) {
	w := h(t, Seed())
	wr, ok := sorcery.Capability[sorcery.Writer](w)
	if !ok {
		t.Skip("not a sorcery.Writer")
	}
	ctx := t.Context()
	dave := sorcery.Record{ID: "dave", Fields: sorcery.Fields{
		{Name: "name", Value: "Dave; the ^second^"}, {Name: "context", Value: "default"},
		{Name: "max_contacts", Value: "10"}, {Name: "allow", Value: "g729"}, {Name: "allow", Value: "ilbc"},
	}}
	err := wr.Create(ctx, dave)
	if errors.Is(err, errors.ErrReadOnly) {
		t.Skip("read-only wizard")
	}
	require.NoError(t, err, "Create(dave)")
	got, found, err := w.Retrieve(ctx, "dave")
	require.NoError(t, err)
	require.True(t, found, "dave after Create")
	AssertRecord(t, dave, got)

	assert.ErrorIs(t, wr.Create(ctx, dave), errors.ErrExists, "Create of an existing id")
	assert.ErrorIs(t, wr.Create(ctx, Seed()[0]), errors.ErrExists, "Create of a seeded id")

	dave2 := sorcery.Record{ID: "dave", Fields: sorcery.Fields{
		{Name: "name", Value: "David"}, {Name: "context", Value: "internal"},
		{Name: "max_contacts", Value: "30"}, {Name: "allow", Value: "opus"},
	}}
	require.NoError(t, wr.Update(ctx, dave2), "Update(dave)")
	got, found, err = w.Retrieve(ctx, "dave")
	require.NoError(t, err)
	require.True(t, found)
	AssertRecord(t, dave2, got)

	ghost := sorcery.Record{ID: "ghost", Fields: sorcery.Fields{{Name: "name", Value: "Ghost"}}}
	assert.ErrorIs(t, wr.Update(ctx, ghost), errors.ErrNotFound, "Update of a missing id")
	_, found, err = w.Retrieve(ctx, "ghost")
	require.NoError(t, err)
	assert.False(t, found, "Update of a missing id must not create it")

	if s, ok := sorcery.Capability[sorcery.Searcher](w); ok {
		rs, err := s.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpEqual, Value: "internal"}}})
		require.NoError(t, err)
		assert.Equal(t, []string{"bob", "dave"}, ids(rs), "Search after Update")
	}

	require.NoError(t, wr.Delete(ctx, "dave"), "Delete(dave)")
	_, found, err = w.Retrieve(ctx, "dave")
	require.NoError(t, err)
	assert.False(t, found, "dave after Delete")
	assert.ErrorIs(t, wr.Delete(ctx, "dave"), errors.ErrNotFound, "Delete of a deleted id")
	assert.ErrorIs(t, wr.Delete(ctx, "ghost"), errors.ErrNotFound, "Delete of a missing id")

	// The seeded records are untouched.
	for _, want := range Seed() {
		got, found, err := w.Retrieve(ctx, want.ID)
		require.NoError(t, err)
		require.True(t, found, "%q after writes to dave", want.ID)
		AssertRecord(t, want, got)
	}
}

func testCancelled(t *testing.T, h Harness) {
	w := h(t, Seed())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(op string, err error, start time.Time) {
		t.Helper()
		assert.ErrorIs(t, err, context.Canceled, "%s with a cancelled ctx", op)
		assert.Less(t, time.Since(start), 2*time.Second, "%s with a cancelled ctx must return promptly", op)
	}
	start := time.Now()
	_, found, err := w.Retrieve(ctx, "alice")
	assert.False(t, found, "Retrieve with a cancelled ctx reported found")
	check("Retrieve", err, start)
	if now, ok := w.(sorcery.ImmediateRetriever); ok && now.AnswersFor(w) {
		start = time.Now()
		if _, found, err, answered := now.RetrieveNow(ctx, "alice"); answered {
			assert.False(t, found, "RetrieveNow with a cancelled ctx reported found")
			check("RetrieveNow", err, start)
		}
	}
	if s, ok := sorcery.Capability[sorcery.Searcher](w); ok {
		start = time.Now()
		_, err := s.Search(ctx, sorcery.Query{})
		check("Search", err, start)
	}
	if wr, ok := sorcery.Capability[sorcery.Writer](w); ok {
		start = time.Now()
		err := wr.Create(ctx, sorcery.Record{ID: "zed", Fields: sorcery.Fields{{Name: "name", Value: "Zed"}}})
		if !errors.Is(err, errors.ErrReadOnly) {
			check("Create", err, start)
			start = time.Now()
			check("Update", wr.Update(ctx, Seed()[1]), start)
			start = time.Now()
			check("Delete", wr.Delete(ctx, "bob"), start)
			// Nothing was written.
			_, found, err := w.Retrieve(t.Context(), "zed")
			require.NoError(t, err)
			assert.False(t, found, "Create with a cancelled ctx stored the record")
			_, found, err = w.Retrieve(t.Context(), "bob")
			require.NoError(t, err)
			assert.True(t, found, "Delete with a cancelled ctx removed the record")
		}
	}
}

func testConcurrent(t *testing.T, h Harness) {
	w := h(t, Seed())
	ctx := t.Context()
	s, canSearch := sorcery.Capability[sorcery.Searcher](w)
	wr, canWrite := sorcery.Capability[sorcery.Writer](w)
	if canWrite {
		if err := wr.Create(ctx, sorcery.Record{ID: "probe", Fields: sorcery.Fields{{Name: "name", Value: "Probe"}}}); errors.Is(err, errors.ErrReadOnly) {
			canWrite = false
		} else {
			require.NoError(t, err)
		}
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range rounds {
				want := Seed()[(g+i)%5]
				got, found, err := w.Retrieve(ctx, want.ID)
				if err != nil || !found || got.ID != want.ID {
					t.Errorf("Retrieve(%q) = %v, %v, %v", want.ID, got.ID, found, err)
				}
				if canSearch {
					rs, err := s.Search(ctx, sorcery.Query{IDPrefix: "a"})
					if err != nil {
						t.Errorf("Search: %v", err)
					} else if got := ids(rs); !slices.Equal(got, []string{"a_b", "alice", "axb"}) {
						t.Errorf("Search(IDPrefix a) = %v", got)
					}
				}
				if canWrite {
					id := fmt.Sprintf("w%d_%d", g, i)
					r := sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "name", Value: id}}}
					if err := wr.Create(ctx, r); err != nil {
						t.Errorf("Create(%q): %v", id, err)
						continue
					}
					if err := wr.Update(ctx, r); err != nil {
						t.Errorf("Update(%q): %v", id, err)
					}
					if err := wr.Delete(ctx, id); err != nil {
						t.Errorf("Delete(%q): %v", id, err)
					}
				}
			}
		})
	}
	wg.Wait()
}

func testClose(t *testing.T, h Harness) {
	w := h(t, Seed())
	c, ok := sorcery.Capability[io.Closer](w)
	if !ok {
		t.Skip("not an io.Closer")
	}
	require.NoError(t, c.Close(), "first Close")
	assert.NotPanics(t, func() {
		err := c.Close()
		if err != nil {
			assert.ErrorIs(t, err, errors.ErrClosed, "second Close")
		}
	}, "second Close")
	_, found, err := w.Retrieve(t.Context(), "alice")
	assert.False(t, found, "Retrieve after Close reported found")
	assert.ErrorIs(t, err, errors.ErrClosed, "Retrieve after Close")
	if now, ok := w.(sorcery.ImmediateRetriever); ok && now.AnswersFor(w) {
		if _, found, err, answered := now.RetrieveNow(t.Context(), "alice"); answered {
			assert.False(t, found, "RetrieveNow after Close reported found")
			assert.ErrorIs(t, err, errors.ErrClosed, "RetrieveNow after Close")
		}
	}
	if s, ok := sorcery.Capability[sorcery.Searcher](w); ok {
		_, err := s.Search(t.Context(), sorcery.Query{})
		assert.ErrorIs(t, err, errors.ErrClosed, "Search after Close")
	}
	if wr, ok := sorcery.Capability[sorcery.Writer](w); ok {
		err := wr.Create(t.Context(), sorcery.Record{ID: "zed"})
		if !errors.Is(err, errors.ErrReadOnly) {
			assert.ErrorIs(t, err, errors.ErrClosed, "Create after Close")
		}
	}
}
