package cache

// SetBeforeRename sets a function that every snapshot write of c calls once the temporary
// file is written and synced, before it renames it over the snapshot: a crash point.
func SetBeforeRename[T any](c *Cache[T], f func(tmp string)) {
	c.snap.mu.Lock()
	c.snap.beforeRename = f
	c.snap.mu.Unlock()
}
