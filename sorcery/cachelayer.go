package sorcery

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
	"github.com/gosorcery/gosorcery/errors"
)

// CacheStats are the counters of one cache layer of a type: the cache's, and its
// snapshot's when it keeps one (snapshot_file).
type CacheStats struct {
	cache.Stats
	SnapshotWrites   uint64    // snapshot files written
	SnapshotErrors   uint64    // snapshot files that could not be read or written, or that left objects out
	SnapshotRestored int       // objects restored from the snapshot
	LastSnapshot     time.Time // when the last snapshot file was written; zero if none
}

// CacheEvent is one event of a cache layer of a type, for [Hooks]. Fields may be added.
type CacheEvent struct {
	Type string // the object type
	cache.Event
}

// AddCache appends a cache layer to the chain, at this point of it, like a
// "type/cache = memory_cache,…" line of sorcery.conf. A retrieval that reaches it is answered
// from memory when the cache holds the object (a stale one is served at once and refreshed in
// the background) or remembers its absence; on a miss the same walk goes on with the layers
// behind it, and what it finds there is stored in the cache, with Asterisk's lifetimes and
// gosorcery's stale-if-error rules (see package cache). A degraded find (after a wizard
// failed) is stored living on an extension, re-checked after ErrorRecheck, wherever the cache
// stands. Objects found by wizards before the cache and objects written through the type are
// pushed into it.
//
// A background refresh of the cache, and a Get on the cache itself, ask the type's wizards in
// order, every cache skipped, as Asterisk's memory_cache refresh retrieves through the whole
// sorcery; what they find is pushed to the type's other caches. A nil opts means the zero
// cache.Options: objects cached until evicted or expired by hand. An empty Name names the
// layer "cache" ("cache#2" for a second one).
//
// The cache's events go to one sink, its Options.OnEvent, which the layer forwards: to
// opts.OnEvent when set, then to the type's Hooks.Cache, and, for a snapshot's events, to the
// logger. None of them is called with a lock of the type held.
//
// In full-backend mode the cache holds the whole set, loaded by a search of every wizard
// with no conditions; a load during which a wizard fails is a failed load (the previous set
// is kept), never a partial set.
//
// With opts.Snapshot (snapshot_file, snapshot_interval), the layer keeps the cache's objects
// in that file with package cache/snapshot, stored as the records the type's codec encodes
// them to, so that they come back exactly as the wizards would decode them. A path that is
// not a regular file fails AddCache at once. The snapshot is restored once the cache is in
// the chain and the type's lock is released; a snapshot that cannot be read is ignored. A
// snapshot's trouble is logged as a warning, a restore at Info; [Sorcery.Stats] reports its
// counters with the cache's, and [Type.Snapshot] returns it. Close writes it a last time.
func (t *Type[T]) AddCache(opts *cache.Options) error {
	l, err := t.addCache(opts)
	if err != nil || l.snap == nil {
		return err
	}
	// Reported through the cache's sink, which logs it: a file that cannot be read does
	// not fail AddCache, the cache goes on without it.
	l.snap.Restore(context.Background())
	return nil
}

// addCache does the work of AddCache under t.mu: it makes the cache (and its snapshot,
// not restored yet) and puts it in the chain.
func (t *Type[T]) addCache(opts *cache.Options) (*layer[T], error) {
	var o cache.Options
	if opts != nil {
		o = *opts
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return nil, errors.ErrClosed
	}
	name := o.Name
	if name == "" {
		name = "cache"
		for n := 2; t.hasLayer(name); n++ {
			name = "cache#" + strconv.Itoa(n)
		}
		o.Name = name
	} else if t.hasLayer(name) {
		return nil, errors.Errorf("%s: add cache: name %q already in the chain: %w", t.name, name, errors.ErrExists)
	}
	l := &layer[T]{name: name}
	// Cache events go to the user's OnEvent, the type's hooks and, for a snapshot's, the
	// logger. The sink takes only the kinds someone wants (cache.Options.EventKinds): without
	// a hook or a user's OnEvent taking them, no read event is made, and the hit path stays
	// the bare cache lookup even when a snapshot is logged. (A failed refresh is a failed
	// walk of the wizards, which warns on its own.)
	user, hook := o, t.s.opts.Hooks.Cache // user: the caller's OnEvent and the kinds it takes
	if hook != nil || o.Snapshot != nil {
		switch {
		case hook != nil:
			o.EventKinds = nil // the hook takes every kind
		case user.OnEvent == nil:
			o.EventKinds = snapshotEvents()
		case len(user.EventKinds) > 0:
			o.EventKinds = append(slices.Clip(user.EventKinds), snapshotEvents()...)
		}
		o.OnEvent = func(ev cache.Event) {
			var userEvent func(cache.Event)
			if user.Takes(ev.Kind) {
				userEvent = user.OnEvent
			}
			t.cacheEvent(userEvent, hook, ev)
		}
	}
	load := t.loadFor(l)
	loadAll := func(ctx context.Context) ([]cache.Entry[T], error) {
		items, errs, searched := t.searchWizards(ctx, Query{}, t.wizardLayers())
		if !searched {
			return nil, errors.Errorf("%s: full-backend cache: no wizard of the type can search: %w", t.name, errors.ErrUnsupported)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return items, nil
	}
	c, err := cache.NewFull(load, loadAll, &o)
	if err != nil {
		return nil, errors.Errorf("%s: add cache: %w", t.name, err)
	}
	if so := o.Snapshot; so != nil {
		// New checks the path and starts the periodic writes; it reads nothing and calls
		// no user code.
		l.snap, err = snapshot.New(c, so.Path, &snapshot.Options[T]{Interval: so.Interval, Codec: snapshotCodec[T]{t}})
		if err != nil {
			c.Close()
			return nil, errors.Errorf("%s: add cache: %w", t.name, err)
		}
	}
	l.cache = c
	t.append(l)
	return l, nil
}

// snapshotEvents returns the kinds of event a cache's snapshot reports, which the layer logs.
func snapshotEvents() []cache.EventKind {
	return []cache.EventKind{cache.EventSnapshotRestored, cache.EventSnapshotError}
}

// cacheEvent delivers ev to the user's OnEvent, then to the type's hook, then logs it if
// it is a snapshot's.
func (t *Type[T]) cacheEvent(userEvent func(cache.Event), hook func(CacheEvent), ev cache.Event) {
	if userEvent != nil {
		userEvent(ev)
	}
	if hook != nil {
		hook(CacheEvent{Type: t.name, Event: ev})
	}
	switch ev.Kind {
	case cache.EventSnapshotError:
		t.warnf("cache snapshot error", "cache", ev.Cache, "err", ev.Err)
	case cache.EventSnapshotRestored:
		t.s.logger.Info("sorcery: cache restored from its snapshot", "type", t.name, "cache", ev.Cache,
			"objects", ev.Objects, "age", ev.Age.Round(time.Second))
	}
}

// Snapshot returns the snapshot of the type's first cache layer (the one [Type.Cache]
// returns), for a write on demand or its counters, or nil when that layer keeps none (see
// AddCache). The type owns it: Close closes it.
func (t *Type[T]) Snapshot() *snapshot.Snapshot[T] {
	for _, l := range t.layers() {
		if l.cache != nil {
			return l.snap
		}
	}
	return nil
}

// Cache returns the type's first cache layer, for administration (expire, mark stale,
// populate, stats), or nil when the type has none.
func (t *Type[T]) Cache() *cache.Cache[T] {
	for _, l := range t.layers() {
		if l.cache != nil {
			return l.cache
		}
	}
	return nil
}

func (t *Type[T]) applyCache(data string) error {
	opts, err := cache.ParseOptions(data)
	if err != nil {
		return err
	}
	return t.AddCache(opts)
}

// wizardLayers returns the chain without its caches.
func (t *Type[T]) wizardLayers() []*layer[T] {
	ls := t.layers()
	out := make([]*layer[T], 0, len(ls))
	for _, l := range ls {
		if l.cache == nil {
			out = append(out, l)
		}
	}
	return out
}

// push stores an object written through the type into every cache of the type.
func (t *Type[T]) push(id string, v T) {
	for _, l := range t.layers() {
		pushInto(l, id, v, false)
	}
}

func (t *Type[T]) invalidate(inv Invalidation) {
	for _, l := range t.layers() {
		c := l.cache
		if c == nil {
			continue
		}
		switch {
		case inv.Change == Deleted:
			c.Expire(inv.ID)
		case c.Options().FullBackend:
			c.MarkStale(inv.ID, true)
		default:
			if _, cached := c.Peek(inv.ID); cached {
				c.MarkStale(inv.ID, true)
			} else {
				// Not cached, or remembered as absent: forget any negative entry so that the
				// next read asks the source.
				c.Delete(inv.ID)
			}
		}
	}
}

func (t *Type[T]) markStale() {
	for _, l := range t.layers() {
		if l.cache != nil {
			l.cache.MarkAllStale()
		}
	}
}
