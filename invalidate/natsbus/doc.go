// Package natsbus carries cache invalidations over NATS core pub/sub: a source, and a
// [Publisher] for the programs that change objects at the source (a provisioning tool, an
// admin API).
//
// # Subjects and payload
//
// Every type has its subject, "<prefix>.<type>" ([Subject]; default prefix
// [DefaultPrefix], so "sorcery.invalidate.endpoint"). A source configured with Types
// subscribes to their subjects only; without, it subscribes to "<prefix>.*". The payload is
// the wire encoding of package invalidate:
//
//	{"v":1,"type":"endpoint","id":"alice","change":"changed"}
//
// Any program can publish it, with any NATS client: nats pub sorcery.invalidate.endpoint
// '{"v":1,"type":"endpoint","id":"alice","change":"changed"}'.
//
// # Outages
//
// The source owns its connection and its reconnection: it connects with nats.NoReconnect,
// and when the connection closes (the server went away, or two pings went unanswered) it
// connects again with the backoff of package invalidate, subscribes, confirms the
// subscriptions with a round trip, and only then marks its types stale in the target, so
// that what was published while it was away is caught up by refreshes and nothing published
// after is missed. When the client drops messages because the source fell behind (a slow
// consumer), the types are marked stale too. Core NATS keeps nothing for an absent
// subscriber; JetStream is not needed and not used.
//
// # Concurrency
//
// A source runs one goroutine that receives and delivers, stopped by Close; the NATS client
// runs its own while connected. A Publisher is safe for concurrent use and never closes the
// connection it was given. There is no package-level state.
//
// The package is a Go module of its own (go get github.com/gosorcery/gosorcery/invalidate/natsbus),
// so that nats.go is in the module graph only of the programs that use it.
package natsbus
