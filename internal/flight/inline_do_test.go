package flight

import "context"

// Do runs fn as the work of the call for key: [Inline.Lead], fn and [Leader.End] as one call,
// the way Type.Retrieve uses them, with a panic of fn abandoning the call. It is the tests'
// way in.
func (g *Inline[V]) Do(ctx context.Context, key string, fn func(ctx context.Context) (V, bool, error)) (v V, ok bool, err error, shared bool) {
	l, ok, err, shared := g.Lead(ctx, key, &v)
	if !l.Leads() {
		return v, ok, err, shared
	}
	ended := false
	defer func() {
		if !ended {
			l.Abandon()
		}
	}()
	v, ok, err = fn(l.Context())
	ended = true
	l.End(&v, ok, err)
	return v, ok, err, shared
}
