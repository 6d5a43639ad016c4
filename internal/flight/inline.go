package flight

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/gosorcery/gosorcery/errors"
)

// maxRounds bounds how many times a caller of [Inline.Lead] joins a call that its leader
// abandons before it gives up.
const maxRounds = 100

// numBuckets is the number of buckets of an [Inline]: a power of two. Calls for keys in
// different buckets never share a lock.
const numBuckets = 64

// seed hashes the keys of every Inline to their buckets. It is set once, at start-up, and
// never changed.
var seed = maphash.MakeSeed()

// Inline runs at most one call per key at a time, like [Group], but in the goroutine of
// the caller that starts it (the call's leader): an uncontended call starts no goroutine
// and makes no channel. Callers that come while it runs wait for its result; each of them
// still returns as soon as its own ctx ends.
//
// The leader runs the call's work itself, between [Inline.Lead] and [Leader.End], so that
// neither the work nor its result goes through a function value: the result can be built
// in the leader's own frame, and is copied only for the callers waiting, when there are
// some.
//
// The call runs under the leader's ctx (its values and its deadline), also cancelled by
// [Inline.Close]. When the leader's ctx ends before the call has an answer, the call ends
// with it and the leader returns; the callers waiting are not failed by that: one of them
// starts the call again, as its own leader, and the others join it. So a caller leaving
// never fails the others, and the call is cancelled at the latest when the last caller
// leaves.
//
// The running calls are kept in a fixed array of buckets by the hash of their key, each a
// short list under a lock of its own: registering an uncontended call costs a hash, two
// uncontended lock round trips and one allocation of 64 bytes (the call, with its
// context), with no map and no lock shared by every key.
//
// The zero Inline is ready to use.
type Inline[V any] struct {
	buckets [numBuckets]bucket[V]
}

// bucket holds the running calls whose keys hash to it.
type bucket[V any] struct {
	mu     sync.Mutex     // guards every field below, and the fields of its calls marked so
	calls  *inlineCall[V] // the calls whose work has not returned yet
	closed bool           // set by Close: Lead refuses new calls
	idle   *sync.Cond     // signalled when calls drops to nil after Close; made by Close
	_      [64 - 8 - 8 - 8 - 8]byte
}

// inlineCall is a call of an [Inline] that its leader runs: see [Inline.Lead].
type inlineCall[V any] struct {
	ctx callCtx // the call's context: one allocation for both
	key string

	// Guarded by the bucket's mu.
	next *inlineCall[V] // the bucket's next running call
	wait *waitingFor[V] // made by the first caller to join
}

// waitingFor is what the callers that join a call share.
type waitingFor[V any] struct {
	done    chan struct{}    // closed when the call has ended
	waiting int              // callers waiting for the call's result, its leader not included
	res     *inlineResult[V] // the result, set before done is closed
}

// inlineResult is what a call ended with, kept for the callers waiting for it.
type inlineResult[V any] struct {
	val   V
	ok    bool
	err   error
	given bool // the call ended because its leader left: the callers waiting start it again
}

var errClosed error = errors.ErrClosed

func (g *Inline[V]) bucket(key string) *bucket[V] {
	return &g.buckets[maphash.String(seed, key)&(numBuckets-1)]
}

// Lead makes the caller the leader of a new call for key, unless a call for key is
// running, in which case it waits for that call's result.
//
// A Leader that [Leader.Leads] means no call for key was running: the caller runs the
// work itself, in its own goroutine, under [Leader.Context], and then calls [Leader.End]
// exactly once, or [Leader.Abandon] when the work panics. Otherwise the caller's part is over: ok and err
// are what the call it joined ended with and its value is written to *out; or err is
// ctx's cause when ctx ended first; or [errors.ErrClosed] after [Inline.Close]. shared
// reports whether the caller waited for a call that another caller ran, even if it then
// became the leader of a new one.
func (g *Inline[V]) Lead(ctx context.Context, key string, out *V) (l Leader[V], ok bool, err error, shared bool) {
	b := g.bucket(key)
	for range maxRounds {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return l, false, errors.ErrClosed, shared
		}
		c := b.calls
		for c != nil && c.key != key {
			c = c.next
		}
		if c == nil {
			c = &inlineCall[V]{ctx: callCtx{parent: ctx}, key: key, next: b.calls}
			b.calls = c
			b.mu.Unlock()
			return Leader[V]{c, b}, false, nil, shared
		}
		shared = true
		w := c.wait
		if w == nil {
			w = &waitingFor[V]{done: make(chan struct{})}
			c.wait = w
		}
		w.waiting++
		b.mu.Unlock()

		select {
		case <-w.done:
			// The call has ended: res is set and no longer changes.
			r := w.res
			b.mu.Lock()
			w.waiting--
			b.mu.Unlock()
			if !r.given {
				*out = r.val
				return l, r.ok, r.err, true
			}
			// The leader left before the call had an answer: start it again.
		case <-ctx.Done():
			b.mu.Lock()
			w.waiting--
			b.mu.Unlock()
			return l, false, context.Cause(ctx), true
		}
	}
	return l, false, context.Cause(ctx), shared
}

// Leader is what [Inline.Lead] gives the caller that leads a new call: the call, and the
// bucket that holds it, so that ending it needs no second hash of its key.
type Leader[V any] struct {
	c *inlineCall[V]
	b *bucket[V]
}

// Leads reports whether the caller leads a new call: it runs the call's work, then ends it.
func (l Leader[V]) Leads() bool { return l.c != nil }

// Context returns the context the leader runs the call's work under: its own ctx (values
// and deadline), also cancelled by [Inline.Close] (with cause [errors.ErrClosed]) and once
// the call has ended. The work must return once it is done.
func (l Leader[V]) Context() context.Context { return &l.c.ctx }

// End ends the call with the leader's result: *v (read only when callers wait for it), ok
// and err. An error that came because the leader's ctx ended is no answer for the callers
// waiting: they start the call again, as [Inline] says.
func (l Leader[V]) End(v *V, ok bool, err error) {
	l.end(v, ok, err, !ok && err != nil && l.c.ctx.parent.Err() != nil)
}

// Abandon ends the call without a result, for a leader whose work panicked: the callers
// waiting start it again.
func (l Leader[V]) Abandon() {
	l.end(nil, false, nil, true)
}

// end takes the call off its bucket, publishes its result and wakes the callers waiting.
func (l Leader[V]) end(v *V, ok bool, err error, given bool) {
	c, b := l.c, l.b
	c.ctx.end(callEnded)
	b.mu.Lock()
	for p := &b.calls; *p != nil; p = &(*p).next {
		if *p == c {
			*p = c.next
			break
		}
	}
	if w := c.wait; w != nil {
		r := &inlineResult[V]{ok: ok, err: err, given: given}
		if !given {
			r.val = *v
		}
		w.res = r
		close(w.done)
	}
	if b.calls == nil && b.idle != nil {
		b.idle.Broadcast()
	}
	b.mu.Unlock()
}

// Close cancels the context of every running call with cause [errors.ErrClosed], waits
// until their work has returned, and makes later calls of Lead return errors.ErrClosed.
// Callers waiting in Lead receive whatever the cancelled calls return. Close may be
// called more than once; every call waits for the running calls. It must not be called
// from a call's work: it would wait for itself.
func (g *Inline[V]) Close() {
	for i := range g.buckets {
		b := &g.buckets[i]
		b.mu.Lock()
		b.closed = true
		for c := b.calls; c != nil; c = c.next {
			c.ctx.end(callClosed)
		}
		b.mu.Unlock()
	}
	for i := range g.buckets {
		b := &g.buckets[i]
		b.mu.Lock()
		if b.idle == nil {
			b.idle = sync.NewCond(&b.mu)
		}
		for b.calls != nil { // bounded by the running calls, which were just cancelled
			b.idle.Wait()
		}
		b.mu.Unlock()
	}
}
