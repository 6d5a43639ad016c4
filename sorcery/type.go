package sorcery

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/flight"
)

// TypeOptions configures a type at [Register]. The zero value uses the default struct-tag
// codec and rejects unknown fields.
type TypeOptions[T any] struct {
	// Codec converts between T and records. Nil means [NewCodec] with IgnoreUnknown.
	Codec Codec[T]
	// IgnoreUnknown makes the default codec skip fields T has no place for, as Asterisk's
	// realtime does with extra columns. False rejects them with errors.ErrInvalid (the record
	// then counts as a failure of the wizard that supplied it).
	IgnoreUnknown bool
}

// MappingOptions configures one wizard of a type's chain.
type MappingOptions struct {
	// ReadOnly keeps writes away from the wizard even if it is a [Writer]. The zero value
	// writes to it when it can.
	ReadOnly bool
}

// Type is the typed handle of one object type: its chain of wizards and caches. It is safe
// for concurrent use.
type Type[T any] struct {
	s      *Sorcery
	name   string
	codec  Codec[T]
	decode func(Record) (T, error) // codec.Decode, bound once: cheaper to call from generic code
	direct *structCodec[T]         // the codec when it is the default one and decodes in place

	mu    sync.Mutex                  // serialises changes to the chain; readers use chain
	chain atomic.Pointer[[]*layer[T]] // the layers in order; replaced, never changed
	walks flight.Inline[T]            // coalesces the walks of one id

	obs      dispatcher[T]
	degraded atomic.Bool
	closed   atomic.Bool
	warn     warnLimiter
}

// layer is one element of a chain: a wizard, or a cache.
type layer[T any] struct {
	name     string
	wizard   Wizard                // nil for a cache
	writer   Writer                // nil when the wizard cannot be written or is mapped read-only
	cache    *cache.Cache[T]       // nil for a wizard
	snap     *snapshot.Snapshot[T] // the cache's snapshot; nil without one
	now      ImmediateRetriever    // the wizard, when it can answer at once; nil otherwise
	counters wizardCounters
}

// newWizardLayer returns the layer of wizard w, written to unless readOnly. Whether w
// answers at once is asked of w itself, not of the wizards it wraps or embeds (see
// [ImmediateRetriever]).
func newWizardLayer[T any](name string, w Wizard, readOnly bool) *layer[T] {
	l := &layer[T]{name: name, wizard: w}
	if wr, ok := Capability[Writer](w); ok && !readOnly {
		l.writer = wr
	}
	if now, ok := w.(ImmediateRetriever); ok && now.AnswersFor(w) {
		l.now = now
	}
	return l
}

func newType[T any](s *Sorcery, name string, codec Codec[T]) *Type[T] {
	t := &Type[T]{s: s, name: name, codec: codec, decode: codec.Decode}
	if sc, ok := codec.(*structCodec[T]); ok && sc.direct {
		t.direct = sc
	}
	t.chain.Store(&[]*layer[T]{})
	return t
}

// Name returns the type's name.
func (t *Type[T]) Name() string { return t.name }

// Codec returns the type's codec.
func (t *Type[T]) Codec() Codec[T] { return t.codec }

func (t *Type[T]) typeName() string { return t.name }

func (t *Type[T]) layers() []*layer[T] { return *t.chain.Load() }

// AddWizard appends w to the chain under name, which must be unique in the type; it names the
// wizard in errors, stats and hooks. The type owns w from now on: [Sorcery.Close] closes it if
// it is an io.Closer. A nil opts means the zero [MappingOptions].
func (t *Type[T]) AddWizard(name string, w Wizard, opts *MappingOptions) error {
	if w == nil {
		return errors.Errorf("%s: add wizard %q: nil wizard: %w", t.name, name, errors.ErrInvalid)
	}
	if name == "" {
		return errors.Errorf("%s: add wizard: empty name: %w", t.name, errors.ErrInvalid)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return errors.ErrClosed
	}
	for _, l := range t.layers() {
		if l.name == name {
			return errors.Errorf("%s: add wizard: name %q already in the chain: %w", t.name, name, errors.ErrExists)
		}
	}
	t.append(newWizardLayer[T](name, w, opts != nil && opts.ReadOnly))
	return nil
}

// append publishes a new chain with l at its end. t.mu must be held.
func (t *Type[T]) append(l *layer[T]) {
	ls := slices.Clone(t.layers())
	ls = append(ls, l)
	t.chain.Store(&ls)
}

// apply adds a wizard opened by Sorcery.Apply, naming it after its wizard kind.
func (t *Type[T]) apply(kind, data string, w Wizard) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return errors.ErrClosed
	}
	name := kind
	for n := 2; t.hasLayer(name); n++ {
		name = kind + "#" + strconv.Itoa(n)
	}
	t.append(newWizardLayer[T](name, w, false))
	return nil
}

func (t *Type[T]) hasLayer(name string) bool {
	for _, l := range t.layers() {
		if l.name == name {
			return true
		}
	}
	return false
}

// observeCall counts a wizard call timed from start and tells the hook.
func (t *Type[T]) observeCall(l *layer[T], op Operation, id string, start time.Time, out Outcome, err error) {
	t.observeTimed(l, op, id, start, out, err, 1)
}

// observeTimed counts a call timed from start whose latency stands for weight calls (see
// [Histogram]) and tells the hook.
func (t *Type[T]) observeTimed(l *layer[T], op Operation, id string, start time.Time, out Outcome, err error, weight uint64) {
	d := time.Since(start) // the monotonic clock only: cheaper than a second time.Now
	l.counters.record(op, out, start.Add(d), d, err, weight)
	if h := t.s.opts.Hooks.WizardCall; h != nil {
		h(WizardCallEvent{Type: t.name, Wizard: l.name, Operation: op, Outcome: out, ID: id, Duration: d, Err: err})
	}
}

func (t *Type[T]) wizardError(l *layer[T], op Operation, id string, err error) error {
	return &errors.WizardError{Type: t.name, Wizard: l.name, Op: op.String(), ID: id, Err: err}
}

// Retrieve returns the object with the given id: (obj, true, nil) when a layer of the chain has
// it; (zero, false, nil) when every wizard answered and none has it; (zero, false, err) when
// none has it and at least one wizard failed — err wraps an *errors.WizardError per failure,
// once each. A wizard that fails does not stop the walk: the next one is asked.
//
// The chain is walked once, in order, each wizard asked at most once. A cache layer answers
// when it holds the object (a stale one is served and refreshed in the background) or
// remembers its absence; on a miss the walk goes on behind it, and what it finds there is
// stored in that cache and pushed to the type's other caches (see [Type.AddCache]).
//
// Concurrent retrievals of one id share one walk; each caller still returns as soon as its
// own ctx ends. A retrieval runs in the caller's goroutine. The walk is shared, and
// cancelled by [Sorcery.Close], from the first wizard that cannot answer at once: caches
// and [ImmediateRetriever]s (the config and memory wizards), which answer from memory, are
// asked by each caller, as sharing would cost more than asking them.
func (t *Type[T]) Retrieve(ctx context.Context, id string) (T, bool, error) {
	var zero T
	if t.closed.Load() {
		return zero, false, errors.ErrClosed
	}
	ls := t.layers()
	if len(ls) == 0 {
		return zero, false, errors.Errorf("%s: retrieve %q: the type has no wizards: %w", t.name, id, errors.ErrUnsupported)
	}
	var first cache.Miss
	if c := ls[0].cache; c != nil {
		// The hit path: nothing but the cache.
		v, found, m := c.Lookup(ctx, id)
		if !m.Missed() {
			return v, found, nil
		}
		first = m
	}
	var v T // the walk builds the object here: a T is copied once, on return
	found, err := t.walk(ctx, id, ls, first, &v)
	return v, found, err
}

// setDegraded records whether the last walk met a failure, and warns about it.
func (t *Type[T]) setDegraded(errs []error) {
	if d := len(errs) > 0; t.degraded.Load() != d {
		t.degraded.Store(d) // written only on a change: walks on many cores share the flag
	}
	if len(errs) > 0 {
		t.warnErrors(errs)
	}
}

// Search returns the objects that satisfy q, sorted by id: the union of the answers of every
// wizard that is a [Searcher], up to the first full-backend cache that holds its whole set,
// the first layer to supply an id winning. When a wizard fails, the others are still asked,
// and the objects they returned come back with a non-nil error wrapping the failures: the
// result is then incomplete. A chain that cannot search fails with errors.ErrUnsupported.
func (t *Type[T]) Search(ctx context.Context, q Query) ([]T, error) {
	if t.closed.Load() {
		return nil, errors.ErrClosed
	}
	if _, err := q.Compile(); err != nil {
		return nil, errors.Errorf("%s: search: %w", t.name, err)
	}
	items, errs, searched := t.searchWizards(ctx, q, t.layers())
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if !searched {
		return nil, errors.Errorf("%s: search: no wizard of the type can search: %w", t.name, errors.ErrUnsupported)
	}
	vs := make([]T, len(items))
	for i := range items {
		vs[i] = items[i].Value
	}
	return vs, errors.Join(errs...)
}

// searchWizards asks the layers of ls in order, up to the first full-backend cache that can
// answer, and returns the union sorted by id, the errors met, and whether any layer could
// search at all.
func (t *Type[T]) searchWizards(ctx context.Context, q Query, ls []*layer[T]) (items []cache.Entry[T], errs []error, searched bool) {
	m, err := q.Compile()
	if err != nil {
		return nil, []error{err}, true
	}
	seen := map[string]bool{}
	add := func(id string, v T) {
		if !seen[id] {
			seen[id] = true
			items = append(items, cache.Entry[T]{ID: id, Value: v})
		}
	}
	for _, l := range ls {
		if l.cache != nil {
			if !l.cache.Options().FullBackend {
				continue
			}
			all, err := l.cache.All(ctx)
			if err != nil {
				// No complete set to answer from: the wizards after it are asked.
				errs = append(errs, errors.Errorf("%s cache %s: %w", t.name, l.name, err))
				continue
			}
			searched = true
			for _, e := range all {
				rec, err := t.codec.Encode(e.Value)
				if err == nil && rec.ID == "" {
					rec.ID = e.ID
				}
				if err == nil && m.Match(rec) {
					add(e.ID, e.Value)
				}
			}
			errs = nil // the complete set answered: earlier failures do not make it partial
			break
		}
		s, ok := Capability[Searcher](l.wizard)
		if !ok {
			continue
		}
		searched = true
		start := time.Now()
		recs, err := s.Search(ctx, q)
		if err != nil {
			t.observeCall(l, OperationSearch, "", start, OutcomeError, err)
			if ctx.Err() != nil {
				return nil, []error{context.Cause(ctx)}, true
			}
			errs = append(errs, t.wizardError(l, OperationSearch, "", err))
			continue
		}
		var decodeErrs []error
		for _, r := range recs {
			if seen[r.ID] {
				continue
			}
			var v T
			if err := t.decodeFrom(l.wizard, r, &v); err != nil {
				decodeErrs = append(decodeErrs, err)
				continue
			}
			add(r.ID, v)
		}
		if len(decodeErrs) > 0 {
			err := errors.Join(decodeErrs...)
			t.observeCall(l, OperationSearch, "", start, OutcomeError, err)
			errs = append(errs, t.wizardError(l, OperationSearch, "", err))
			continue
		}
		t.observeCall(l, OperationSearch, "", start, OutcomeOK, nil)
	}
	t.setDegraded(errs)
	slices.SortFunc(items, func(a, b cache.Entry[T]) int { return cmp.Compare(a.ID, b.ID) })
	return items, errs, searched
}

// Create stores obj in every writable wizard of the chain. It succeeds when at least one of
// them stored it; the caches then hold obj and observers are told. When all fail, the joined
// errors are returned (errors.ErrExists among them when the id was taken). A chain without a
// writable wizard fails with errors.ErrReadOnly.
func (t *Type[T]) Create(ctx context.Context, obj T) error {
	rec, err := t.encode(obj)
	if err != nil {
		return err
	}
	if err := t.write(ctx, OperationCreate, rec.ID, func(w Writer) error { return w.Create(ctx, rec) }); err != nil {
		return err
	}
	t.push(rec.ID, obj)
	t.obs.notify(func(o *Observer[T]) {
		if o.Created != nil {
			o.Created(obj)
		}
	})
	return nil
}

// Update replaces the object with obj's id in every writable wizard, like [Type.Create];
// errors.ErrNotFound comes back when no wizard had the object.
func (t *Type[T]) Update(ctx context.Context, obj T) error {
	rec, err := t.encode(obj)
	if err != nil {
		return err
	}
	if err := t.write(ctx, OperationUpdate, rec.ID, func(w Writer) error { return w.Update(ctx, rec) }); err != nil {
		return err
	}
	t.push(rec.ID, obj)
	t.obs.notify(func(o *Observer[T]) {
		if o.Updated != nil {
			o.Updated(obj)
		}
	})
	return nil
}

// Delete removes the object with the given id from every writable wizard, like [Type.Create];
// errors.ErrNotFound comes back when no wizard had the object.
func (t *Type[T]) Delete(ctx context.Context, id string) error {
	if id == "" {
		return errors.Errorf("%s: delete: empty id: %w", t.name, errors.ErrInvalid)
	}
	// What observers get: the object as last cached, or one carrying just the id.
	obj, cached := t.peek(id)
	if !cached {
		obj, _ = t.codec.Decode(Record{ID: id})
	}
	if err := t.write(ctx, OperationDelete, id, func(w Writer) error { return w.Delete(ctx, id) }); err != nil {
		return err
	}
	for _, l := range t.layers() {
		if l.cache != nil {
			l.cache.Delete(id)
		}
	}
	t.obs.notify(func(o *Observer[T]) {
		if o.Deleted != nil {
			o.Deleted(obj)
		}
	})
	return nil
}

func (t *Type[T]) peek(id string) (T, bool) {
	for _, l := range t.layers() {
		if l.cache != nil {
			if v, ok := l.cache.Peek(id); ok {
				return v, true
			}
		}
	}
	var zero T
	return zero, false
}

func (t *Type[T]) encode(obj T) (Record, error) {
	rec, err := t.codec.Encode(obj)
	if err != nil {
		return Record{}, errors.Errorf("%s: encode: %w", t.name, err)
	}
	if rec.ID == "" {
		return Record{}, errors.Errorf("%s: object has an empty id: %w", t.name, errors.ErrInvalid)
	}
	return rec, nil
}

// write sends one write to every writable wizard.
func (t *Type[T]) write(ctx context.Context, op Operation, id string, do func(Writer) error) error {
	if t.closed.Load() {
		return errors.ErrClosed
	}
	var errs []error
	wrote, writable := 0, 0
	for _, l := range t.layers() {
		if l.writer == nil {
			continue
		}
		writable++
		start := time.Now()
		err := do(l.writer)
		if err != nil {
			t.observeCall(l, op, id, start, OutcomeError, err)
			if errors.Is(err, errors.ErrReadOnly) {
				writable--
				continue
			}
			errs = append(errs, t.wizardError(l, op, id, err))
			continue
		}
		t.observeCall(l, op, id, start, OutcomeOK, nil)
		wrote++
	}
	switch {
	case writable == 0:
		return errors.Errorf("%s: %s %q: no writable wizard: %w", t.name, op, id, errors.ErrReadOnly)
	case wrote == 0:
		return errors.Join(errs...)
	case len(errs) > 0:
		t.warnf("write reached only some wizards", "op", op.String(), "id", id, "err", errors.Join(errs...))
	}
	return nil
}

// Observe registers o; the returned func removes it.
func (t *Type[T]) Observe(o Observer[T]) (cancel func()) {
	return t.obs.add(o)
}

// Flush waits until every observer call queued so far has been delivered.
func (t *Type[T]) Flush() { t.obs.flush() }

func (t *Type[T]) reload(ctx context.Context) error {
	if t.closed.Load() {
		return errors.ErrClosed
	}
	var errs []error
	for _, l := range t.layers() {
		if l.cache != nil {
			if l.cache.Options().ExpireOnReload {
				l.cache.ExpireAll()
			}
			continue
		}
		r, ok := Capability[Reloader](l.wizard)
		if !ok {
			continue
		}
		start := time.Now()
		if err := r.Reload(ctx); err != nil {
			t.observeCall(l, OperationReload, "", start, OutcomeError, err)
			errs = append(errs, t.wizardError(l, OperationReload, "", err))
			continue
		}
		t.observeCall(l, OperationReload, "", start, OutcomeOK, nil)
	}
	t.obs.notify(func(o *Observer[T]) {
		if o.Loaded != nil {
			o.Loaded()
		}
	})
	return errors.Join(errs...)
}

func (t *Type[T]) stats() TypeStats {
	ts := TypeStats{Name: t.name, Degraded: t.degraded.Load()}
	for _, l := range t.layers() {
		if l.cache != nil {
			cs := CacheStats{Stats: l.cache.Stats()}
			if l.snap != nil {
				ss := l.snap.Stats()
				cs.SnapshotWrites, cs.SnapshotErrors = ss.Writes, ss.Errors
				cs.SnapshotRestored, cs.LastSnapshot = ss.Restored, ss.Last
			}
			ts.Caches = append(ts.Caches, cs)
			continue
		}
		ts.Wizards = append(ts.Wizards, l.counters.snapshot(l.name))
	}
	return ts
}

// close stops the type: new calls are refused, running walks are cancelled and waited
// for, pending observer calls are delivered, then the caches are closed (stopping their
// refreshes, which call wizards) before the wizards. The chain is read under t.mu; no cache,
// wizard or observer is called with it held.
func (t *Type[T]) close() error {
	t.mu.Lock()
	if t.closed.Swap(true) {
		t.mu.Unlock()
		return errors.ErrClosed
	}
	ls := t.layers()
	t.mu.Unlock()

	t.walks.Close()
	t.obs.close()
	var errs []error
	for _, l := range ls {
		if l.cache == nil {
			continue
		}
		if l.snap != nil { // first: it writes what the cache holds
			if err := l.snap.Close(); err != nil && !errors.Is(err, errors.ErrClosed) {
				errs = append(errs, err)
			}
		}
		if err := l.cache.Close(); err != nil && !errors.Is(err, errors.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, l := range ls {
		if l.wizard == nil {
			continue
		}
		if c, ok := Capability[io.Closer](l.wizard); ok {
			if err := c.Close(); err != nil && !errors.Is(err, errors.ErrClosed) {
				errs = append(errs, &errors.WizardError{Type: t.name, Wizard: l.name, Op: "close", Err: err})
			}
		}
	}
	return errors.Join(errs...)
}

// warnLimiter lets through one warning per interval and counts the ones it holds back.
type warnLimiter struct {
	last       atomic.Int64 // unix nanoseconds of the last warning let through
	suppressed atomic.Int64
}

func (t *Type[T]) warnf(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := t.warn.last.Load()
	if now-last < int64(t.s.opts.LogInterval) || !t.warn.last.CompareAndSwap(last, now) {
		t.warn.suppressed.Add(1)
		return
	}
	args = append(args, slog.String("type", t.name), slog.Int64("suppressed", t.warn.suppressed.Swap(0)))
	t.s.logger.Warn("sorcery: "+msg, args...)
}
