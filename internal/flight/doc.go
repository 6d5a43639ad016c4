// Package flight coalesces concurrent calls for one key into a single execution, like
// golang.org/x/sync/singleflight, and still honours every caller's context: a caller whose
// ctx ends returns at once, and no caller leaving fails the others.
//
// It has two shapes. [Group] runs every call in a goroutine it owns, under a context
// detached from any one caller (it keeps the first caller's values, not its deadline), and
// cancels it only when every caller has left. [Inline] runs the call in the goroutine of the
// caller that starts it, so an uncontended call costs no goroutine and no channel; when that
// caller leaves early, one of those waiting starts the call again.
//
// Both own their calls: Close cancels the running calls, waits for them to return and
// refuses new ones, so a type that embeds one can stop cleanly.
package flight
