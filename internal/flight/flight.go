package flight

import (
	"context"
	"sync"

	"github.com/gosorcery/gosorcery/errors"
)

// Group runs at most one call per key at a time. The zero Group is ready to use.
type Group[K comparable, V any] struct {
	mu        sync.Mutex // guards calls, forgotten, closed and the Add side of wg
	calls     map[K]*call[V]
	forgotten map[*call[V]]struct{} // running calls removed by Forget, still cancelled by Close
	closed    bool
	wg        sync.WaitGroup // counts running call goroutines
}

type call[V any] struct {
	done   chan struct{}
	cancel context.CancelFunc
	refs   int // callers still waiting; guarded by Group.mu
	val    V
	ok     bool
	err    error
}

// Do runs fn for key unless a call for key is already running, in which case it waits for
// that call's result. shared reports whether the result came from a call started by another
// caller. When ctx ends first, Do returns ctx's error; fn's context is cancelled once no
// caller is waiting any more. After [Group.Close], Do returns [errors.ErrClosed] without
// calling fn.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(ctx context.Context) (V, bool, error)) (v V, ok bool, err error, shared bool) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return v, false, errors.ErrClosed, false
	}
	if g.calls == nil {
		g.calls = make(map[K]*call[V])
	}
	c, running := g.calls[key]
	if running {
		c.refs++
	} else {
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call[V]{done: make(chan struct{}), cancel: cancel, refs: 1}
		g.calls[key] = c
		g.wg.Add(1) // under mu with closed false: never races with Close's Wait
		go g.run(runCtx, key, c, fn)
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		g.mu.Lock()
		c.refs--
		g.mu.Unlock()
		return c.val, c.ok, c.err, running
	case <-ctx.Done():
		g.mu.Lock()
		c.refs--
		if c.refs == 0 {
			// Nobody waits any more: stop the call, and let the next caller start afresh
			// instead of joining a call that is being cancelled.
			c.cancel()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		var zero V
		return zero, false, context.Cause(ctx), running
	}
}

func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], fn func(context.Context) (V, bool, error)) {
	defer g.wg.Done()
	defer c.cancel()
	c.val, c.ok, c.err = fn(ctx)
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	delete(g.forgotten, c)
	g.mu.Unlock()
	close(c.done)
}

// Forget makes the next Do for key start a new call even if one is still running.
func (g *Group[K, V]) Forget(key K) {
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		delete(g.calls, key)
		if g.forgotten == nil {
			g.forgotten = make(map[*call[V]]struct{})
		}
		g.forgotten[c] = struct{}{}
	}
	g.mu.Unlock()
}

// Close cancels the context of every running call, waits until their functions have
// returned, and makes later calls of Do return [errors.ErrClosed]. Callers waiting in Do
// receive whatever the cancelled calls return. Close may be called more than once; every
// call waits for the running calls.
func (g *Group[K, V]) Close() {
	g.mu.Lock()
	g.closed = true
	for _, c := range g.calls {
		c.cancel()
	}
	for c := range g.forgotten {
		c.cancel()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
