package sorcery

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// CacheStats are the counters of one cache layer of a type.
type CacheStats = cache.Stats

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
// layer "cache" ("cache#2" for a second one); opts.OnEvent, when set, is called before the
// type's Hooks.Cache.
//
// In full-backend mode the cache holds the whole set, loaded by a search of every wizard
// with no conditions; a load during which a wizard fails is a failed load (the previous set
// is kept), never a partial set.
//
// With opts.Snapshot, the cache keeps its objects in a file and starts from it (see
// cache.SnapshotOptions). When its Marshal and Unmarshal are nil, the objects are stored as
// the records the type's codec encodes them to, so that they come back exactly as the
// wizards would decode them. A snapshot that cannot be read or written is logged as a
// warning, a restore at Info. The events of a restore reach opts.OnEvent and Hooks.Cache once
// the cache is in the chain and AddCache no longer holds the type's lock.
func (t *Type[T]) AddCache(opts *cache.Options) error {
	var later deferred
	err := t.addCache(opts, &later)
	later.release()
	return err
}

// addCache does the work of AddCache under t.mu. The events the cache emits while it is made
// (its snapshot's restore) are held in later, to be delivered once t.mu is released, so that
// hooks and loggers never run under it.
func (t *Type[T]) addCache(opts *cache.Options, later *deferred) error {
	var o cache.Options
	if opts != nil {
		o = *opts
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return errors.ErrClosed
	}
	name := o.Name
	if name == "" {
		name = "cache"
		for n := 2; t.hasLayer(name); n++ {
			name = "cache#" + strconv.Itoa(n)
		}
		o.Name = name
	} else if t.hasLayer(name) {
		return errors.Errorf("%s: add cache: name %q already in the chain: %w", t.name, name, errors.ErrExists)
	}
	l := &layer[T]{name: name}
	// Cache events go to the user's OnEvent and the type's hooks. Without either, no callback
	// is installed: the hit path stays the bare cache lookup. (A failed refresh is a failed
	// walk of the wizards, which warns on its own.)
	userEvent, hook := o.OnEvent, t.s.opts.Hooks.Cache
	switch {
	case hook != nil:
		o.OnEvent = func(ev cache.Event) {
			if isSnapshotEvent(ev.Kind) {
				later.run(func() { t.cacheEvent(userEvent, hook, ev) })
				return
			}
			t.cacheEvent(userEvent, hook, ev)
		}
	case userEvent != nil && o.Snapshot != nil:
		o.OnEvent = func(ev cache.Event) {
			if isSnapshotEvent(ev.Kind) {
				later.run(func() { userEvent(ev) })
				return
			}
			userEvent(ev)
		}
	case userEvent != nil:
		o.OnEvent = userEvent
	}
	if o.Snapshot != nil {
		sn := *o.Snapshot // the caller's stays as it was
		if sn.Marshal == nil && sn.Unmarshal == nil {
			sn.Marshal, sn.Unmarshal = t.snapshotCodec()
		}
		userSnapshotEvent := sn.OnEvent
		sn.OnEvent = func(ev cache.Event) {
			later.run(func() {
				if userSnapshotEvent != nil {
					userSnapshotEvent(ev)
				}
				t.logSnapshotEvent(ev)
			})
		}
		o.Snapshot = &sn
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
		return errors.Errorf("%s: add cache: %w", t.name, err)
	}
	l.cache = c
	t.append(l)
	return nil
}

// cacheEvent delivers ev to the user's OnEvent, then to the type's hook.
func (t *Type[T]) cacheEvent(userEvent func(cache.Event), hook func(CacheEvent), ev cache.Event) {
	if userEvent != nil {
		userEvent(ev)
	}
	hook(CacheEvent{Type: t.name, Event: ev})
}

func isSnapshotEvent(k cache.EventKind) bool {
	return k == cache.EventSnapshotRestored || k == cache.EventSnapshotError
}

// logSnapshotEvent logs a cache snapshot's trouble as a warning (rate-limited with the type's
// others), its restore at Info.
func (t *Type[T]) logSnapshotEvent(ev cache.Event) {
	switch ev.Kind {
	case cache.EventSnapshotError:
		t.warnf("cache snapshot error", "cache", ev.Cache, "err", ev.Err)
	case cache.EventSnapshotRestored:
		t.s.logger.Info("sorcery: cache restored from its snapshot", "type", t.name, "cache", ev.Cache,
			"objects", ev.Objects, "age", ev.Age.Round(time.Second))
	}
}

// deferred holds calls back until release, then makes them at once. A nil *deferred is not
// usable; the zero deferred holds.
type deferred struct {
	mu       sync.Mutex // guards calls and released
	calls    []func()
	released bool
}

// run calls f now if d was released, or at its release.
func (d *deferred) run(f func()) {
	d.mu.Lock()
	if !d.released {
		d.calls = append(d.calls, f)
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	f()
}

// release makes the calls held, in order, and lets later ones through.
func (d *deferred) release() {
	d.mu.Lock()
	calls := d.calls
	d.calls, d.released = nil, true
	d.mu.Unlock()
	for _, f := range calls {
		f()
	}
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
