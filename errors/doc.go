// Package errors is gosorcery's error vocabulary: a drop-in superset of the standard
// library's errors package.
//
// It re-exports [New], [Is], [As], [Join] and [Unwrap], so a file that imports it never needs
// the standard package too, and adds the sentinels every wizard, cache and type uses to say
// what went wrong, and [WizardError], which says where.
//
// Match with [Is] and [As], never on message text:
//
//	if errors.Is(err, errors.ErrUnavailable) {
//		// the source is down; a cache keeps serving
//	}
//
// Messages name the library once, at their start: "sorcery: endpoint wizard sqldb: retrieve
// "alice": column "x": invalid". The sentinels and the outermost error write "sorcery: ";
// an error wrapping another writes the inner one by [Detail], without it. The library's own
// wrappers are made with [Errorf], or implement [Detailer].
//
// Absence is not an error: a retrieval that finds nothing answers found == false with a nil
// error, never [ErrNotFound]. [ErrNotFound] is reserved for writes (update, delete) that name
// an object that does not exist.
package errors
