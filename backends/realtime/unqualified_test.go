package realtime_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/backends/realtime"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Each value of res_sorcery_realtime.c's allow_unqualified_fetch, given in the mapping's
// data as Asterisk reads it, decides what a search for every object does; a qualified
// search is never affected.
func TestAllowUnqualifiedFetch(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extconfig.conf"), []byte("[settings]\nps_endpoints => mem,asterisk\n"), 0o600))
	bob := sorcery.Record{ID: "bob", Fields: sorcery.Fields{{Name: "context", Value: "lab"}}}
	cases := []struct {
		data    string
		want    []sorcery.Record
		asked   bool // the database is asked
		err     error
		warning bool
	}{
		{"ps_endpoints", []sorcery.Record{alice, bob}, true, nil, false},
		{"ps_endpoints,allow_unqualified_fetch=yes", []sorcery.Record{alice, bob}, true, nil, false},
		{"ps_endpoints,allow_unqualified_fetch=", []sorcery.Record{alice, bob}, true, nil, false},
		{"ps_endpoints,allow_unqualified_fetch=no", nil, false, nil, false},
		{"ps_endpoints,allow_unqualified_fetch=warn", []sorcery.Record{alice, bob}, true, nil, true},
		{"ps_endpoints,allow_unqualified_fetch=error", nil, false, errors.ErrUnsupported, false},
		{"ps_endpoints,ALLOW_UNQUALIFIED_FETCH=No", nil, false, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.data, func(t *testing.T) {
			db := memory.New()
			db.Put(alice, bob)
			var logs bytes.Buffer
			factory := realtime.Factory(&realtime.Options{
				Dir:     dir,
				Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
				Drivers: map[string]realtime.Driver{"mem": func(realtime.Mapping) (sorcery.Wizard, error) { return db, nil }},
			})
			w, err := factory("endpoint", tc.data)
			require.NoError(t, err, "data %q", tc.data)
			rw := w.(*realtime.Wizard)
			assert.Equal(t, "ps_endpoints", rw.Family(), "the family ends at the first comma")

			got, err := rw.Search(t.Context(), sorcery.Query{})
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
			} else {
				assert.NoError(t, err)
			}
			assert.ElementsMatch(t, tc.want, got)
			assert.Equal(t, tc.asked, db.Calls().Search > 0, "database asked")
			assert.Equal(t, tc.warning, bytes.Contains(logs.Bytes(), []byte("unqualified fetch requested")), "warning: %s", logs.String())

			got, err = rw.Search(t.Context(), sorcery.Query{IDPrefix: "b"})
			require.NoError(t, err, "a qualified search is never refused")
			assert.Equal(t, []sorcery.Record{bob}, got)
		})
	}
}

func TestAllowUnqualifiedFetchRefusesOtherValuesAndOptions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extconfig.conf"), []byte("[settings]\nps_endpoints => mem,asterisk\n"), 0o600))
	factory := realtime.Factory(&realtime.Options{
		Dir:     dir,
		Drivers: map[string]realtime.Driver{"mem": func(realtime.Mapping) (sorcery.Wizard, error) { return memory.New(), nil }},
	})
	for _, data := range []string{
		"ps_endpoints,allow_unqualified_fetch=maybe",
		"ps_endpoints,cache=yes",
	} {
		_, err := factory("endpoint", data)
		assert.ErrorIs(t, err, errors.ErrInvalid, "data %q", data)
	}
}
