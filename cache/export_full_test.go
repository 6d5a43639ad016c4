package cache

// SetBeforeSetRefreshSwap sets a function that a reader starting a refresh of c's whole set
// calls after it found the set due and before it takes the refreshing flag. Call it before
// the cache is used.
func SetBeforeSetRefreshSwap[T any](c *Cache[T], f func()) { c.full.beforeSwap = f }
