package registrar

import (
	"slices"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/sorcery"
)

// SourceHealth follows whether the wizards behind each object type are answering, from the
// calls a [sorcery.Sorcery] reports to its hooks: plug [SourceHealth.WizardCall] into
// sorcery.Hooks.WizardCall. A type is failing from its first wizard call that errs until a
// later call succeeds. With a chain "cache → provisioning service", an object found while
// its type is failing was served by the cache.
//
// The zero SourceHealth is ready to use and safe for concurrent use.
type SourceHealth struct {
	mu      sync.Mutex           // guards failing
	failing map[string]time.Time // type → when its current failure began
}

// WizardCall records the outcome of one wizard call; its signature is that of
// sorcery.Hooks.WizardCall.
func (h *SourceHealth) WizardCall(ev sorcery.WizardCallEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Outcome == sorcery.OutcomeError {
		if _, ok := h.failing[ev.Type]; !ok {
			if h.failing == nil {
				h.failing = make(map[string]time.Time)
			}
			h.failing[ev.Type] = time.Now()
		}
		return
	}
	delete(h.failing, ev.Type)
}

// Failing returns the types whose source is failing, sorted, with the time the earliest
// failure began; none when every source answers.
func (h *SourceHealth) Failing() (types []string, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t, at := range h.failing {
		types = append(types, t)
		if since.IsZero() || at.Before(since) {
			since = at
		}
	}
	slices.Sort(types)
	return types, since
}
