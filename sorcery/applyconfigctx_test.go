package sorcery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestApplyConfigContextStopsBetweenLinesWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var opened []string
	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{
		"memory": func(typeName, data string) (sorcery.Wizard, error) {
			opened = append(opened, data)
			cancel() // the caller gives up while the first line is applied
			return memory.New(), nil
		},
	}})
	defer s.Close()
	_, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	path := writeFile(t, t.TempDir(), "sorcery.conf", "[res_pjsip]\nendpoint = memory,first\nendpoint = memory,second\n")

	err = s.ApplyConfigContext(ctx, path, "res_pjsip")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, errors.ErrInvalid, "a cancellation is not a bad file")
	assert.Contains(t, err.Error(), "sorcery.conf:3: ", "the line not applied")
	assert.Equal(t, []string{"first"}, opened)

	err = s.ApplyConfigContext(ctx, path, "res_pjsip")
	require.ErrorIs(t, err, context.Canceled, "a ctx cancelled before the file is read")
	assert.Equal(t, []string{"first"}, opened)
}
