// Package snapshot keeps the last-known-good objects of a [cache.Cache] in a file, so that
// a process that restarts while its source is down still serves what it served before.
//
//	c, err := cache.New(load, opts)
//	…
//	snap, err := snapshot.New(c, "/var/lib/sip/endpoint.snap", nil) // checks the path, reads nothing
//	…
//	n, err := snap.Restore(ctx) // an explicit step: before the cache serves, or soon after
//	…
//	defer c.Close()
//	defer snap.Close() // first: it writes what the cache holds
//
// It is built on the public API of package cache alone ([cache.Cache.Version],
// [cache.Cache.Export], [cache.Cache.Restore] and [cache.Cache.RestoreSet]), and encodes
// the objects with a typed [Codec]: encoding/json ([JSON]) unless told otherwise. Package
// sorcery stores them as the records the type's codec encodes them to.
//
// # Writing
//
// A goroutine of the Snapshot writes the file every Options.Interval when the cache
// changed since the last write ([cache.Cache.Version]), Close writes it a last time, and
// [Snapshot.Write] writes it on demand. The file is replaced atomically (a temporary file in
// the same directory, written, synced, renamed over the old one, and the directory synced),
// so a crash leaves either the old file or the new one, never a torn one; temporary files a
// crash left are removed by the next Restore. It is created with mode 0600: cached objects
// carry secrets (auth passwords). Negative entries are not written. A write never opens the
// snapshot's path itself, so nothing put there can block it.
//
// # Restoring
//
// [Snapshot.Restore] reads the file — opened without blocking, and read only if it is a
// regular file — and restores its objects stale: served at once, refreshed on their first
// read, expiring as after a failed refresh, with their original age. A full-backend set
// written complete is restored complete. A missing file is a first start; a file that
// cannot be read or decoded is reported and ignored, and replaced at the next write.
//
// # Events and statistics
//
// A Snapshot reports through its cache's Options.OnEvent, the one sink of the cache's
// events: [cache.EventSnapshotRestored] and [cache.EventSnapshotError], called with no lock
// held. [Snapshot.Stats] counts writes, errors and restored objects.
//
// # Concurrency
//
// A Snapshot is safe for concurrent use: reads and writes of the file take turns, and a
// caller waiting its turn honours its context. Its goroutine is stopped, and waited for,
// by Close, which is idempotent. The cache's shards are locked only to collect the entries,
// never while they are encoded or written.
//
// See docs/snapshot.md.
package snapshot
