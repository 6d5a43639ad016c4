package cachetest

import (
	"slices"
	"sync"

	"github.com/gosorcery/gosorcery/cache"
)

// Recorder collects cache events: give [Recorder.Record] as Options.OnEvent.
type Recorder struct {
	mu     sync.Mutex // guards events
	events []cache.Event
}

// Record appends ev to the events recorded.
func (r *Recorder) Record(ev cache.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// Kinds returns the kinds of the events recorded for id, in order.
func (r *Recorder) Kinds(id string) []cache.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []cache.EventKind
	for _, ev := range r.events {
		if ev.ID == id {
			out = append(out, ev.Kind)
		}
	}
	return out
}

// Count returns how many events of kind were recorded.
func (r *Recorder) Count(kind cache.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// Events returns the events recorded of the kinds given, in order; with no kind given, all
// of them.
func (r *Recorder) Events(kinds ...cache.EventKind) []cache.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(kinds) == 0 {
		return slices.Clone(r.events)
	}
	var out []cache.Event
	for _, ev := range r.events {
		if slices.Contains(kinds, ev.Kind) {
			out = append(out, ev)
		}
	}
	return out
}
