package config_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// aor has a place for every variable of decodeConf's aors but type=, which Asterisk
// registers as a no-op field of every pjsip type.
type aor struct {
	ID             string `sorcery:"id"`
	MaxContacts    int    `sorcery:"max_contacts"`
	RemoveExisting bool   `sorcery:"remove_existing"`
}

const decodeConf = `; aors
[alice]
type=aor
max_contacts=1
remove_existing=yes

[bob]
type=aor
max_contacts=many
`

func TestNilTypeOptionsDecodeEveryConfigObject(t *testing.T) {
	var logs bytes.Buffer
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer s.Close()
	typ, err := sorcery.Register[aor](s, "aor", nil)
	require.NoError(t, err)
	w, err := config.New("pjsip.conf", &config.Options{
		Criteria: sorcery.Fields{{Name: "type", Value: "aor"}},
		FS:       fstest.MapFS{"pjsip.conf": {Data: []byte(decodeConf)}},
	})
	require.NoError(t, err)
	require.NoError(t, typ.AddWizard("config", w, nil))

	a, found, err := typ.Retrieve(t.Context(), "alice")
	require.NoError(t, err, "type= is accepted by the default codec")
	assert.True(t, found)
	assert.Equal(t, aor{ID: "alice", MaxContacts: 1, RemoveExisting: true}, a)

	// bob's max_contacts does not parse: invalid data at the file and line of [bob].
	_, found, err = typ.Retrieve(t.Context(), "bob")
	assert.False(t, found)
	require.Error(t, err)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	var ir *sorcery.InvalidRecordError
	require.ErrorAs(t, err, &ir)
	assert.Equal(t, "pjsip.conf:7", ir.Origin)
	assert.Contains(t, err.Error(), "pjsip.conf:7")
	assert.Contains(t, logs.String(), "invalid data")
	assert.Contains(t, logs.String(), "pjsip.conf:7")
	assert.NotContains(t, logs.String(), "source failing", "bad data is not an outage: %s", logs.String())
	assert.Equal(t, 1, strings.Count(logs.String(), "\n"))
}
