package sorcery_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestApplyConfigMapsEveryLineInOrder(t *testing.T) {
	dir := t.TempDir()
	var opened []string
	var logs bytes.Buffer
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Wizards: map[string]sorcery.WizardFactory{
		"memory": func(typeName, data string) (sorcery.Wizard, error) {
			opened = append(opened, typeName+":"+data)
			return memory.New(), nil
		},
		"other": func(typeName, data string) (sorcery.Wizard, error) {
			opened = append(opened, "other:"+typeName)
			return memory.New(), nil
		},
	}})
	defer s.Close()
	_, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	_, err = sorcery.Register[Aor](s, "aor", nil)
	require.NoError(t, err)
	path := writeFile(t, dir, "sorcery.conf", `
; sorcery.conf
[other]
endpoint = memory,wrong-section

[res_pjsip]
endpoint = memory, first ; the local one
endpoint = other,x
endpoint=>memory,second,criteria=type=endpoint
aor = memory
`)
	require.NoError(t, s.ApplyConfig(path, "res_pjsip"))
	assert.Equal(t, []string{"endpoint:first", "other:endpoint", "aor:"}, opened,
		"the second memory mapping of endpoint is ignored and never opened, as main/sorcery.c does")
	st := s.Stats()
	require.Len(t, st.Types, 2)
	assert.Equal(t, "aor", st.Types[0].Name)
	assert.Len(t, st.Types[1].Wizards, 2)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "duplicate mapping ignored")
	assert.Contains(t, logs.String(), "at="+path+":9")
	assert.Contains(t, logs.String(), "first="+path+":7")
	assert.Equal(t, 1, strings.Count(logs.String(), "\n"))
}

func TestApplyConfigErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, conf, want string
	}{
		{"unknown wizard", "[res_pjsip]\nendpoint = memory\nendpoint = ldap,x\n", "sorcery.conf:3: endpoint: unknown wizard \"ldap\""},
		{"unknown type", "[res_pjsip]\n\nnosuch = memory\n", "sorcery.conf:3: unknown object type \"nosuch\""},
		{"no wizard", "[res_pjsip]\nendpoint =\n", "sorcery.conf:2: endpoint: no wizard named"},
		{"missing section", "[other]\n", "sorcery.conf: no section [res_pjsip]"},
		{"bad syntax", "endpoint = memory\n", "sorcery.conf:1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{"memory": memory.Factory()}})
			defer s.Close()
			_, err := sorcery.Register[Endpoint](s, "endpoint", nil)
			require.NoError(t, err)
			path := writeFile(t, t.TempDir(), "sorcery.conf", tc.conf)
			err = s.ApplyConfig(path, "res_pjsip")
			require.Error(t, err)
			assert.ErrorIs(t, err, errors.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
