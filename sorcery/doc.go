// Package sorcery is the core of gosorcery: object types served by an ordered chain of
// wizards — config files, an HTTP provisioning service, SQL tables, memory — with memory
// caches in front, in the manner of Asterisk's sorcery, and with one difference that matters
// in production: every wizard tells "I failed" apart from "no such object".
//
// # Wizards
//
// A [Wizard] answers Retrieve with a tri-state:
//
//	(rec, true, nil)       the object exists
//	(Record{}, false, nil) the source is sure it does not exist
//	(Record{}, false, err) the source could not answer
//
// Everything else a wizard can do is an optional interface, found by type assertion like
// database/sql's driver interfaces:
//
//   - [Searcher]: without it, the wizard is skipped by [Type.Search]; a chain without any
//     Searcher fails searches with errors.ErrUnsupported.
//   - [Writer]: without it (or when mapped with [MappingOptions].ReadOnly), the wizard is
//     skipped by writes; a chain without any writable wizard fails them with
//     errors.ErrReadOnly.
//   - [BatchWriter]: a Writer that applies many writes all or nothing (one transaction).
//     Without it, [Type.WriteBatch] writes to the wizard one object at a time, in order,
//     stopping at the first failure and keeping the writes before it.
//   - [Reloader]: without it, [Sorcery.Reload] leaves the wizard as it is.
//   - io.Closer: without it, nothing is closed; with it, [Sorcery.Close] closes the wizard.
//   - [Unwrapper]: a wizard that wraps another, like HTTP middleware, says which.
//
// The backends live in their own packages (backends/memory, backends/config, backends/curl,
// backends/sqldb, backends/realtime); each passes the conformance suite of
// sorcery/sorcerytest.
//
// # Types and the chain
//
// [Register] adds an object type whose objects are Go values of type T, converted to and
// from records by a [Codec] (by default, struct tags read once: see [NewCodec]). The returned
// [Type] is the typed handle: [Type.AddWizard] appends to its chain, and [Type.Retrieve]
// walks it in order:
//
//   - a wizard that has the object answers;
//   - a wizard that does not have it passes to the next;
//   - a wizard that fails is remembered and the walk goes on (failover);
//   - when nothing was found and a wizard failed, the answer is (zero, false, err) — never a
//     silent "not found" — and err wraps an *errors.WizardError naming the wizard;
//   - when the object was found after a wizard failed, it is returned and the type is marked
//     degraded in [Sorcery.Stats].
//
// Concurrent retrievals of one id share one walk, from its first wizard that cannot answer at
// once (see [ImmediateRetriever]). [Type.Search] returns the sorted union of
// the Searchers' answers, the first wizard to supply an id winning. Writes go to every
// writable wizard and succeed when one of them took the write; observers ([Type.Observe]) are
// then told, asynchronously and in order. [Type.WriteBatch] applies a [Batch] of creates,
// updates and deletes at once: all or nothing on a [BatchWriter], caches and observers
// updated once, after the wizards are done.
//
// [Sorcery.Apply] and [Sorcery.ApplyConfig] build chains from sorcery.conf mapping lines with
// the wizard factories of [Options].Wizards; nothing registers itself globally.
//
// # Observability
//
// Every wizard call is counted in always-on counters, read by [Sorcery.Stats], and passed to
// [Hooks] when set. Warnings about failing sources go to the [Options].Logger, at most one per
// type per interval.
//
// # Concurrency
//
// A [Sorcery] and its types are safe for concurrent use. Close stops everything and is
// idempotent; later calls return errors.ErrClosed. The zero Sorcery is not usable: call [New].
package sorcery
