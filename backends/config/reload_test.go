package config_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// reloadFixture is a pjsip.conf including endpoints.conf, both settled in the past so that
// change detection trusts their size and time.
type reloadFixture struct {
	dir, main, inc string
	w              *config.Wizard
}

func newReloadFixture(t *testing.T) *reloadFixture {
	t.Helper()
	dir := t.TempDir()
	f := &reloadFixture{dir: dir, main: filepath.Join(dir, "pjsip.conf"), inc: filepath.Join(dir, "endpoints.conf")}
	writeFile(t, f.main, "[alice]\ntype=endpoint\ncontext=default\n#include endpoints.conf\n")
	writeFile(t, f.inc, "[bob]\ntype=endpoint\ncontext=default\n")
	f.settle(t)
	w, err := config.New("pjsip.conf", &config.Options{Dir: dir, Type: "endpoint", Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	f.w = w
	return f
}

func (f *reloadFixture) settle(t *testing.T) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{f.main, f.inc} {
		require.NoError(t, os.Chtimes(p, old, old))
	}
}

func TestReloadOfUnchangedFileDoesNotParse(t *testing.T) {
	f := newReloadFixture(t)
	require.Equal(t, uint64(1), f.w.Stats().Parses, "New parses once")
	for range 3 {
		require.NoError(t, f.w.Reload(t.Context()))
	}
	st := f.w.Stats()
	assert.Equal(t, uint64(1), st.Parses, "no reload parsed")
	assert.Equal(t, uint64(3), st.Unchanged)
	assert.Equal(t, 2, st.Objects)
	assert.Equal(t, 2, st.Files)
}

func TestReloadOfTouchedFileDoesNotParse(t *testing.T) {
	f := newReloadFixture(t)
	now := time.Now()
	require.NoError(t, os.Chtimes(f.main, now, now))
	require.NoError(t, f.w.Reload(t.Context()))
	assert.Equal(t, uint64(1), f.w.Stats().Parses, "same contents, new time: nothing to parse")
}

func TestReloadOfChangedFileServesTheNewSet(t *testing.T) {
	f := newReloadFixture(t)
	writeFile(t, f.main, "[alice]\ntype=endpoint\ncontext=office\n[carol]\ntype=endpoint\n#include endpoints.conf\n")
	require.NoError(t, f.w.Reload(t.Context()))
	assert.Equal(t, []string{"alice", "carol", "bob"}, allIDs(t, f.w))
	alice, found, err := f.w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "office", alice.Fields.Value("context"))
	assert.Equal(t, uint64(2), f.w.Stats().Parses)
}

func TestReloadOfChangedIncludeServesTheNewSet(t *testing.T) {
	f := newReloadFixture(t)
	writeFile(t, f.inc, "[dave]\ntype=endpoint\n")
	require.NoError(t, f.w.Reload(t.Context()))
	assert.Equal(t, []string{"alice", "dave"}, allIDs(t, f.w))
	_, found, err := f.w.Retrieve(t.Context(), "bob")
	require.NoError(t, err)
	assert.False(t, found, "bob was removed from the include")
}

func TestReloadOfBrokenFileKeepsTheOldSet(t *testing.T) {
	cases := []struct {
		name     string
		file     string // main or inc
		data     string
		errFile  string
		line     int
		contains string
	}{
		{"syntax error", "main", "[alice]\ntype=endpoint\nbroken line\n", "pjsip.conf", 3, `not a name = value line (11 bytes, not quoted`},
		{"missing include", "main", "[alice]\ntype=endpoint\n#include gone.conf\n", "pjsip.conf", 3, "gone.conf"},
		{"error in the include", "inc", "[bob](nosuch)\n", "endpoints.conf", 1, `inherits from "nosuch"`},
		{"duplicate id", "inc", "[alice]\ntype=endpoint\n", "endpoints.conf", 1, `endpoint "alice" is defined twice: first at`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newReloadFixture(t)
			path := f.main
			if tc.file == "inc" {
				path = f.inc
			}
			writeFile(t, path, tc.data)
			err := f.w.Reload(t.Context())
			require.Error(t, err)
			var pe *config.ParseError
			require.True(t, errors.As(err, &pe), "%v is a *config.ParseError", err)
			assert.Equal(t, tc.errFile, filepath.Base(pe.File))
			assert.Equal(t, tc.line, pe.Line)
			assert.ErrorContains(t, err, tc.contains)
			assert.ErrorIs(t, err, errors.ErrInvalid)

			assert.Equal(t, []string{"alice", "bob"}, allIDs(t, f.w), "the previous set is still served")
			st := f.w.Stats()
			assert.Equal(t, uint64(1), st.ReloadErrors)
			assert.Equal(t, 2, st.Objects)

			// Fixing the file brings the new contents in.
			writeFile(t, f.main, "[alice]\ntype=endpoint\n[erin]\ntype=endpoint\n")
			require.NoError(t, f.w.Reload(t.Context()))
			assert.Equal(t, []string{"alice", "erin"}, allIDs(t, f.w))
		})
	}
}

func TestReloadWithCancelledContext(t *testing.T) {
	f := newReloadFixture(t)
	writeFile(t, f.main, "[zed]\ntype=endpoint\n")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, f.w.Reload(ctx), context.Canceled)
	assert.Equal(t, []string{"alice", "bob"}, allIDs(t, f.w))
}

func TestReloadSwapsTheWholeSetAtOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pjsip.conf")
	generation := func(g int) string {
		var b strings.Builder
		for i := range 200 {
			fmt.Fprintf(&b, "[e%03d]\ntype=endpoint\ngeneration=%d\n", i, g)
		}
		return b.String()
	}
	writeFile(t, path, generation(0))
	w, err := config.New(path, &config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				rs, err := w.Search(t.Context(), sorcery.Query{})
				if err != nil {
					errs <- err
					return
				}
				if len(rs) != 200 {
					errs <- fmt.Errorf("search saw %d objects, want 200", len(rs))
					return
				}
				for _, r := range rs {
					if g := r.Fields.Value("generation"); g != rs[0].Fields.Value("generation") {
						errs <- fmt.Errorf("search mixed generations %s and %s", rs[0].Fields.Value("generation"), g)
						return
					}
				}
			}
		})
	}
	for g := 1; g <= 20; g++ {
		writeFile(t, path, generation(g))
		require.NoError(t, w.Reload(t.Context()))
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r, _, err := w.Retrieve(t.Context(), "e000")
	require.NoError(t, err)
	assert.Equal(t, "20", r.Fields.Value("generation"))
}
