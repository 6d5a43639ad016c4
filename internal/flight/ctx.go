package flight

import (
	"context"
	"sync/atomic"
	"time"
)

// The states of a callCtx.
const (
	callRunning int32 = iota
	callEnded         // the call returned: its context is cancelled, with no cause of its own
	callClosed        // Inline.Close cancelled it, with cause errors.ErrClosed
)

// callCtx is the context of a call of an [Inline] ([Leader.Context]): its leader's ctx,
// also cancelled by [Inline.Close] and when the call has returned. It costs one small
// allocation, and no lock and no registration with the leader's ctx as long as nobody asks
// for its Done channel: a call that only checks Err (a memory wizard, a decoder) never
// derives a context. The first Done, or any look at it once it has been cancelled, derives
// a real cancellable context from the leader's ctx and delegates to it from then on, so
// context.Cause and the contexts derived from it work as with context.WithCancelCause.
type callCtx struct {
	parent context.Context
	state  atomic.Int32               // callRunning, callEnded or callClosed
	merged atomic.Pointer[derivedCtx] // set once
}

// derivedCtx is the context a callCtx delegates to once derived.
type derivedCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (c *callCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *callCtx) Done() <-chan struct{} { return c.merge().Done() }

func (c *callCtx) Err() error {
	if m := c.merged.Load(); m != nil {
		return m.ctx.Err()
	}
	if c.state.Load() != callRunning {
		return c.merge().Err()
	}
	return c.parent.Err()
}

func (c *callCtx) Value(key any) any {
	if m := c.merged.Load(); m != nil {
		return m.ctx.Value(key)
	}
	// context.Cause calls Err first, which derives the context once c is cancelled: the
	// cause is then found through the derived context.
	return c.parent.Value(key)
}

func (c *callCtx) String() string { return "flight call context" }

// merge returns the context derived from the leader's ctx that c delegates to, deriving it
// on the first call. No lock is held: two goroutines may derive one each, the first stored
// wins and the other is cancelled.
func (c *callCtx) merge() context.Context {
	if m := c.merged.Load(); m != nil {
		return m.ctx
	}
	ctx, cancel := context.WithCancelCause(c.parent)
	m := &derivedCtx{ctx, cancel}
	if !c.merged.CompareAndSwap(nil, m) {
		cancel(nil)
		return c.merged.Load().ctx
	}
	// end stores the state before it loads merged, and merge stores merged before it loads
	// the state: one of them at least sees the other and cancels (twice is harmless).
	cancelFor(cancel, c.state.Load())
	return ctx
}

// end cancels c: state is callEnded or callClosed. The first cancellation wins.
func (c *callCtx) end(state int32) {
	if !c.state.CompareAndSwap(callRunning, state) {
		return
	}
	if m := c.merged.Load(); m != nil {
		cancelFor(m.cancel, state)
	}
}

// cancelFor cancels a derived context as state says; it does nothing for callRunning.
func cancelFor(cancel context.CancelCauseFunc, state int32) {
	switch state {
	case callEnded:
		cancel(nil)
	case callClosed:
		cancel(errClosed)
	}
}
