package flight

import (
	"context"
	"testing"
)

// benchVal is the size of a typical object: 72 bytes, returned through the call.
type benchVal struct {
	A, B string
	C    []string
	D    bool
	E    map[string]string
}

// benchFn is the work of the benchmarks' calls: it looks at its context and answers.
//
//go:noinline
func benchFn(ctx context.Context) (benchVal, bool, error) {
	if err := ctx.Err(); err != nil {
		return benchVal{}, false, err
	}
	return benchVal{A: "a", B: "b"}, true, nil
}

// BenchmarkInlineDo is the cost of one uncontended call of an Inline: BenchmarkInlineDirect
// plus registering the call, its context and ending it.
func BenchmarkInlineDo(b *testing.B) {
	var g Inline[benchVal]
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, err, _ := g.Do(ctx, "alice", benchFn); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// BenchmarkInlineDirect is the work of BenchmarkInlineDo without the Inline.
func BenchmarkInlineDirect(b *testing.B) {
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, err := benchFn(ctx); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
