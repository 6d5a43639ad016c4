package sorcery

import "context"

// Wizard is what every backend implements: a source of one object type, like an opened
// Asterisk sorcery wizard (one mapping line of sorcery.conf).
//
// Retrieve answers with a tri-state:
//
//	(rec, true, nil)     the object exists
//	(Record{}, false, nil) the source is sure it does not exist
//	(Record{}, false, err) the source could not answer
//
// A wizard that cannot reach its source must return an error, wrapping
// errors.ErrUnavailable when the failure is transient, and never report the object absent:
// a cache in front of it keeps serving on an error and drops the object on an absence.
// A cancelled ctx returns an error matching ctx.Err().
//
// A wizard may implement the optional interfaces [Searcher], [Writer], [Reloader] and
// io.Closer. The core discovers them by type assertion, through wrappers that are
// [Unwrapper]s (see [Capability]); users of a [Type] never need to. A wizard that answers
// from memory may also be an [ImmediateRetriever], which is asked of the wizard itself.
type Wizard interface {
	Retrieve(ctx context.Context, id string) (Record, bool, error)
}

// Searcher is a [Wizard] that can find objects by their fields or their id.
//
// Search returns every record that satisfies q, in any order. An empty Query matches every
// object. A wizard that is not a Searcher is skipped by [Type.Search]; when no wizard of a
// type is a Searcher, the search fails with errors.ErrUnsupported.
type Searcher interface {
	Search(ctx context.Context, q Query) ([]Record, error)
}

// Writer is a [Wizard] that can store objects.
//
// Create fails with errors.ErrExists when the id is taken; Update and Delete fail with
// errors.ErrNotFound when it is not. A wizard that is not a Writer (or that is mapped
// read-only) is skipped by writes through a [Type]; when no wizard of a type can be written,
// the write fails with errors.ErrReadOnly.
type Writer interface {
	Create(ctx context.Context, r Record) error
	Update(ctx context.Context, r Record) error
	Delete(ctx context.Context, id string) error
}

// Reloader is a [Wizard] that can re-read its source, as Asterisk's "module reload" does.
// [Sorcery.Reload] calls it; a wizard without it is left as it is. A Reload that fails keeps
// the wizard serving what it had.
type Reloader interface {
	Reload(ctx context.Context) error
}

// ImmediateRetriever is a [Wizard] that can tell, call by call, whether it answers a
// retrieval at once: from memory, without waiting for I/O, a timer, another goroutine or
// a lock held for longer than a copy. The config and memory wizards are.
//
// RetrieveNow answers as Retrieve would, with now true, when it can do so at once. When it
// cannot, it returns now false having done nothing, and the core calls Retrieve instead.
//
// A retrieval asks such wizards, and looks up caches, in the caller's goroutine without
// registering anything: only from the first wizard that cannot answer at once is its walk
// shared with the concurrent retrievals of the id and cancelled by [Sorcery.Close] (see
// [Type.Retrieve]). Sharing protects a source that can be slow; for one that answers at
// once it would cost more than the call it saves.
//
// The core uses RetrieveNow for a wizard w added to a type only when w is an
// ImmediateRetriever and w.AnswersFor(w) is true. AnswersFor reports whether the wizard
// as added is this wizard itself: a type that embeds it inherits RetrieveNow and
// AnswersFor even when it changes Retrieve, and AnswersFor, seeing another wizard, keeps
// it from being asked through a RetrieveNow that would bypass its Retrieve. For the same
// reason the capability is not looked up through [Unwrapper] chains: a wrapper may wait (a
// rate limit, a network hop) where the wizard it wraps would not. A wrapper that never
// waits implements both methods itself.
type ImmediateRetriever interface {
	RetrieveNow(ctx context.Context, id string) (rec Record, found bool, err error, now bool)
	AnswersFor(w Wizard) bool
}

// Unwrapper is a [Wizard] that wraps another, like HTTP middleware. Unwrap returns the
// wrapped wizard. The capabilities the wrapper does not implement itself are looked up on the
// wizard it wraps (see [Capability]).
type Unwrapper interface {
	Unwrap() Wizard
}

// maxUnwrap bounds the Unwrap chains [Capability] follows.
const maxUnwrap = 64

// Capability returns the wizard that implements the capability C — [Searcher], [Writer],
// [Reloader], io.Closer or any other interface — looking at w first, then down its
// [Unwrapper] chain, as http.ResponseController finds the optional methods of a
// ResponseWriter wrapped by middleware. ok is false when no wizard of the chain implements
// C.
//
// So a user's middleware (logging, tracing, rate limiting) needs to implement only Retrieve
// and Unwrap: the capabilities of the wizard it wraps stay visible, and are called on that
// wizard directly. A wrapper that must see those calls too, or keep a capability from the
// core, implements the method itself (a Writer that answers errors.ErrReadOnly, for
// instance). The core looks every capability up this way; so should code that serves a
// wizard it was given. The chain is followed at most 64 levels deep.
func Capability[C any](w Wizard) (c C, ok bool) {
	for range maxUnwrap {
		if w == nil {
			return c, false
		}
		if c, ok = w.(C); ok {
			return c, true
		}
		u, isWrapper := w.(Unwrapper)
		if !isWrapper {
			return c, false
		}
		w = u.Unwrap()
	}
	return c, false
}
