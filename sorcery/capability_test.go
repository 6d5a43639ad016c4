package sorcery_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// logging is a user's middleware wizard: it implements Retrieve and Unwrap only.
type logging struct {
	next      sorcery.Wizard
	retrieves *atomic.Int64
}

func (l logging) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	l.retrieves.Add(1)
	return l.next.Retrieve(ctx, id)
}

func (l logging) Unwrap() sorcery.Wizard { return l.next }

// loop is a wrapper that unwraps to itself.
type loop struct{ sorcery.Wizard }

func (l *loop) Unwrap() sorcery.Wizard { return l }

func TestMiddlewareWizardDoesNotHideCapabilities(t *testing.T) {
	inner := memory.New()
	var n atomic.Int64
	// Two levels of middleware.
	w := logging{next: logging{next: inner, retrieves: &n}, retrieves: &n}
	s, typ := chain(t)
	require.NoError(t, typ.AddWizard("logged", w, nil))
	ctx := t.Context()

	require.NoError(t, typ.Create(ctx, Endpoint{ID: "alice", Context: "c1"}), "Writer found through Unwrap")
	assert.Equal(t, 1, inner.Len())
	got, err := typ.Search(ctx, sorcery.Query{})
	require.NoError(t, err, "Searcher found through Unwrap")
	require.Len(t, got, 1)
	ep, found, err := typ.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "c1", ep.Context)
	assert.EqualValues(t, 2, n.Load(), "Retrieve goes through both wrappers")

	require.NoError(t, s.Reload(ctx))
	assert.EqualValues(t, 1, inner.Calls().Reload, "Reloader found through Unwrap")
	require.NoError(t, s.Close())
	_, _, err = inner.Retrieve(context.Background(), "alice")
	assert.ErrorIs(t, err, errors.ErrClosed, "io.Closer found through Unwrap: the wrapped wizard is closed")
}

func TestCapabilityLooksAtTheWrapperFirst(t *testing.T) {
	inner := memory.New()
	var n atomic.Int64
	w := logging{next: inner, retrieves: &n}
	wr, ok := sorcery.Capability[sorcery.Writer](w)
	require.True(t, ok)
	assert.Same(t, inner, wr.(*memory.Wizard))
	c, ok := sorcery.Capability[io.Closer](w)
	require.True(t, ok)
	assert.Same(t, inner, c.(*memory.Wizard))

	// The wrapper's own implementation wins over the wrapped one's.
	s, ok := sorcery.Capability[sorcery.Searcher](inner)
	require.True(t, ok)
	assert.Same(t, inner, s.(*memory.Wizard))

	_, ok = sorcery.Capability[sorcery.Searcher](retrieveOnly{inner})
	assert.False(t, ok, "a wrapper without Unwrap hides what it does not implement")
	_, ok = sorcery.Capability[sorcery.Searcher](logging{next: nil, retrieves: &n})
	assert.False(t, ok, "an Unwrap returning nil ends the chain")
	_, ok = sorcery.Capability[sorcery.Searcher](&loop{retrieveOnly{inner}})
	assert.False(t, ok, "a wrapper that unwraps to itself ends the search")
	_, ok = sorcery.Capability[sorcery.Searcher](nil)
	assert.False(t, ok)
}
