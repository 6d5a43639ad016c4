package sorcery

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// Options configures a [Sorcery]. The zero value works: no wizard factories (only the
// built-in "memory_cache"), no hooks, logging to slog.Default.
type Options struct {
	// Logger receives warnings about failing sources, lifetimes extended because of them and
	// cache snapshots that could not be read or written, at most one line per type per
	// LogInterval, and, at Info, a cache's restore from its snapshot. Nil means slog.Default().
	Logger *slog.Logger
	// LogInterval is the least time between two warnings of one type. Zero means one minute.
	LogInterval time.Duration
	// Hooks receive every wizard call and cache event. The zero Hooks receive nothing; the
	// counters behind [Sorcery.Stats] are kept either way.
	Hooks Hooks
	// Wizards maps wizard names, as sorcery.conf writes them ("config", "realtime", "curl",
	// "memory" …), to their factories, for [Sorcery.Apply] and [Sorcery.ApplyConfig]. Nil means
	// none: "memory_cache" is built in and needs no entry.
	Wizards map[string]WizardFactory
}

// Sorcery is a set of object types, each served by its chain of wizards and caches. It is
// safe for concurrent use. Make one with [New], add types with [Register], and Close it when
// done: Close stops every cache and closes every wizard.
type Sorcery struct {
	opts   Options
	logger *slog.Logger

	mu     sync.RWMutex // guards types and closed
	types  map[string]typeHandle
	closed bool

	appliedMu sync.Mutex      // guards applied
	applied   map[string]bool // "type\x00wizard" of each mapping Apply applied or is applying
}

// typeHandle is what a Sorcery needs of a Type[T] whatever T is.
type typeHandle interface {
	typeName() string
	apply(wizard, name string, w Wizard) error
	applyCache(data string) error
	invalidate(inv Invalidation)
	markStale()
	reload(ctx context.Context) error
	stats() TypeStats
	close() error
}

// New returns a Sorcery with no types. A nil opts means the zero [Options].
func New(opts *Options) *Sorcery {
	s := &Sorcery{types: make(map[string]typeHandle)}
	if opts != nil {
		s.opts = *opts
	}
	s.logger = s.opts.Logger
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.opts.LogInterval <= 0 {
		s.opts.LogInterval = time.Minute
	}
	return s
}

// Register adds the object type name, whose objects are of Go type T, and returns its typed
// handle. Wizards and caches are added to the handle, or by [Sorcery.Apply] and
// [Sorcery.ApplyConfig] once the type is registered. A nil opts means the zero [TypeOptions].
func Register[T any](s *Sorcery, name string, opts *TypeOptions[T]) (*Type[T], error) {
	if name == "" || strings.ContainsAny(name, "/ \t") {
		return nil, errors.Errorf("register: bad type name %q: %w", name, errors.ErrInvalid)
	}
	var o TypeOptions[T]
	if opts != nil {
		o = *opts
	}
	codec := o.Codec
	if codec == nil {
		c, err := NewCodec[T](&CodecOptions{IgnoreUnknown: o.IgnoreUnknown})
		if err != nil {
			return nil, errors.Errorf("register %q: %w", name, err)
		}
		codec = c
	}
	t := newType(s, name, codec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.ErrClosed
	}
	if _, dup := s.types[name]; dup {
		return nil, errors.Errorf("register: type %q already registered: %w", name, errors.ErrExists)
	}
	s.types[name] = t
	return t, nil
}

func (s *Sorcery) lookup(name string) (typeHandle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errors.ErrClosed
	}
	t, ok := s.types[name]
	if !ok {
		return nil, errors.Errorf("unknown object type %q: %w", name, errors.ErrInvalid)
	}
	return t, nil
}

// Apply adds one mapping line of sorcery.conf to a registered type: typeName = wizard,data.
// A line "endpoint/cache = memory_cache,<options>" (typeName "endpoint/cache", wizard
// "memory_cache") adds a cache layer at that point of the chain; any other wizard is opened
// by its factory in [Options.Wizards] with data and appended to the chain, named after the
// wizard.
//
// A wizard already applied to the type by Apply is not applied again, whatever its data, as
// main/sorcery.c refuses a duplicate mapping: the first mapping stays, nothing is opened,
// and the error returned is a *DuplicateMappingError (errors.ErrExists). [Sorcery.ApplyConfig]
// logs it as a warning with the file and line and goes on.
func (s *Sorcery) Apply(typeName, wizard, data string) (err error) {
	base, isCache := strings.CutSuffix(strings.TrimSpace(typeName), "/cache")
	wizard = strings.TrimSpace(wizard)
	t, err := s.lookup(base)
	if err != nil {
		return err
	}
	if isCache && wizard != "memory_cache" {
		return errors.Errorf("%s: wizard %q cannot be a cache (only memory_cache): %w", typeName, wizard, errors.ErrInvalid)
	}
	factory, ok := s.opts.Wizards[wizard]
	if wizard != "memory_cache" && (!ok || factory == nil) {
		return errors.Errorf("%s: unknown wizard %q (known: %s): %w", typeName, wizard, s.knownWizards(), errors.ErrInvalid)
	}
	if err := s.reserveMapping(base, wizard); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.releaseMapping(base, wizard)
		}
	}()
	if wizard == "memory_cache" {
		if err := t.applyCache(data); err != nil {
			return errors.Errorf("%s: memory_cache: %w", typeName, err)
		}
		return nil
	}
	w, err := factory(base, data)
	if err != nil {
		return errors.Errorf("%s: wizard %s %q: %w", typeName, wizard, data, err)
	}
	if w == nil {
		return errors.Errorf("%s: wizard %s returned no wizard: %w", typeName, wizard, errors.ErrInvalid)
	}
	return t.apply(wizard, data, w)
}

func (s *Sorcery) knownWizards() string {
	names := []string{"memory_cache"}
	for n := range s.opts.Wizards {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Reload asks every wizard that is a [Reloader] to re-read its source, expires the caches
// configured with expire_on_reload, and tells the types' observers. It returns the joined
// errors of the wizards that failed; they keep serving what they had.
func (s *Sorcery) Reload(ctx context.Context) error {
	var errs []error
	for _, t := range s.snapshot() {
		if err := t.reload(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Sorcery) snapshot() []typeHandle {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ts := make([]typeHandle, 0, len(s.types))
	for _, t := range s.types {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b typeHandle) int { return cmp.Compare(a.typeName(), b.typeName()) })
	return ts
}

// Stats returns a snapshot of the always-on counters of every type, its wizards and its
// caches.
func (s *Sorcery) Stats() Stats {
	ts := s.snapshot()
	st := Stats{Types: make([]TypeStats, 0, len(ts))}
	for _, t := range ts {
		st.Types = append(st.Types, t.stats())
	}
	return st
}

// Close stops every type: pending observer calls are delivered, caches stop (their
// snapshots, when they keep one, first write the last snapshot), and wizards that are io.Closers are closed (a Sorcery
// owns the wizards added to it). The first Close returns the joined errors of that; later
// calls return errors.ErrClosed.
func (s *Sorcery) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	var errs []error
	for _, t := range s.snapshot() {
		if err := t.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
