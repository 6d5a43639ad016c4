package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorcerytest"
)

// writeConfig writes records as categories with type=<typ> and their fields, one line per
// value, escaping semicolons.
func writeConfig(t *testing.T, path, typ string, records []sorcery.Record) {
	t.Helper()
	var b strings.Builder
	b.WriteString("; written by the conformance harness\n")
	for _, r := range records {
		b.WriteString("\n[" + r.ID + "]\ntype=" + typ + "\n")
		for _, f := range r.Fields {
			b.WriteString(f.Name + " = " + strings.ReplaceAll(f.Value, ";", `\;`) + "\n")
		}
	}
	writeFile(t, path, b.String())
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}

func TestConformance(t *testing.T) {
	sorcerytest.Run(t, func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
		path := filepath.Join(t.TempDir(), "pjsip.conf")
		// Objects of another type sharing the ids must not leak in.
		writeConfig(t, path, "endpoint", seed)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		for _, r := range seed {
			_, err = f.WriteString("\n[" + r.ID + "]\ntype=aor\nname=not the endpoint\n")
			require.NoError(t, err)
		}
		require.NoError(t, f.Close())

		w, err := config.New(path, &config.Options{Type: "endpoint", Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		return w
	})
}

func newWizard(t *testing.T, src string, opts *config.Options) (*config.Wizard, error) {
	t.Helper()
	var o config.Options
	if opts != nil {
		o = *opts
	}
	o.FS = fstest.MapFS{"pjsip.conf": {Data: []byte(src)}}
	return config.New("pjsip.conf", &o)
}

func allIDs(t *testing.T, w *config.Wizard) []string {
	t.Helper()
	rs, err := w.Search(t.Context(), sorcery.Query{})
	require.NoError(t, err)
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestWhichCategoriesAreObjects(t *testing.T) {
	endpoint := sorcery.Fields{{Name: "type", Value: "endpoint"}}
	cases := []struct {
		name string
		src  string
		opts config.Options
		want []string
	}{
		{"no criteria takes every category",
			"[a]\ntype=endpoint\n[b]\ntype=aor\n[c]\n", config.Options{}, []string{"a", "b", "c"}},
		{"criteria select by type",
			"[a]\ntype=endpoint\n[b]\ntype=aor\n[c]\n", config.Options{Criteria: endpoint}, []string{"a"}},
		{"templates are never objects",
			"[tpl](!)\ntype=endpoint\n[a](tpl)\n", config.Options{Criteria: endpoint}, []string{"a"}},
		{"inherited type counts",
			"[tpl](!)\ntype=endpoint\n[a](tpl)\n[b]\n", config.Options{Criteria: endpoint}, []string{"a"}},
		{"the first variable of the name decides",
			"[a]\ntype=aor\ntype=endpoint\n[b]\ntype=endpoint\ntype=aor\n", config.Options{Criteria: endpoint}, []string{"b"}},
		{"criteria names match without case",
			"[a]\nTYPE=endpoint\n", config.Options{Criteria: endpoint}, []string{"a"}},
		{"criteria values match exactly",
			"[a]\ntype=Endpoint\n[b]\ntype=endpoint \n[c]\ntype=endpoints\n", config.Options{Criteria: endpoint}, []string{"b"}},
		{"every criterion must hold",
			"[a]\ntype=endpoint\ncontext=lab\n[b]\ntype=endpoint\ncontext=office\n",
			config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}, {Name: "context", Value: "office"}}}, []string{"b"}},
		{"explicit name",
			"[global]\ntype=global\n[other]\ntype=global\n", config.Options{ExplicitName: "global"}, []string{"global"}},
		{"explicit name matches exactly, as strcmp does",
			"[Global]\ntype=global\n", config.Options{ExplicitName: "global"}, []string{}},
		{"explicit name alone selects a category without type=, as ari.conf's [general]",
			"[general]\nenabled=yes\npretty=no\n[alice]\ntype=user\n", config.Options{ExplicitName: "general"}, []string{"general"}},
		{"explicit name or criteria: pjsip's [global] without type= beside endpoints",
			"[global]\nmax_forwards=70\n[alice]\ntype=endpoint\n",
			config.Options{ExplicitName: "global", Criteria: sorcery.Fields{{Name: "type", Value: "global"}}}, []string{"global"}},
		{"explicit name or criteria: a second global by type= is selected too",
			"[global]\nmax_forwards=70\n[g2]\ntype=global\n",
			config.Options{ExplicitName: "global", Criteria: sorcery.Fields{{Name: "type", Value: "global"}}}, []string{"global", "g2"}},
		{"single object with one object",
			"[global]\ntype=global\n[a]\ntype=endpoint\n",
			config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "global"}}, SingleObject: true}, []string{"global"}},
		{"ids are case-sensitive",
			"[Alice]\ntype=endpoint\n[alice]\ntype=endpoint\n", config.Options{Criteria: endpoint}, []string{"Alice", "alice"}},
		{"an id may serve several types",
			"[alice]\ntype=endpoint\n[alice]\ntype=aor\n", config.Options{Criteria: endpoint}, []string{"alice"}},
		{"(+) additions are part of the object, not another one",
			"[alice]\ntype=endpoint\n[alice](+)\ncontext=x\n", config.Options{Criteria: endpoint}, []string{"alice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := newWizard(t, tc.src, &tc.opts)
			require.NoError(t, err, "config %q", tc.src)
			assert.Equal(t, tc.want, allIDs(t, w), "config %q", tc.src)
			assert.Equal(t, len(tc.want), w.Stats().Objects)
		})
	}
}

func TestRecordFieldsAreTheVariablesInOrder(t *testing.T) {
	src := "[tpl](!)\ntype=endpoint\nallow=ulaw\n[alice](tpl)\nallow=alaw\ncontext=default\nname=Alice \\; Co\n[alice](+)\nallow=g722\n"
	w, err := newWizard(t, src, &config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}})
	require.NoError(t, err)
	got, found, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	require.True(t, found)
	want := sorcery.Record{ID: "alice", Fields: sorcery.Fields{
		{Name: "type", Value: "endpoint"}, {Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"},
		{Name: "context", Value: "default"}, {Name: "name", Value: "Alice ; Co"}, {Name: "allow", Value: "g722"},
	}}
	assert.Equal(t, want, got)
}

func TestRetrievedRecordsAreCopies(t *testing.T) {
	w, err := newWizard(t, "[alice]\ncontext=default\n", nil)
	require.NoError(t, err)
	got, _, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	got.Fields[0].Value = "changed by the caller"
	again, _, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "default", again.Fields.Value("context"))

	rs, err := w.Search(t.Context(), sorcery.Query{})
	require.NoError(t, err)
	rs[0].Fields[0].Value = "changed again"
	again, _, err = w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "default", again.Fields.Value("context"))
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name     string
		src      string
		opts     config.Options
		line     int
		contains string
	}{
		{"duplicate id for one type",
			"[alice]\ntype=endpoint\n[alice]\ntype=aor\n\n[alice]\ntype=endpoint\n",
			config.Options{Type: "endpoint", Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}},
			6, `endpoint "alice" is defined twice: first at pjsip.conf:1`},
		{"duplicate id without criteria",
			"[a]\n[a]\n", config.Options{}, 2, `object "a" is defined twice: first at pjsip.conf:1`},
		{"single object with two",
			"[global]\ntype=global\n[global2]\ntype=global\n",
			config.Options{Type: "global", Criteria: sorcery.Fields{{Name: "type", Value: "global"}}, SingleObject: true},
			3, `single_object is set, but global "global2" is a second global after "global" at pjsip.conf:1`},
		{"syntax error", "[a]\nx\n", config.Options{}, 2, `not a name = value line (1 bytes`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newWizard(t, tc.src, &tc.opts)
			require.Error(t, err)
			var pe *config.ParseError
			require.True(t, errors.As(err, &pe), "%v is a *config.ParseError", err)
			assert.Equal(t, "pjsip.conf", pe.File)
			assert.Equal(t, tc.line, pe.Line)
			assert.ErrorContains(t, err, tc.contains)
			assert.ErrorIs(t, err, errors.ErrInvalid)
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := config.New("", nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = newWizard(t, "[a]\n", &config.Options{Criteria: sorcery.Fields{{Name: " ", Value: "x"}}})
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = config.New(filepath.Join(t.TempDir(), "missing.conf"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestNewResolvesAgainstDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pjsip.conf"), "[alice]\n")
	w, err := config.New("pjsip.conf", &config.Options{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "pjsip.conf"), w.Path())
	assert.Equal(t, []string{"alice"}, allIDs(t, w))

	w, err = config.New("pjsip.conf", &config.Options{Dir: "etc", FS: fstest.MapFS{"etc/pjsip.conf": {Data: []byte("[bob]\n")}}})
	require.NoError(t, err)
	assert.Equal(t, "etc/pjsip.conf", w.Path())
	assert.Equal(t, []string{"bob"}, allIDs(t, w))
}

func TestWizardIsReadOnly(t *testing.T) {
	w, err := newWizard(t, "[a]\n", nil)
	require.NoError(t, err)
	_, isWriter := any(w).(sorcery.Writer)
	assert.False(t, isWriter, "a config wizard is not a sorcery.Writer: the core treats it as read-only")
}

func TestClosedWizard(t *testing.T) {
	w, err := newWizard(t, "[a]\n", nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Close(), errors.ErrClosed)
	assert.ErrorIs(t, w.Reload(t.Context()), errors.ErrClosed)
	_, _, err = w.Retrieve(t.Context(), "a")
	assert.ErrorIs(t, err, errors.ErrClosed)
	_, err = w.Search(t.Context(), sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrClosed)
	assert.Zero(t, w.Stats().Objects, "Close releases the objects")
}

func TestSearchOfLargeSetHonoursCancellation(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		b.WriteString("[e" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i) + "]\n")
	}
	w, err := newWizard(t, b.String(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = w.Search(ctx, sorcery.Query{})
	assert.ErrorIs(t, err, context.Canceled)
	rs, err := w.Search(t.Context(), sorcery.Query{IDRegex: "^ea"})
	require.NoError(t, err)
	assert.NotEmpty(t, rs)
}

func TestRetrieveNowAlwaysAnswers(t *testing.T) {
	w, err := newWizard(t, "[alice]\ntype=endpoint\ncontext=default\n", nil)
	require.NoError(t, err)
	for _, id := range []string{"alice", "bob"} {
		want, wantFound, wantErr := w.Retrieve(t.Context(), id)
		got, found, err, now := w.RetrieveNow(t.Context(), id)
		require.True(t, now, "RetrieveNow(%q) answers at once", id)
		assert.Equal(t, wantFound, found, id)
		assert.Equal(t, wantErr, err, id)
		assert.Equal(t, want, got, id)
	}
}
