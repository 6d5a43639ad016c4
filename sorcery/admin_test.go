package sorcery_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

type adminAuth struct {
	ID       string `sorcery:"id"`
	Username string `sorcery:"username"`
	Password string `sorcery:"password"`
}

func TestChainListsLayersInOrderAndPeekRecordEncodes(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	defer s.Close()
	typ, err := sorcery.Register[adminAuth](s, "auth", nil)
	require.NoError(t, err)
	local, remote := memory.New(), memory.New()
	require.NoError(t, typ.AddWizard("local", local, nil))
	require.NoError(t, typ.AddCache(nil))
	require.NoError(t, typ.AddWizard("remote", remote, nil))
	remote.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "username", Value: "alice"}, {Name: "password", Value: "pw"}}})

	chain, err := s.Chain("auth")
	require.NoError(t, err)
	require.Len(t, chain, 3)
	assert.Equal(t, []string{"local", "cache", "remote"}, []string{chain[0].Name, chain[1].Name, chain[2].Name})
	assert.Nil(t, chain[0].Cache)
	require.NotNil(t, chain[1].Cache)
	assert.Nil(t, chain[2].Cache)

	_, found, err := s.PeekRecord("auth", "alice")
	require.NoError(t, err)
	assert.False(t, found, "not cached yet: PeekRecord does not load")
	_, _, err = typ.Retrieve(context.Background(), "alice")
	require.NoError(t, err)
	rec, found, err := s.PeekRecord("auth", "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "alice", rec.ID)
	v, _ := rec.Fields.Get("username")
	assert.Equal(t, "alice", v)
	info, ok := chain[1].Cache.Inspect("alice")
	require.True(t, ok)
	assert.Equal(t, "fresh", info.State.String())

	_, err = s.Chain("nope")
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, _, err = s.PeekRecord("nope", "alice")
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestWizardStatsKeepTheLastErrorClassNotItsText(t *testing.T) {
	s := sorcery.New(&sorcery.Options{Logger: quiet()})
	defer s.Close()
	typ, err := sorcery.Register[adminAuth](s, "auth", nil)
	require.NoError(t, err)
	src := memory.New()
	require.NoError(t, typ.AddWizard("remote", src, nil))
	ctx := context.Background()
	wizard := func() sorcery.WizardStats {
		st := s.Stats()
		require.Len(t, st.Types, 1)
		require.Len(t, st.Types[0].Wizards, 1)
		return st.Types[0].Wizards[0]
	}

	typ.Retrieve(ctx, "alice")
	w := wizard()
	assert.Empty(t, w.LastErrorClass)
	assert.False(t, w.LastOK.IsZero())
	assert.False(t, w.Failing())

	for _, tc := range []struct {
		err   error
		class string
	}{
		{fmt.Errorf("dial 127.0.0.1:1 password=hunter2: %w", errors.ErrUnavailable), "unavailable"},
		{fmt.Errorf("slow: %w", context.DeadlineExceeded), "timeout"},
		{fmt.Errorf("field x=secret: %w", errors.ErrInvalid), "invalid"},
		{fmt.Errorf("something else"), "other"},
	} {
		src.SetError(tc.err)
		typ.Retrieve(ctx, "alice")
		w = wizard()
		assert.Equal(t, tc.class, w.LastErrorClass, "%v", tc.err)
		assert.Equal(t, sorcery.OperationRetrieve, w.LastErrorOp)
		assert.True(t, w.Failing(), "%v", tc.err)
	}
	src.SetError(nil)
	typ.Retrieve(ctx, "alice")
	w = wizard()
	assert.False(t, w.Failing(), "a success after the failure")
	assert.Equal(t, "other", w.LastErrorClass, "the last failure is still reported")
}
