// Package flight coalesces concurrent calls for one key into a single execution, like
// golang.org/x/sync/singleflight, and still honours every caller's context: a caller whose
// ctx ends returns at once, and the shared call is cancelled only when every caller has left.
//
// The shared call runs under a context detached from any one caller (it keeps the first
// caller's values, not its deadline), so one impatient caller cannot fail the others.
//
// Every call runs in a goroutine the Group owns: [Group.Close] cancels the running calls, waits
// for them to return and refuses new ones, so a type that embeds a Group can stop cleanly.
package flight
