package registrar

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestSourceHealthFollowsTheLastWizardCallOfEachType(t *testing.T) {
	var h SourceHealth
	types, since := h.Failing()
	assert.Empty(t, types, "the zero SourceHealth sees nothing failing")
	assert.True(t, since.IsZero())

	h.WizardCall(sorcery.WizardCallEvent{Type: "endpoint", Outcome: sorcery.OutcomeFound})
	h.WizardCall(sorcery.WizardCallEvent{Type: "auth", Outcome: sorcery.OutcomeError, Err: errors.New("down")})
	h.WizardCall(sorcery.WizardCallEvent{Type: "aor", Outcome: sorcery.OutcomeError, Err: errors.New("down")})
	types, first := h.Failing()
	assert.Equal(t, []string{"aor", "auth"}, types)
	assert.False(t, first.IsZero())

	h.WizardCall(sorcery.WizardCallEvent{Type: "auth", Outcome: sorcery.OutcomeError, Err: errors.New("still down")})
	_, since = h.Failing()
	assert.Equal(t, first, since, "a failure goes on from its first failed call")

	h.WizardCall(sorcery.WizardCallEvent{Type: "auth", Outcome: sorcery.OutcomeNotFound})
	types, _ = h.Failing()
	assert.Equal(t, []string{"aor"}, types, "a type recovers with its first call answered, found or not")
}
