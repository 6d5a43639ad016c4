//go:build unix

package snapshot_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/cachetest"
)

func TestSnapshotPathThatIsNotARegularFileIsRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.snap")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	directory := filepath.Join(dir, "dir.snap")
	require.NoError(t, os.Mkdir(directory, 0o700))
	sock := filepath.Join(dir, "sock.snap")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	for _, tc := range []struct{ name, path, says string }{
		{"named pipe", fifo, "is not a regular file (a named pipe)"},
		{"directory", directory, "is not a regular file (a directory)"},
		{"socket", sock, "is not a regular file (a socket)"},
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

// newWithin makes a cache with a snapshot at path, restores it, and closes both, failing
// the test if that does not return within d.
func newWithin(t *testing.T, d time.Duration, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := cache.New(cachetest.NewSource(nil).Load, &cache.Options{Name: "endpoint"})
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		s, err := snapshot.New(c, path, nil)
		if err == nil {
			if _, err = s.Restore(context.Background()); err == nil {
				err = s.Close()
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("a snapshot at %s did not open within %v", path, d)
		return nil
	}
}

func TestSnapshotPathThatBecomesANamedPipeDoesNotBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "endpoint.snap")
		c, s := open(t, cachetest.NewSource(map[string]string{"alice": "a1"}), path, cache.Options{}, nil)
		get(t, c, "alice")
		require.NoError(t, syscall.Mkfifo(path, 0o600)) // put there after New checked the path

		// A restore opens without blocking and reads only a regular file.
		n, err := s.Restore(context.Background())
		assert.Equal(t, 0, n)
		assert.ErrorContains(t, err, "is not a regular file (a named pipe)")

		// A write renames a new regular file over the path: it never opens the pipe.
		require.NoError(t, s.Write(context.Background()))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular())
	})
}
