package sorcery

import (
	"context"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
)

// The one walk of the chain. A retrieval visits the layers in order; each wizard is asked
// at most once, wherever the caches stand:
//
//   - a cache answers when it holds the id (a stale entry is served and its refresh
//     queued) or remembers its absence; it misses otherwise, and the walk goes on;
//   - a wizard that finds the object answers; (false, nil) and errors go on to the next;
//   - what the walk finds is stored in the caches that missed on the way (cache.Store, with
//     the Miss of their look-up) and pushed to the caches behind the layer that answered,
//     which the walk did not reach (Set, or SetDegraded);
//   - "degraded" (found after a wizard failed) is stored in every cache the same way:
//     living on an extension, re-checked after ErrorRecheck.
//
// A walk is shared by the concurrent retrievals of its id, and registered for Close to
// cancel, from its first wizard that cannot answer at once (walkShared); the layers before
// it, caches and ImmediateRetrievers, are visited by each caller in its own goroutine.
//
// A background refresh of a cache (its LoadFunc, [Type.loadFor]) asks the wizards only,
// in order, caches skipped, like Asterisk's memory_cache stale refresh, which retrieves
// through the whole sorcery with every memory cache passed through.

// visited is a cache the walk looked up and found nothing in.
type visited[T any] struct {
	c    *cache.Cache[T]
	miss cache.Miss
}

// walk visits the layers of ls in order for id (see [Type.Retrieve]), writing what it
// finds into *out. first is the Miss of ls[0], a cache that Retrieve looked up already, or
// the zero Miss.
//
// The walk is shared by the concurrent retrievals of id (and registered for Close to
// cancel) from the first wizard that cannot answer at once: until then, it looks up
// caches and asks [ImmediateRetriever]s, which answer from memory without waiting, in the
// caller's goroutine, with nothing to share and nothing to cancel. A walk that needs no
// other wizard is never registered.
func (t *Type[T]) walk(ctx context.Context, id string, ls []*layer[T], first cache.Miss, out *T) (bool, error) {
	var buf [4]visited[T]
	return t.steps(ctx, id, ls, 0, first, nil, buf[:0], out, false)
}

// walkShared goes on with the walk of id at ls[at] (see [Type.walk]) as the leader of the
// call for id, or waits for the walk of the caller that leads it and takes its answer.
// errs and missed are what the walk met before ls[at].
func (t *Type[T]) walkShared(ctx context.Context, id string, ls []*layer[T], at int, errs []error, missed []visited[T], out *T) (bool, error) {
	l, found, err, _ := t.walks.Lead(ctx, id, out)
	if !l.Leads() {
		return found, err
	}
	ended := false
	defer func() {
		if !ended { // the walk panicked: the callers waiting start it again
			l.Abandon()
		}
	}()
	found, err = t.steps(l.Context(), id, ls, at, cache.Miss{}, errs, missed, out, true)
	ended = true
	l.End(out, found, err)
	return found, err
}

// steps visits ls[from:] for id, writing what it finds into *out: see [Type.walk] for
// first, walkShared for errs and missed. Unless shared, it hands the walk over to
// walkShared at the first wizard that cannot answer at once.
func (t *Type[T]) steps(ctx context.Context, id string, ls []*layer[T], from int, first cache.Miss, errs []error, missed []visited[T], out *T, shared bool) (bool, error) {
	for i := from; i < len(ls); i++ {
		l := ls[i]
		if c := l.cache; c != nil {
			var found bool
			m := first
			if i > 0 || !m.Missed() {
				*out, found, m = c.Lookup(ctx, id)
			}
			if m.Missed() {
				missed = append(missed, visited[T]{c, m})
				continue
			}
			// The cache answers. What it holds is stored in the caches before it; an
			// absence it remembers is no answer when a wizard before it failed.
			err := errors.Join(errs...)
			for _, mc := range missed {
				mc.c.Store(ctx, id, *out, found, err, mc.miss)
			}
			t.setDegraded(errs)
			if !found {
				return false, err
			}
			return true, nil
		}
		var found, asked bool
		var err error
		if shared {
			found, err, asked = t.ask(ctx, l, id, out, false)
		} else if l.now != nil {
			found, err, asked = t.ask(ctx, l, id, out, true)
		}
		switch {
		case !asked:
			return t.walkShared(ctx, id, ls, i, errs, missed, out)
		case err != nil:
			if ctx.Err() != nil {
				return false, context.Cause(ctx)
			}
			errs = append(errs, err)
			continue
		case !found:
			continue
		}
		err = errors.Join(errs...)
		for _, mc := range missed {
			mc.c.Store(ctx, id, *out, true, err, mc.miss)
		}
		t.pushAfter(id, *out, err != nil, ls[i+1:])
		t.setDegraded(errs)
		return true, nil
	}
	var zero T
	*out = zero
	err := errors.Join(errs...)
	if ctx.Err() == nil {
		for _, mc := range missed {
			mc.c.Store(ctx, id, zero, false, err, mc.miss)
		}
	}
	t.setDegraded(errs)
	return false, err
}

// askWizards asks the wizards of the chain in order for id, caches skipped: the walk of a
// cache's background refresh. It returns the first object found, with the errors of the
// wizards that failed before it (a degraded answer), or, when none has it, the errors of
// those that failed.
func (t *Type[T]) askWizards(ctx context.Context, id string) (v T, found bool, err error) {
	var errs []error
	for _, l := range t.layers() {
		if l.wizard == nil {
			continue
		}
		found, err, _ := t.ask(ctx, l, id, &v, false)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return v, false, context.Cause(ctx)
			}
			errs = append(errs, err)
		case found:
			t.setDegraded(errs)
			return v, true, errors.Join(errs...)
		}
	}
	t.setDegraded(errs)
	return v, false, errors.Join(errs...)
}

// ask asks one wizard for id and decodes its answer into *out, which it leaves alone
// when the wizard does not have the object or fails, and sets to the zero T when the
// record does not decode. A failure comes back as an *errors.WizardError; a record that
// does not decode is the wizard's failure, not an absence.
//
// With now, the wizard is asked through [ImmediateRetriever.RetrieveNow]: asked is false
// when it could not answer at once, and nothing is counted then. Otherwise asked is true.
func (t *Type[T]) ask(ctx context.Context, l *layer[T], id string, out *T, now bool) (found bool, err error, asked bool) {
	// A fast wizard's retrievals are timed one in sampleEvery: reading the clock costs more
	// than the rest of the walk (see Histogram).
	weight, stripe := l.counters.retrievalWeight(t.s.opts.Hooks.WizardCall != nil)
	var start time.Time
	if weight > 0 {
		start = time.Now()
	}
	var rec Record
	if now {
		if rec, found, err, asked = l.now.RetrieveNow(ctx, id); !asked {
			return false, nil, false
		}
	} else {
		rec, found, err = l.wizard.Retrieve(ctx, id)
	}
	switch {
	case err != nil:
		t.observeRetrieve(l, id, weight, stripe, start, OutcomeError, err)
		return false, t.wizardError(l, OperationRetrieve, id, err), true
	case !found:
		t.observeRetrieve(l, id, weight, stripe, start, OutcomeNotFound, nil)
		return false, nil, true
	}
	if rec.ID == "" {
		rec.ID = id
	}
	if err := t.decodeFrom(l.wizard, rec, out); err != nil {
		t.observeRetrieve(l, id, weight, stripe, start, OutcomeError, err)
		return false, t.wizardError(l, OperationRetrieve, id, err), true
	}
	t.observeRetrieve(l, id, weight, stripe, start, OutcomeFound, nil)
	return true, nil, true
}

// observeRetrieve counts a retrieval, timed from start unless weight is 0 (and counted in
// the given stripe then).
func (t *Type[T]) observeRetrieve(l *layer[T], id string, weight uint64, stripe uint32, start time.Time, out Outcome, err error) {
	if weight == 0 {
		l.counters.countRetrieval(stripe, out, err)
		return
	}
	t.observeTimed(l, OperationRetrieve, id, start, out, err, weight)
}

// loadFor returns the LoadFunc of the cache layer self: a background refresh (or a Get on
// the cache itself) asks the type's wizards in order, caches skipped, and an object found
// is pushed to the type's other caches, as Asterisk's stale refresh creates the object it
// retrieved in every cache of the type.
func (t *Type[T]) loadFor(self *layer[T]) cache.LoadFunc[T] {
	return func(ctx context.Context, id string) (T, bool, error) {
		v, found, err := t.askWizards(ctx, id)
		if found {
			for _, l := range t.layers() {
				if l != self {
					pushInto(l, id, v, err != nil)
				}
			}
		}
		return v, found, err
	}
}

// pushAfter stores an object found by a wizard into the caches of ls, which the walk did
// not reach.
func (t *Type[T]) pushAfter(id string, v T, degraded bool, ls []*layer[T]) {
	for _, l := range ls {
		pushInto(l, id, v, degraded)
	}
}

// pushInto stores an object found elsewhere into l if l is a cache: as found, or, when a
// wizard failed before it was found, as a degraded answer (cache.Cache.SetDegraded).
func pushInto[T any](l *layer[T], id string, v T, degraded bool) {
	switch {
	case l.cache == nil:
	case degraded:
		l.cache.SetDegraded(id, v)
	default:
		l.cache.Set(id, v)
	}
}
