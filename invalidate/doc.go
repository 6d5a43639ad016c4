// Package invalidate pushes cache invalidations from a bus to the caches of many library
// instances, so that a change made at the source is applied everywhere within moments
// instead of when each cache's stale period ends.
//
// The engines live in their own packages, so that a program pulls in only the client it
// uses:
//
//   - invalidate/pgnotify: PostgreSQL LISTEN/NOTIFY, with trigger SQL that announces every
//     change made to the realtime tables (ps_endpoints, ps_auths …) by any tool;
//   - invalidate/natsbus: NATS, one subject per type, "<prefix>.<type>";
//   - invalidate/redisbus: Redis pub/sub, one channel per type, "<prefix>:<type>".
//
// This package holds what they share: the wire encoding of an invalidation ([Encode],
// [Decode]), the [Publisher] interface, the [Target] a source delivers to (a
// *sorcery.Sorcery is one), and [Source], which runs an engine's [Subscriber] in a goroutine of
// its own and reconnects with [Backoff].
//
// # Wire encoding
//
// An invalidation travels as one compact JSON object:
//
//	{"v":1,"type":"endpoint","id":"alice","change":"changed"}
//
// "v" is the version ([Version]); a payload of another version is dropped and counted as
// malformed. "change" is "changed" (created or updated: refresh it) or "deleted" (drop it).
// Unknown members are ignored. Payloads are at most [MaxPayload] bytes, which every engine
// carries. [Decode] rejects anything else with errors.ErrInvalid and never panics; it is
// fuzzed.
//
// # Delivery and outages
//
// Delivery is at-least-once and handling is idempotent: an invalidation applied twice has
// the effect of applying it once (a changed object is refreshed, a deleted one expired, an
// id no cache holds is ignored). None of the three buses keeps messages for a subscriber that
// is away, so a [Source] catches up another way: every time it has subscribed — the first
// time and after every reconnection — it marks its types stale in the target. Every cached
// object is then still served, and refreshed from the source on its next read. While the bus
// is down nothing else changes: the caches serve what they hold, within their lifetimes, as
// they would without a bus. An engine that learns it dropped messages while staying
// connected (a NATS slow consumer) reports it with [Sink.Lost], which marks the types stale
// too.
//
// # Concurrency and lifetimes
//
// [NewSource] starts one goroutine, which owns the connection; [Source.Close] stops it and
// waits for it, and later calls return errors.ErrClosed. The target is called on that
// goroutine, so its methods must not block for long (those of *sorcery.Sorcery start
// background refreshes and return). Publishers are safe for concurrent use. There is no
// package-level state.
package invalidate
