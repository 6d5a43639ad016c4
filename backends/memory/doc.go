// Package memory provides an in-memory wizard: every capability of a sorcery wizard, safe for
// concurrent use, with fault injection for tests.
//
// A [Wizard] holds records in a map. It implements [sorcery.Wizard], [sorcery.Searcher],
// [sorcery.Writer], [sorcery.Reloader] and io.Closer, and searches with every operator of
// [sorcery.Op], IDRegex and IDPrefix.
//
// Tests use it to stand in for a real source and to make that source fail: [Wizard.SetError]
// makes every call fail with an error (nil restores), [Wizard.SetDelay] slows every call down
// while still honouring the caller's ctx, and [Wizard.Calls] counts the calls per operation.
//
// Use [New] to make one; the zero Wizard is not ready to use. [Factory] serves the "memory"
// wizard name of sorcery.conf mappings.
package memory
