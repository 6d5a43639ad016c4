package sorcery

import (
	"strings"

	"github.com/gosorcery/gosorcery/errors"
)

// Change is what happened to an object at its source.
type Change uint8

// The changes an [Invalidation] announces.
const (
	Changed Change = iota // created or updated: refresh it
	Deleted               // deleted: drop it
)

// String returns "changed" or "deleted".
func (c Change) String() string {
	if c == Deleted {
		return "deleted"
	}
	return "changed"
}

// ParseChange parses "changed" or "deleted" (also "created", "updated", "insert", "update",
// "delete", without case).
func ParseChange(s string) (Change, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "changed", "created", "updated", "insert", "update":
		return Changed, nil
	case "deleted", "delete":
		return Deleted, nil
	}
	return 0, errors.Errorf("unknown change %q: %w", s, errors.ErrInvalid)
}

// Invalidation announces that an object changed or was deleted at its source, so that caches
// holding it act before its stale period ends. Invalidations are idempotent: applying one
// twice has the effect of applying it once, so delivery may be at-least-once.
type Invalidation struct {
	Type   string // the object type, such as "endpoint"
	ID     string // the object id
	Change Change
}

// Invalidate applies inv to the caches of its type: a changed object that a cache holds is
// refreshed in the background (once more after a refresh of it that was already loading, which
// may have read the old value), a deleted one is expired at once. An id that no cache holds is ignored, and so is a type without caches. An
// unregistered type is errors.ErrInvalid.
func (s *Sorcery) Invalidate(inv Invalidation) error {
	t, err := s.lookup(inv.Type)
	if err != nil {
		return err
	}
	t.invalidate(inv)
	return nil
}

// MarkStale marks every object cached for the named type stale, or for every type when
// typeName is empty: each is served as it is and refreshed in the background on its next
// read. An invalidation source calls it after a reconnect, to catch up on what it may have
// missed.
func (s *Sorcery) MarkStale(typeName string) error {
	if typeName == "" {
		for _, t := range s.snapshot() {
			t.markStale()
		}
		return nil
	}
	t, err := s.lookup(typeName)
	if err != nil {
		return err
	}
	t.markStale()
	return nil
}

// Types returns the names of the registered types, sorted.
func (s *Sorcery) Types() []string {
	ts := s.snapshot()
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.typeName()
	}
	return names
}
