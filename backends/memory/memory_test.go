package memory_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorcerytest"
)

func TestConformance(t *testing.T) {
	sorcerytest.Run(t, func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
		w := memory.New()
		w.Put(seed...)
		return w
	})
}

func TestSetErrorFailsEveryCallUntilCleared(t *testing.T) {
	w := memory.New()
	w.Put(sorcery.Record{ID: "alice"})
	ctx := t.Context()
	w.SetError(errors.ErrUnavailable)
	_, found, err := w.Retrieve(ctx, "alice")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	_, err = w.Search(ctx, sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorIs(t, w.Create(ctx, sorcery.Record{ID: "bob"}), errors.ErrUnavailable)
	assert.ErrorIs(t, w.Update(ctx, sorcery.Record{ID: "alice"}), errors.ErrUnavailable)
	assert.ErrorIs(t, w.Delete(ctx, "alice"), errors.ErrUnavailable)
	assert.ErrorIs(t, w.Reload(ctx), errors.ErrUnavailable)

	w.SetError(nil)
	_, found, err = w.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, memory.Calls{Retrieve: 2, Search: 1, Create: 1, Update: 1, Delete: 1, Reload: 1}, w.Calls())
	assert.EqualValues(t, 7, w.Calls().Total())
	w.ResetCalls()
	assert.Zero(t, w.Calls().Total())
}

func TestSetDelayHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := memory.New()
		w.Put(sorcery.Record{ID: "alice"})
		w.SetDelay(time.Second)

		start := time.Now()
		_, found, err := w.Retrieve(t.Context(), "alice")
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, time.Second, time.Since(start), "a delayed call waits the delay")

		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, _, err = w.Retrieve(ctx, "alice")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "a delayed call returns when ctx ends")
	})
}

func TestRecordsAreCopied(t *testing.T) {
	w := memory.New()
	r := sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "default"}}}
	require.NoError(t, w.Create(t.Context(), r))
	r.Fields[0].Value = "changed by caller"
	got, _, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "default", got.Fields.Value("context"), "the stored record must not alias the caller's")
	got.Fields[0].Value = "changed again"
	again, _, _ := w.Retrieve(t.Context(), "alice")
	assert.Equal(t, "default", again.Fields.Value("context"), "the returned record must not alias the stored one")
}

func TestRetrieveNowDeclinesWhileItWouldWait(t *testing.T) {
	w := memory.New()
	w.Put(sorcery.Record{ID: "alice"})
	ctx := t.Context()

	r, found, err, now := w.RetrieveNow(ctx, "alice")
	require.True(t, now)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "alice", r.ID)
	_, found, err, now = w.RetrieveNow(ctx, "bob")
	assert.True(t, now)
	assert.NoError(t, err)
	assert.False(t, found)
	assert.EqualValues(t, 2, w.Calls().Retrieve, "each answer counts as a retrieval")

	w.SetDelay(time.Hour)
	_, _, _, now = w.RetrieveNow(ctx, "alice")
	assert.False(t, now, "a delay makes every call wait")
	assert.EqualValues(t, 2, w.Calls().Retrieve, "a declined call counts nothing")
	w.SetDelay(0)

	w.SetError(errors.ErrUnavailable)
	_, found, err, now = w.RetrieveNow(ctx, "alice")
	assert.True(t, now)
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable, "the injected fault")
	w.SetError(nil)
}

func TestAnswersForItselfOnly(t *testing.T) {
	w := memory.New()
	assert.True(t, w.AnswersFor(w))
	assert.False(t, w.AnswersFor(memory.New()), "another memory wizard")
	embedding := struct{ *memory.Wizard }{w}
	assert.False(t, w.AnswersFor(embedding), "a type that embeds it")
}
