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
	c, err := cache.New(loadLen, &cache.Options{LifetimeStale: time.Hour, LifetimeMaximum: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := benchKeyNames()
	for i, k := range keys {
		c.Set(k, i)
	}
	benchReads(b, keys, func(ctx context.Context, id string) bool {
		_, ok, _ := c.Lookup(ctx, id)
		return ok
	})
}
