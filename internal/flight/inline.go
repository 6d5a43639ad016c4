package flight

import (
	"context"
	"sync"

	"github.com/gosorcery/gosorcery/errors"
)

// maxRounds bounds how many times a caller of [Inline.Do] joins a call that its leader
// abandons before it gives up.
const maxRounds = 100

// Inline runs at most one call per key at a time, like [Group], but in the goroutine of
// the caller that starts it (the call's leader): an uncontended Do starts no goroutine and
// makes no channel. Callers that come while it runs wait for its result; each of them
// still returns as soon as its own ctx ends.
//
// The call runs under the leader's ctx (its values and its deadline), also cancelled by
// [Inline.Close]. When the leader's ctx ends before the call has an answer, the call ends
// with it and the leader returns; the callers waiting are not failed by that: one of them
// starts the call again, as its own leader, and the others join it. So a caller leaving
// never fails the others, and the call is cancelled at the latest when the last caller
// leaves.
//
// The zero Inline is ready to use.
type Inline[K comparable, V any] struct {
	mu      sync.Mutex // guards calls, closed, running, and the fields of every call marked so
	calls   map[K]*inlineCall[V]
	closed  bool
	running int        // calls whose function has not returned yet
	idle    *sync.Cond // signalled when running drops to 0 after Close; made by Close
	pool    sync.Pool  // *inlineCall[V] no caller refers to any more
}

type inlineCall[V any] struct {
	ctx *callCtx // the call's context; set before it is published

	// Guarded by Inline.mu.
	done     chan struct{} // made by the first caller to join; closed when the call has ended
	waiting  int           // callers waiting for the call's result, its leader not included
	ended    bool
	val      V
	ok       bool
	err      error
	given    bool // the call ended because its leader left: the callers waiting start it again
	released bool // back in the pool (a check against reuse while referred to)
}

var errClosed error = errors.ErrClosed

// Do runs fn for key in the caller's goroutine, unless a call for key is running, in
// which case it waits for that call's result. shared reports whether the result came from
// a call another caller ran. When ctx ends first, Do returns ctx's cause. After
// [Inline.Close], Do returns [errors.ErrClosed] without calling fn.
//
// fn receives a context derived from ctx and cancelled by Close (with cause
// errors.ErrClosed); it must return once that context is done.
func (g *Inline[K, V]) Do(ctx context.Context, key K, fn func(ctx context.Context) (V, bool, error)) (v V, ok bool, err error, shared bool) {
	for range maxRounds {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return v, false, errors.ErrClosed, shared
		}
		c := g.calls[key]
		if c == nil {
			v, ok, err = g.lead(ctx, key, fn) // unlocks g.mu
			return v, ok, err, shared
		}
		shared = true
		if c.done == nil {
			c.done = make(chan struct{})
		}
		c.waiting++
		done := c.done
		g.mu.Unlock()

		select {
		case <-done:
			g.mu.Lock()
			v, ok, err, given := c.val, c.ok, c.err, c.given
			g.leave(c)
			g.mu.Unlock()
			if !given {
				return v, ok, err, true
			}
			// The leader left before the call had an answer: start it again.
		case <-ctx.Done():
			g.mu.Lock()
			g.leave(c)
			g.mu.Unlock()
			var zero V
			return zero, false, context.Cause(ctx), true
		}
	}
	var zero V
	return zero, false, context.Cause(ctx), shared
}

// lead runs fn for key as the leader of a new call. g.mu is held on entry and released.
func (g *Inline[K, V]) lead(ctx context.Context, key K, fn func(context.Context) (V, bool, error)) (v V, ok bool, err error) {
	c, _ := g.pool.Get().(*inlineCall[V])
	if c == nil {
		c = new(inlineCall[V])
	}
	*c = inlineCall[V]{}
	runCtx := &callCtx{parent: ctx}
	c.ctx = runCtx
	if g.calls == nil {
		g.calls = make(map[K]*inlineCall[V])
	}
	g.calls[key] = c
	g.running++ // a counter under mu rather than a WaitGroup: two atomic operations less
	g.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // fn panicked: let the callers waiting start again
			g.end(key, c, v, false, nil, true)
		}
	}()
	v, ok, err = fn(runCtx)
	finished = true
	// An answer that came because the leader's ctx ended is no answer for the others.
	g.end(key, c, v, ok, err, !ok && err != nil && ctx.Err() != nil)
	return v, ok, err
}

// end publishes the result of call c for key and wakes the callers waiting.
func (g *Inline[K, V]) end(key K, c *inlineCall[V], v V, ok bool, err error, given bool) {
	c.ctx.end(callEnded)
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	c.val, c.ok, c.err, c.given, c.ended = v, ok, err, given, true
	if c.done != nil {
		close(c.done)
	}
	g.release(c)
	g.running--
	if g.running == 0 && g.idle != nil {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// leave takes a waiting caller off c. The caller holds g.mu.
func (g *Inline[K, V]) leave(c *inlineCall[V]) {
	c.waiting--
	g.release(c)
}

// release puts c back in the pool once it has ended and nobody waits for it. The caller
// holds g.mu.
func (g *Inline[K, V]) release(c *inlineCall[V]) {
	if !c.ended || c.waiting > 0 || c.released {
		return
	}
	c.released = true
	var zero V
	c.val, c.err, c.ctx = zero, nil, nil
	g.pool.Put(c)
}

// Close cancels the context of every running call with cause [errors.ErrClosed], waits
// until their functions have returned, and makes later calls of Do return
// errors.ErrClosed. Callers waiting in Do receive whatever the cancelled calls return.
// Close may be called more than once; every call waits for the running calls. It must not
// be called from a function running in Do: it would wait for itself.
func (g *Inline[K, V]) Close() {
	g.mu.Lock()
	g.closed = true
	for _, c := range g.calls {
		c.ctx.end(callClosed)
	}
	if g.idle == nil {
		g.idle = sync.NewCond(&g.mu)
	}
	for g.running > 0 { // bounded by the running calls, which were just cancelled
		g.idle.Wait()
	}
	g.mu.Unlock()
}
