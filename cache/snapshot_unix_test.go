//go:build unix

package cache_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

func TestSnapshotPathThatIsNotARegularFileIsRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.snap")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	directory := filepath.Join(dir, "dir.snap")
	require.NoError(t, os.Mkdir(directory, 0o700))
	for _, tc := range []struct{ name, path, says string }{
		{"named pipe", fifo, "is not a regular file (a named pipe)"},
		{"directory", directory, "is not a regular file (a directory)"},
		{"missing directory", filepath.Join(dir, "missing", "x.snap"), "no directory"},
	} {
		err := newWithin(t, 5*time.Second, tc.path)
		require.ErrorIs(t, err, errors.ErrInvalid, tc.name)
		assert.ErrorContains(t, err, tc.path, tc.name)
		assert.ErrorContains(t, err, tc.says, tc.name)
		assert.ErrorContains(t, err, `cache "endpoint"`, tc.name)
	}
	// A missing file is a first start: the cache starts empty, at once.
	require.NoError(t, newWithin(t, 5*time.Second, filepath.Join(dir, "new.snap")))
}

// newWithin makes (and closes) a cache with a snapshot at path, failing the test if the
// constructor does not return within d.
func newWithin(t *testing.T, d time.Duration, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := cache.New(loadLen, &cache.Options{Name: "endpoint", Snapshot: &cache.SnapshotOptions{Path: path}})
		if err == nil {
			err = c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("cache.New with the snapshot at %s did not return within %v", path, d)
		return nil
	}
}

func TestSnapshotWriteOverANamedPipeDoesNotBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "endpoint.snap")
		c := newCache(t, newSource(map[string]string{"alice": "a1"}), withSnapshot(path, cache.Options{}))
		get(t, c, "alice")
		require.NoError(t, syscall.Mkfifo(path, 0o600)) // put there after the cache was made
		// A write renames a new regular file over the path: it never opens the pipe.
		require.NoError(t, c.Snapshot())
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular())
	})
}
