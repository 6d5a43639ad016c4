// Package cache is gosorcery's memory cache: a concurrent read-through cache of objects by
// string id, with the lifetimes of Asterisk's res_sorcery_memory_cache, and one thing
// Asterisk cannot do: it keeps serving, and extends the life of, what it holds while its
// source is failing.
//
// It is general-purpose: it does not import the sorcery package. A [LoadFunc] answers with
// a tri-state, (v, true, nil) found, (zero, false, nil) not found, (zero, false, err) could
// not answer, so the cache can tell "deleted" from "down" (see LoadFunc for the fourth,
// degraded answer).
//
// # Lifetimes
//
// An entry is fresh until it is LifetimeStale old, then stale until LifetimeMaximum:
// a stale entry is served at once and its first read starts one background refresh. At
// LifetimeMaximum the entry is removed, read or not, unless its refresh is queued or
// running: then that refresh's answer decides. A refresh that finds the object
// replaces the entry; one that learns it no longer exists removes it; one that fails keeps
// it, "extended": it goes stale again ErrorRecheck later (no sooner, however often it is
// read) and expires LifetimeMaximum after the failure, both never past its last success
// + LifetimeMaximum + StaleIfError when StaleIfError is set. docs/semantics.md draws the
// state machine.
//
// NegativeLifetime remembers "not found" answers. MaxObjects bounds the entries, evicting
// the least recently used. FullBackend holds the whole set of the source, loaded,
// refreshed and expired as one (see [NewFull]).
//
// # Snapshot
//
// Package cache/snapshot keeps a cache's last-known-good objects in a file, periodically
// and when it is closed, so that a process restarted during an outage of its source serves
// what it served before: the objects are restored stale, served at once and refreshed on
// their first read, expiring as after a failed refresh. It is built on the cache's public
// API: [Cache.Version], [Cache.Export], [Cache.Restore] and [Cache.RestoreSet] exist for
// it. Options.Snapshot only carries the file and interval of sorcery.conf for the owner to
// act on. See docs/snapshot.md.
//
// # Concurrency
//
// A Cache is safe for concurrent use. A hit takes no lock, allocates nothing and does not
// read the clock: the entries live in sharded hash tables whose readers only load atomic
// pointers, and an entry's state (fresh, stale, extended, negative) is a set of flags that
// the cache's one background goroutine, its janitor, flips at the entry's deadlines. The
// janitor sleeps on a single timer until the earliest deadline of the cache; there is no
// goroutine or timer per entry. A read that races with a deadline may see the state just
// before it. Hit counters are striped per goroutine so that processors do not contend.
//
// Loads of one id are coalesced: concurrent misses share one LoadFunc call, which honours
// every caller's context and is cancelled only when all of them gave up. Background
// refreshes run at most one per id and at most RefreshWorkers at once (8 by default), on
// goroutines started on demand; each runs detached from the read that started it (it keeps
// the read's context values, not its deadline) under its own RefreshTimeout (10 s by
// default). The LoadFunc and Options.OnEvent are never called with a lock held.
//
// A MarkStale that comes while the id is being loaded or refreshed is not lost: the load's
// answer, which may predate the change, is cached stale, and with reload refreshed again at
// once (see [Cache.MarkStale]).
//
// Close cancels the running loads and refreshes, waits for every goroutine of the cache to
// return, and empties it; later Gets return [errors.ErrClosed].
//
// # Zero values
//
// The zero Options (or nil) is a cache whose entries never go stale or expire, with no
// bound: a read-through memoizer with coalesced loads. Every Options field documents what
// its zero value means. The zero Cache is not usable: use [New] or [NewFull].
//
// # Differences from Asterisk
//
//   - Eviction at MaxObjects takes the least recently used entry; Asterisk evicts the
//     oldest insertion, whatever was read since. Reads are recorded without a lock: a read
//     sets the entry's reference bit and notes it in a lossy, striped buffer that the next
//     write applies to the recency list in order; an entry whose note was lost gets a
//     second chance (CLOCK) instead of being evicted.
//   - A failed refresh keeps the entry (Asterisk's wizards cannot tell a failure from
//     "not found" and drop it), and a failed whole-set refresh keeps the whole set
//     (Asterisk empties it).
//   - Full-backend mode answers "not found" only from a complete set: before the first
//     whole load succeeds, Get and All return the load's error.
//   - Bad boolean option values are rejected rather than read as "no".
package cache
