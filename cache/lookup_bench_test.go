package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/cache"
)

// BenchmarkLookupHit reads 16,384 resident keys through Lookup, the path of a type's walk
// answered by its cache, from every goroutine of b.RunParallel: as Get's hit path, no lock
// and no allocation.
func BenchmarkLookupHit(b *testing.B) {
	c, keys := residentCache(b, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour})
	benchReads(b, keys, func(ctx context.Context, id string) bool {
		_, ok, _ := c.Lookup(ctx, id)
		return ok
	})
}
