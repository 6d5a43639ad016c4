package flight

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/gosorcery/gosorcery/errors"
)

// maxRounds bounds how many times a caller of [Inline.Do] joins a call that its leader
// abandons before it gives up.
const maxRounds = 100

// numBuckets is the number of buckets of an [Inline]: a power of two. Calls for keys in
// different buckets never share a lock.
const numBuckets = 64

// seed hashes the keys of every Inline to their buckets. It is set once, at start-up, and
// never changed.
var seed = maphash.MakeSeed()

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
// The running calls are kept in a fixed array of buckets by the hash of their key, each a
// short list under a lock of its own: registering an uncontended call costs a hash, two
// uncontended lock round trips and one small allocation (the call, with its context), with
// no map and no lock shared by every key.
//
// The zero Inline is ready to use.
type Inline[K comparable, V any] struct {
	buckets [numBuckets]bucket[K, V]
}

// bucket holds the running calls whose keys hash to it.
type bucket[K comparable, V any] struct {
	mu      sync.Mutex // guards every field below, and the fields of its calls marked so
	calls   *inlineCall[K, V]
	running int32      // calls of this bucket whose function has not returned yet
	closed  bool       // set by Close: Do refuses new calls
	idle    *sync.Cond // signalled when running drops to 0 after Close; made by Close
	_       [64 - 8 - 8 - 8 - 8]byte
}

type inlineCall[K comparable, V any] struct {
	ctx callCtx // the call's context: one allocation for both
	key K

	// Guarded by the bucket's mu.
	next    *inlineCall[K, V] // the bucket's next running call
	done    chan struct{}     // made by the first caller to join; closed when the call has ended
	waiting int               // callers waiting for the call's result, its leader not included
	res     *inlineResult[V]  // the result, kept once the call has ended if callers wait
}

// inlineResult is what a call ended with, kept for the callers waiting for it.
type inlineResult[V any] struct {
	val   V
	ok    bool
	err   error
	given bool // the call ended because its leader left: the callers waiting start it again
}

var errClosed error = errors.ErrClosed

func (g *Inline[K, V]) bucket(key K) *bucket[K, V] {
	return &g.buckets[maphash.Comparable(seed, key)&(numBuckets-1)]
}

// Do runs fn for key in the caller's goroutine, unless a call for key is running, in
// which case it waits for that call's result. shared reports whether the result came from
// a call another caller ran. When ctx ends first, Do returns ctx's cause. After
// [Inline.Close], Do returns [errors.ErrClosed] without calling fn.
//
// fn receives a context derived from ctx and cancelled by Close (with cause
// errors.ErrClosed); it must return once that context is done.
func (g *Inline[K, V]) Do(ctx context.Context, key K, fn func(ctx context.Context) (V, bool, error)) (v V, ok bool, err error, shared bool) {
	b := g.bucket(key)
	for range maxRounds {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return v, false, errors.ErrClosed, shared
		}
		c := b.calls
		for c != nil && c.key != key {
			c = c.next
		}
		if c == nil {
			v, ok, err = b.lead(ctx, key, fn) // unlocks b.mu
			return v, ok, err, shared
		}
		shared = true
		if c.done == nil {
			c.done = make(chan struct{})
		}
		c.waiting++
		done := c.done
		b.mu.Unlock()

		select {
		case <-done:
			// The call has ended: res is set and no longer changes.
			r := c.res
			b.mu.Lock()
			c.waiting--
			b.mu.Unlock()
			if !r.given {
				return r.val, r.ok, r.err, true
			}
			// The leader left before the call had an answer: start it again.
		case <-ctx.Done():
			b.mu.Lock()
			c.waiting--
			b.mu.Unlock()
			var zero V
			return zero, false, context.Cause(ctx), true
		}
	}
	var zero V
	return zero, false, context.Cause(ctx), shared
}

// lead runs fn for key as the leader of a new call. b.mu is held on entry and released.
func (b *bucket[K, V]) lead(ctx context.Context, key K, fn func(context.Context) (V, bool, error)) (v V, ok bool, err error) {
	c := &inlineCall[K, V]{key: key, next: b.calls}
	c.ctx.parent = ctx
	b.calls = c
	b.running++
	b.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // fn panicked: let the callers waiting start again
			b.end(c, v, false, nil, true)
		}
	}()
	v, ok, err = fn(&c.ctx)
	finished = true
	// An answer that came because the leader's ctx ended is no answer for the others.
	b.end(c, v, ok, err, !ok && err != nil && ctx.Err() != nil)
	return v, ok, err
}

// end takes call c off the bucket, publishes its result and wakes the callers waiting.
func (b *bucket[K, V]) end(c *inlineCall[K, V], v V, ok bool, err error, given bool) {
	c.ctx.end(callEnded)
	b.mu.Lock()
	for p := &b.calls; *p != nil; p = &(*p).next {
		if *p == c {
			*p = c.next
			break
		}
	}
	if c.done != nil {
		c.res = &inlineResult[V]{val: v, ok: ok, err: err, given: given}
		close(c.done)
	}
	b.running--
	if b.running == 0 && b.idle != nil {
		b.idle.Broadcast()
	}
	b.mu.Unlock()
}

// Close cancels the context of every running call with cause [errors.ErrClosed], waits
// until their functions have returned, and makes later calls of Do return
// errors.ErrClosed. Callers waiting in Do receive whatever the cancelled calls return.
// Close may be called more than once; every call waits for the running calls. It must not
// be called from a function running in Do: it would wait for itself.
func (g *Inline[K, V]) Close() {
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
		for b.running > 0 { // bounded by the running calls, which were just cancelled
			b.idle.Wait()
		}
		b.mu.Unlock()
	}
}
