package sorcerytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// batchSize is the number of creates of the large batches: more than a database takes in
// one multi-row statement, so that a batch spans several.
const batchSize = 1200

func create(r sorcery.Record) sorcery.Write {
	return sorcery.Write{Op: sorcery.OperationCreate, Record: r}
}
func update(r sorcery.Record) sorcery.Write {
	return sorcery.Write{Op: sorcery.OperationUpdate, Record: r}
}
func remove(id string) sorcery.Write {
	return sorcery.Write{Op: sorcery.OperationDelete, Record: sorcery.Record{ID: id}}
}

// many returns n records of ids prefix0 … prefix(n-1), every third without the allow field.
func many(prefix string, n int) []sorcery.Record {
	rs := make([]sorcery.Record, n)
	for i := range rs {
		id := fmt.Sprintf("%s%04d", prefix, i)
		rs[i] = sorcery.Record{ID: id, Fields: sorcery.Fields{
			{Name: "name", Value: "Number " + id}, {Name: "context", Value: "bulk"},
			{Name: "max_contacts", Value: fmt.Sprint(i%9 + 1)},
		}}
		if i%3 != 0 {
			rs[i].Fields = append(rs[i].Fields, sorcery.Field{Name: "allow", Value: "ulaw"}, sorcery.Field{Name: "allow", Value: "opus"})
		}
	}
	return rs
}

// assertSeedIntact checks that the seeded records are as seeded and that none of the ids is
// there.
func assertSeedIntact(t *testing.T, w sorcery.Wizard, absent ...string) {
	t.Helper()
	for _, want := range Seed() {
		got, found, err := w.Retrieve(t.Context(), want.ID)
		require.NoError(t, err)
		if assert.True(t, found, "%q after a failed batch", want.ID) {
			AssertRecord(t, want, got)
		}
	}
	for _, id := range absent {
		_, found, err := w.Retrieve(t.Context(), id)
		require.NoError(t, err)
		assert.False(t, found, "%q written by a failed batch", id)
	}
}

// assertWriteError checks that err wraps target and a *sorcery.WriteError for the write at
// index.
func assertWriteError(t *testing.T, err, target error, index int, msg string) {
	t.Helper()
	assert.ErrorIs(t, err, target, msg)
	var we *sorcery.WriteError
	if assert.ErrorAs(t, err, &we, msg) {
		assert.Equal(t, index, we.Index, "%s: index of the failed write (%v)", msg, err)
	}
}

func testBatch(t *testing.T, h Harness) {
	w := h(t, Seed())
	bw, ok := sorcery.Capability[sorcery.BatchWriter](w)
	if !ok {
		t.Skip("not a sorcery.BatchWriter")
	}
	ctx := t.Context()

	t.Run("applied in order", func(t *testing.T) {
		dave := sorcery.Record{ID: "dave", Fields: sorcery.Fields{
			{Name: "name", Value: "Dave; the ^second^"}, {Name: "allow", Value: "g729"}, {Name: "allow", Value: "ilbc"},
		}}
		erin := sorcery.Record{ID: "erin", Fields: sorcery.Fields{{Name: "name", Value: "Erin"}, {Name: "context", Value: "lab"}}}
		bob := sorcery.Record{ID: "bob", Fields: sorcery.Fields{{Name: "name", Value: "Robert"}, {Name: "context", Value: "internal"}}}
		temp := sorcery.Record{ID: "temp", Fields: sorcery.Fields{{Name: "name", Value: "Temporary"}}}
		require.NoError(t, bw.WriteBatch(ctx, nil), "empty batch")
		err := bw.WriteBatch(ctx, []sorcery.Write{
			create(dave), create(erin), update(bob), remove("carol"),
			create(temp), remove("temp"), create(temp), update(erin),
		})
		require.NoError(t, err)
		for _, want := range []sorcery.Record{dave, erin, bob, temp} {
			got, found, err := w.Retrieve(ctx, want.ID)
			require.NoError(t, err)
			if assert.True(t, found, "%q after the batch", want.ID) {
				AssertRecord(t, want, got)
			}
		}
		got, _, err := w.Retrieve(ctx, "bob")
		require.NoError(t, err)
		assert.Empty(t, got.Fields.Values("max_contacts"), "an update replaces the whole record")
		_, found, err := w.Retrieve(ctx, "carol")
		require.NoError(t, err)
		assert.False(t, found, "carol after a batch that deleted her")
		// Back to the seed for the subtests that follow.
		require.NoError(t, bw.WriteBatch(ctx, []sorcery.Write{
			remove("dave"), remove("erin"), remove("temp"), update(Seed()[1]), create(Seed()[2]),
		}))
		assertSeedIntact(t, w, "dave", "erin", "temp")
	})

	t.Run("all or nothing", func(t *testing.T) {
		frank := sorcery.Record{ID: "frank", Fields: sorcery.Fields{{Name: "name", Value: "Frank"}}}
		alice := sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "name", Value: "Changed"}}}
		cases := []struct {
			name   string
			writes []sorcery.Write
			target error
			index  int
		}{
			{"create of a taken id", []sorcery.Write{create(frank), update(alice), create(Seed()[1])}, errors.ErrExists, 2},
			{"update of a missing id", []sorcery.Write{create(frank), update(sorcery.Record{ID: "ghost", Fields: sorcery.Fields{{Name: "name", Value: "G"}}})}, errors.ErrNotFound, 1},
			{"delete of a missing id", []sorcery.Write{remove("alice"), create(frank), remove("ghost")}, errors.ErrNotFound, 2},
			{"create twice", []sorcery.Write{create(frank), create(frank)}, errors.ErrExists, 1},
			{"update after delete", []sorcery.Write{remove("alice"), update(alice)}, errors.ErrNotFound, 1},
			{"unknown operation", []sorcery.Write{create(frank), {Op: sorcery.OperationSearch, Record: alice}}, errors.ErrInvalid, 1},
			{"empty id", []sorcery.Write{create(frank), create(sorcery.Record{})}, errors.ErrInvalid, 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := bw.WriteBatch(ctx, tc.writes)
				assertWriteError(t, err, tc.target, tc.index, tc.name)
				assertSeedIntact(t, w, "frank")
			})
		}
	})

	t.Run("large", func(t *testing.T) {
		rs := many("bulk", batchSize)
		writes := make([]sorcery.Write, 0, len(rs)+1)
		for _, r := range rs {
			writes = append(writes, create(r))
		}
		// A taken id at the end: nothing of the batch may stay.
		err := bw.WriteBatch(ctx, append(writes, create(Seed()[0])))
		assertWriteError(t, err, errors.ErrExists, len(rs), "large batch ending with a taken id")
		assertSeedIntact(t, w, rs[0].ID, rs[len(rs)/2].ID, rs[len(rs)-1].ID)

		require.NoError(t, bw.WriteBatch(ctx, writes), "large batch")
		for _, i := range []int{0, 1, 2, len(rs) / 2, len(rs) - 1} {
			got, found, err := w.Retrieve(ctx, rs[i].ID)
			require.NoError(t, err)
			if assert.True(t, found, "%q after a large batch", rs[i].ID) {
				AssertRecord(t, rs[i], got)
			}
		}
		if s, ok := sorcery.Capability[sorcery.Searcher](w); ok {
			got, err := s.Search(ctx, sorcery.Query{IDPrefix: "bulk"})
			require.NoError(t, err)
			assert.Len(t, got, len(rs), "objects after a large batch")
		}
		deletes := make([]sorcery.Write, 0, len(rs))
		for _, r := range rs {
			deletes = append(deletes, remove(r.ID))
		}
		require.NoError(t, bw.WriteBatch(ctx, deletes), "large batch of deletes")
		assertSeedIntact(t, w, rs[0].ID, rs[len(rs)-1].ID)
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		start := time.Now()
		err := bw.WriteBatch(cctx, []sorcery.Write{create(sorcery.Record{ID: "zed", Fields: sorcery.Fields{{Name: "name", Value: "Zed"}}})})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 2*time.Second, "WriteBatch with a cancelled ctx must return promptly")
		assertSeedIntact(t, w, "zed")
	})
}
