package snapshot

// SetBeforeRename sets a function that every write of s calls once the temporary file is
// written and synced, before it renames it over the snapshot: a crash point.
func SetBeforeRename[T any](s *Snapshot[T], f func(tmp string)) {
	s.sem <- struct{}{}
	s.beforeRename = f
	<-s.sem
}
