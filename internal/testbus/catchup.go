package testbus

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/internal/tcpproxy"
	"github.com/gosorcery/gosorcery/sorcery"
)

// NegativeLifetime is the negative_lifetime of the caches of
// [CreatedWhileCutIsFoundAfterTheReconnect]: far longer than the test, so that only the
// catch-up can make the object visible.
const NegativeLifetime = 60 * time.Second

// CatchUpTime bounds how long [CreatedWhileCutIsFoundAfterTheReconnect] waits, after the
// bus is restored, for the object to be served everywhere: the reconnection backoff of the
// bus under test must fit in it.
const CatchUpTime = 10 * time.Second

// CreatedWhileCutIsFoundAfterTheReconnect is the shared test of every bus for objects
// remembered absent: three instances whose caches remember "not found" for
// [NegativeLifetime] look an object up and remember it absent; the bus is cut (proxy.Cut),
// the object is created at the source, the announcement is lost; the caches keep answering
// "not found" while the bus is down; once the bus is restored, the catch-up that marks the
// caches stale must make every instance find the object within [CatchUpTime].
//
// start subscribes one instance's Sorcery to the bus through proxy, returning once it is
// subscribed, and returns a function that reports whether it is connected now.
func CreatedWhileCutIsFoundAfterTheReconnect(t *testing.T, proxy *tcpproxy.Proxy, start func(in *Instance) (connected func() bool)) {
	t.Helper()
	src := memory.New()
	src.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "v0"}}})
	cl := NewClusterWithCache(t, 3, src, fmt.Sprintf("object_lifetime_stale=%d,negative_lifetime=%d",
		int(StalePeriod/time.Second), int(NegativeLifetime/time.Second)))
	var connected []func() bool
	for _, in := range cl.Instances {
		connected = append(connected, start(in))
	}
	cl.Await(t, "alice", "v0", CatchUpTime)
	cl.Await(t, "carol", "", CatchUpTime) // remembered absent from now on
	for i, in := range cl.Instances {
		if st := in.Endpoints.Cache().Stats(); st.NegativeObjects != 1 {
			t.Fatalf("instance %d remembers %d absent objects, want 1", i, st.NegativeObjects)
		}
	}

	proxy.Cut()
	deadline := time.Now().Add(CatchUpTime)
	for i := 0; i < len(connected); {
		switch {
		case !connected[i]():
			i++
		case time.Now().After(deadline):
			t.Fatalf("instance %d still connected %v after the cut", i, CatchUpTime)
		default:
			time.Sleep(10 * time.Millisecond)
		}
	}
	src.Put(sorcery.Record{ID: "carol", Fields: sorcery.Fields{{Name: "context", Value: "new"}}}) // announced to nobody
	cl.Holds(t, "carol", "", 200*time.Millisecond)                                                // the caches remember "not found" until told

	proxy.Restore()
	took := cl.Await(t, "carol", "new", CatchUpTime)
	t.Logf("after the reconnect, the object created during the cut is found everywhere in %v", took)
	if took >= NegativeLifetime {
		t.Fatalf("found after %v: the negative lifetime ran out, the catch-up did not find it", took)
	}
}
