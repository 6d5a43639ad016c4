package config_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

const factoryConf = `
[global]
type=global
[other]
type=global
[alice]
type=endpoint
context=office
[bob]
type=endpoint
context=lab
[alice]
type=aor
`

func TestFactoryReadsAsteriskWizardData(t *testing.T) {
	cases := []struct {
		name string
		data string
		want []string
	}{
		{"explicit name alone", "pjsip.conf,explicit_name=bob", []string{"bob"}},
		{"criteria", "pjsip.conf,criteria=type=endpoint", []string{"alice", "bob"}},
		{"repeated criteria", "pjsip.conf,criteria=type=endpoint,criteria=context=lab", []string{"bob"}},
		{"spaces around parts", " pjsip.conf , criteria = type=aor ", []string{"alice"}},
		{"explicit name and single object", "pjsip.conf,single_object=yes,explicit_name=global", []string{"global"}},
		{"explicit name or criteria, either selects", "pjsip.conf,criteria=type=aor,explicit_name=global", []string{"global", "alice"}},
		{"single object no", "pjsip.conf,criteria=type=global,single_object=no", []string{"global", "other"}},
		{"option names without case", "pjsip.conf,CRITERIA=type=endpoint,Single_Object=off", []string{"alice", "bob"}},
		{"Asterisk's buckets and integrity are accepted", "pjsip.conf,criteria=type=endpoint,buckets=53,integrity=file", []string{"alice", "bob"}},
		{"trailing comma", "pjsip.conf,criteria=type=endpoint,", []string{"alice", "bob"}},
	}
	factory := config.Factory(&config.Options{Dir: "etc/asterisk", FS: fstest.MapFS{"etc/asterisk/pjsip.conf": {Data: []byte(factoryConf)}}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := factory("endpoint", tc.data)
			require.NoError(t, err, "data %q", tc.data)
			cw, ok := w.(*config.Wizard)
			require.True(t, ok, "the factory returns a *config.Wizard")
			assert.Equal(t, "etc/asterisk/pjsip.conf", cw.Path(), "relative to Options.Dir")
			assert.Equal(t, tc.want, allIDs(t, cw), "data %q", tc.data)
		})
	}
}

func TestFactoryRejectsBadData(t *testing.T) {
	cases := []struct {
		name, data, contains string
	}{
		{"empty", "", "no file name"},
		{"no file name", ",criteria=type=endpoint", "no file name"},
		{"criteria without value", "pjsip.conf,criteria=type", `criteria "type" is not criteria=name=value`},
		{"criteria without field", "pjsip.conf,criteria==endpoint", "is not criteria=name=value"},
		{"unknown option", "pjsip.conf,criterion=type=endpoint", `unknown option "criterion"`},
		{"bad single object", "pjsip.conf,single_object=maybe", "single_object: not a truth value"},
		{"empty explicit name", "pjsip.conf,explicit_name=", "explicit_name needs a category name"},
		{"bad buckets", "pjsip.conf,buckets=many", "not a positive number"},
		{"bad integrity", "pjsip.conf,integrity=strict", "neither file nor object"},
	}
	factory := config.Factory(&config.Options{FS: fstest.MapFS{"pjsip.conf": {Data: []byte(factoryConf)}}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := factory("endpoint", tc.data)
			assert.Nil(t, w, "no wizard on error, not a typed nil")
			assert.ErrorIs(t, err, errors.ErrInvalid)
			assert.ErrorContains(t, err, tc.contains)
			assert.ErrorContains(t, err, "sorcery: config wizard data")
		})
	}
}

func TestFactoryNamesTheTypeInErrors(t *testing.T) {
	factory := config.Factory(&config.Options{FS: fstest.MapFS{"pjsip.conf": {Data: []byte("[a]\ntype=aor\n[a]\ntype=aor\n")}}})
	_, err := factory("aor", "pjsip.conf,criteria=type=aor")
	assert.ErrorContains(t, err, `sorcery: pjsip.conf:3: aor "a" is defined twice: first at pjsip.conf:1`)
}

func TestFactoryDoesNotShareCriteriaBetweenMappings(t *testing.T) {
	base := &config.Options{
		Criteria: sorcery.Fields{{Name: "context", Value: "office"}},
		FS:       fstest.MapFS{"pjsip.conf": {Data: []byte(factoryConf)}},
	}
	factory := config.Factory(base)
	w1, err := factory("endpoint", "pjsip.conf,criteria=type=endpoint")
	require.NoError(t, err)
	w2, err := factory("aor", "pjsip.conf,criteria=type=aor")
	require.NoError(t, err)
	assert.Equal(t, []string{"alice"}, allIDs(t, w1.(*config.Wizard)), "the base criteria and the data's both hold")
	assert.Empty(t, allIDs(t, w2.(*config.Wizard)), "the aor alice has no context=office")
	assert.Len(t, base.Criteria, 1, "the caller's options are not changed")
}
