package cachetest

import (
	"testing/synctest"
	"time"

	"github.com/gosorcery/gosorcery/cache"
)

// Advance moves a synctest bubble's clock on by d and lets the bubble's goroutines act on
// it. It must be called from inside the bubble.
func Advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// IDs returns the ids of entries, in order.
func IDs(entries []cache.Entry[string]) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}
