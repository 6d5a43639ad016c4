package sorcery_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// writerOnly is a memory wizard without its BatchWriter: what WriteBatch falls back to.
type writerOnly struct{ w *memory.Wizard }

func (o writerOnly) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	return o.w.Retrieve(ctx, id)
}
func (o writerOnly) Create(ctx context.Context, r sorcery.Record) error { return o.w.Create(ctx, r) }
func (o writerOnly) Update(ctx context.Context, r sorcery.Record) error { return o.w.Update(ctx, r) }
func (o writerOnly) Delete(ctx context.Context, id string) error        { return o.w.Delete(ctx, id) }

// recorder collects what observers are told, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) observer() sorcery.Observer[Endpoint] {
	add := func(kind string) func(Endpoint) {
		return func(e Endpoint) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, kind+" "+e.ID)
		}
	}
	return sorcery.Observer[Endpoint]{Created: add("created"), Updated: add("updated"), Deleted: add("deleted")}
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func TestWriteBatchUpdatesCachesAndObserversAfterTheWizards(t *testing.T) {
	w := memory.New()
	w.Put(rec("old", "context", "a"), rec("gone", "context", "b"))
	_, typ := chain(t, w)
	require.NoError(t, typ.AddCache(nil))
	// Cache "gone" so that its deletion reaches observers as it was.
	_, found, err := typ.Retrieve(t.Context(), "gone")
	require.NoError(t, err)
	require.True(t, found)
	var rc recorder
	typ.Observe(rc.observer())

	var b sorcery.Batch[Endpoint]
	b.Create(Endpoint{ID: "new", Context: "internal"})
	b.Update(Endpoint{ID: "old", Context: "changed"})
	b.Delete("gone")
	require.Equal(t, 3, b.Len())
	w.ResetCalls()
	require.NoError(t, typ.WriteBatch(t.Context(), &b))
	b.Reset() // the type keeps nothing of b
	typ.Flush()

	assert.Equal(t, []string{"created new", "updated old", "deleted gone"}, rc.get(), "observers, in batch order")
	assert.Equal(t, 2, w.Len(), "objects in the wizard")
	c := typ.Cache()
	got, ok := c.Peek("new")
	assert.True(t, ok, "a created object is cached")
	assert.Equal(t, "internal", got.Context)
	got, ok = c.Peek("old")
	assert.True(t, ok, "an updated object is cached")
	assert.Equal(t, "changed", got.Context)
	_, ok = c.Peek("gone")
	assert.False(t, ok, "a deleted object leaves the cache")
	calls := w.Calls()
	assert.Equal(t, memory.Calls{Create: 1, Update: 1, Delete: 1}, calls, "one batch, counted per write")
	assert.Zero(t, calls.Retrieve, "writing a batch reads nothing")
}

func TestWriteBatchIsAllOrNothingOnABatchWriter(t *testing.T) {
	w := memory.New()
	w.Put(rec("taken", "context", "a"))
	_, typ := chain(t, w)
	require.NoError(t, typ.AddCache(nil))
	var rc recorder
	typ.Observe(rc.observer())

	var b sorcery.Batch[Endpoint]
	b.Create(Endpoint{ID: "new"})
	b.Update(Endpoint{ID: "taken", Context: "changed"})
	b.Create(Endpoint{ID: "taken"})
	err := typ.WriteBatch(t.Context(), &b)
	require.ErrorIs(t, err, errors.ErrExists)
	var we *sorcery.WriteError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 2, we.Index, "the write at fault")
	assert.Equal(t, "taken", we.ID)
	var wiz *errors.WizardError
	require.ErrorAs(t, err, &wiz)
	assert.Equal(t, "w1", wiz.Wizard)

	typ.Flush()
	assert.Empty(t, rc.get(), "observers of a failed batch")
	assert.Equal(t, 1, w.Len())
	r, _, err := w.Retrieve(t.Context(), "taken")
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, r.Fields.Values("context"), "the update of a failed batch stays unwritten")
	_, ok := typ.Cache().Peek("new")
	assert.False(t, ok, "a failed batch caches nothing")
}

func TestWriteBatchReportsEveryInvalidObjectBeforeWriting(t *testing.T) {
	w := memory.New()
	_, typ := chain(t, w)
	var b sorcery.Batch[Endpoint]
	b.Create(Endpoint{ID: "a"})
	b.Create(Endpoint{})
	b.Update(Endpoint{ID: "b"})
	b.Delete("")
	w.ResetCalls()
	err := typ.WriteBatch(t.Context(), &b)
	require.ErrorIs(t, err, errors.ErrInvalid)
	var idx []int
	for _, e := range err.(interface{ Unwrap() error }).Unwrap().(interface{ Unwrap() []error }).Unwrap() {
		var we *sorcery.WriteError
		if errors.As(e, &we) {
			idx = append(idx, we.Index)
		}
	}
	assert.Equal(t, []int{1, 3}, idx, "every write at fault is named: %v", err)
	assert.Zero(t, w.Calls().Total(), "no wizard is called for a batch that does not encode")
}

func TestWriteBatchWithoutBatchWriterWritesOneAtATime(t *testing.T) {
	m := memory.New()
	m.Put(rec("taken"))
	s := sorcery.New(nil)
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddCache(nil))
	require.NoError(t, typ.AddWizard("plain", writerOnly{m}, nil))
	// "taken" is cached as it was; the failed batch writes "one" and must not leave the
	// cache serving a value the source no longer has without asking again.
	_, found, err := typ.Retrieve(t.Context(), "taken")
	require.NoError(t, err)
	require.True(t, found)

	var b sorcery.Batch[Endpoint]
	b.Update(Endpoint{ID: "taken", Context: "changed"})
	b.Create(Endpoint{ID: "one"})
	b.Create(Endpoint{ID: "taken"})
	b.Create(Endpoint{ID: "never"})
	err = typ.WriteBatch(t.Context(), &b)
	require.ErrorIs(t, err, errors.ErrExists)
	var we *sorcery.WriteError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 2, we.Index)
	assert.Equal(t, 2, m.Len(), "the writes before the failure stay written, none after")
	_, found, _ = m.Retrieve(t.Context(), "never")
	assert.False(t, found, "no write after the failure")
	// The cache serves the old "taken" at once and refreshes it from the source.
	var got Endpoint
	for range 200 {
		got, _, err = typ.Retrieve(t.Context(), "taken")
		require.NoError(t, err)
		if got.Context == "changed" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, "changed", got.Context, "an object written before the failure is refreshed in the cache")

	var ok sorcery.Batch[Endpoint]
	ok.Create(Endpoint{ID: "two"})
	ok.Delete("one")
	require.NoError(t, typ.WriteBatch(t.Context(), &ok))
	assert.Equal(t, 2, m.Len())
}

func TestWriteBatchToReadOnlyChainIsErrReadOnly(t *testing.T) {
	s := sorcery.New(nil)
	t.Cleanup(func() { s.Close() })
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddWizard("ro", memory.New(), &sorcery.MappingOptions{ReadOnly: true}))
	var b sorcery.Batch[Endpoint]
	require.NoError(t, typ.WriteBatch(t.Context(), &b), "an empty batch")
	b.Create(Endpoint{ID: "a"})
	assert.ErrorIs(t, typ.WriteBatch(t.Context(), &b), errors.ErrReadOnly)
}
