package sorcery_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestNewAppliesTheCodecDefaults(t *testing.T) {
	s := sorcery.New(nil)
	defer s.Close()
	typ, err := sorcery.Register[Phone](s, "endpoint", nil)
	require.NoError(t, err)
	a := typ.New("alice")
	assert.Equal(t, Phone{ID: "alice", Context: "default", Allow: []string{"ulaw", "alaw"}, DirectMedia: true}, a)
	a.Allow[0] = "opus"
	assert.Equal(t, []string{"ulaw", "alaw"}, typ.New("bob").Allow, "each object has its own defaults")
}

// refusingCodec decodes nothing.
type refusingCodec struct{}

func (refusingCodec) Decode(sorcery.Record) (Phone, error) { return Phone{}, errors.ErrInvalid }
func (refusingCodec) Encode(Phone) (sorcery.Record, error) {
	return sorcery.Record{}, errors.ErrInvalid
}

func TestNewWithACodecThatRefusesGivesTheZeroValue(t *testing.T) {
	s := sorcery.New(nil)
	defer s.Close()
	typ, err := sorcery.Register[Phone](s, "endpoint", &sorcery.TypeOptions[Phone]{Codec: refusingCodec{}})
	require.NoError(t, err)
	assert.Equal(t, Phone{}, typ.New("alice"))
}
