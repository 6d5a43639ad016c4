package config_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
)

func TestNewContextIsBoundedByItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pjsip.conf")
	require.NoError(t, os.WriteFile(path, []byte("[alice]\ntype=endpoint\n"), 0o600))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := config.NewContext(ctx, path, nil)
	assert.ErrorIs(t, err, context.Canceled)

	w, err := config.NewContext(t.Context(), path, nil)
	require.NoError(t, err)
	_, found, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.True(t, found)
}
