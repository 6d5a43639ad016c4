// Package redisbus carries cache invalidations over Redis pub/sub: a source, and a
// [Publisher] for the programs that change objects at the source (a provisioning tool, an
// admin API).
//
// # Channels and payload
//
// Every type has its channel, "<prefix>:<type>" ([Channel]; default prefix [DefaultPrefix],
// so "sorcery:invalidate:endpoint"). A source configured with Types subscribes to their
// channels only; without, it subscribes to the pattern "<prefix>:*" (the prefix escaped).
// The payload is the wire encoding of package invalidate:
//
//	{"v":1,"type":"endpoint","id":"alice","change":"changed"}
//
// Any program can publish it: redis-cli PUBLISH sorcery:invalidate:endpoint
// '{"v":1,"type":"endpoint","id":"alice","change":"changed"}'.
//
// # Outages
//
// Each subscription uses a connection of its own, dialled through the go-redis client the
// caller passes. The source waits for the server to confirm the subscriptions before it
// marks its types stale in the target, pings an idle connection every PingInterval and gives
// it up when the answer does not come within the next, and after a failure subscribes again
// with the backoff of package invalidate. Redis keeps nothing for an absent subscriber, and
// disconnects one that falls too far behind (client-output-buffer-limit pubsub): both end in
// a reconnection, after which the types are marked stale, so refreshes catch up.
//
// # Concurrency
//
// A source runs one goroutine, stopped by Close. A Publisher is safe for concurrent use.
// Neither closes the client it was given. There is no package-level state.
//
// The package is a Go module of its own (go get github.com/gosorcery/gosorcery/invalidate/redisbus),
// so that go-redis is in the module graph only of the programs that use it.
package redisbus
