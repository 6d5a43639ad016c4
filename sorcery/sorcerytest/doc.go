// Package sorcerytest is the contract every wizard must pass, like testing/fstest for file
// systems: a backend's tests call [Run] with a [Harness] that opens the wizard over a given
// set of records, and Run checks retrieval, search, writes, cancellation, concurrency and
// Close against it.
//
// Optional capabilities are tested only when the wizard has them: the search tests need a
// [sorcery.Searcher], the write tests a [sorcery.Writer] (and are skipped when its Create
// answers errors.ErrReadOnly), the Close tests an io.Closer. A [sorcery.ImmediateRetriever]
// must answer RetrieveNow, whenever it answers, as Retrieve does, in the retrieval,
// cancellation and Close tests.
//
// The records Run seeds use the fields named in [Columns]; allow is multi-valued (it repeats
// in a record), the others are single-valued. Numbers are stored as two-digit strings and
// LIKE and regex patterns are chosen so that a database comparing by column type or matching
// without case gives the same answers as one that does not. A backend with a schema (an SQL
// table) creates these columns.
package sorcerytest
