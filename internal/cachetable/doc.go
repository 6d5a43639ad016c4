// Package cachetable holds the concurrent structures of package cache: the only place of
// the cache where reads go without a lock, through atomics, and where unsafe is used.
//
//   - [Entry] is one cached key: its hash and key, an atomic word of flags, the links that
//     thread it through a [Table]'s chain, a [Policy]'s recency list and a [Deadlines]
//     heap, and the owner's payload, Value.
//   - [Table] is one shard's bucket table: lock-free look-ups ([Table.Find]) over chains of
//     atomic pointers, writes ([Table.Insert], [Table.Replace], [Table.Remove]) under the
//     owner's lock, and growth that relinks entries in place.
//   - [Deadlines] is one shard's intrusive min-heap of entries by due time, whose earliest
//     due time can be read without the lock.
//   - [Policy] keeps a bounded cache within its maximum: least recently used first, with
//     lossy striped access buffers so that reads never take its lock.
//   - [Counters] are counters striped per goroutine, with [StripeHint].
//
// # Concurrency
//
// None of these types takes a lock of its own, except Policy, whose lock the owner takes
// through [Policy.Lock]. The owner guards each Table and Deadlines (and the entries'
// lock-guarded parts) with a mutex of its own, one per shard, and documents which method
// needs it: Find, [Entry.Flags], the flag setters, [Deadlines.MinDue], [Policy.Touch] and
// [Counters.Add] need none.
//
// An entry's Value is written before the entry is published by Insert or Replace; readers
// that found the entry without a lock read it as it was then. Parts of Value the owner
// changes later must be guarded by the owner's lock, or be atomic.
//
// # Zero values
//
// Table and Deadlines must be initialised with Init before use; a Policy comes from
// [NewPolicy], Counters from [NewCounters], an Entry from [NewEntry].
package cachetable
