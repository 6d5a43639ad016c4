package natsbus

import (
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/tcpproxy"
	"github.com/gosorcery/gosorcery/internal/testbus"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestMain(m *testing.M) {
	slog.SetDefault(testbus.Quiet()) // the sources' warnings about outages are expected here
	os.Exit(m.Run())
}

const wait = 10 * time.Second

func TestSubjectIsPrefixDotType(t *testing.T) {
	s, err := Subject("", "endpoint")
	require.NoError(t, err)
	assert.Equal(t, "sorcery.invalidate.endpoint", s)
	s, err = Subject("pbx.prod", "aor")
	require.NoError(t, err)
	assert.Equal(t, "pbx.prod.aor", s)
	for _, tc := range [][2]string{{"a..b", "endpoint"}, {"a.*", "endpoint"}, {"a.>", "endpoint"}, {"a b", "endpoint"}, {".a", "endpoint"}, {"", "end.point"}, {"", "*"}, {"", ""}} {
		_, err := Subject(tc[0], tc[1])
		assert.ErrorIs(t, err, errors.ErrInvalid, "%q", tc)
	}
}

func TestNewSourceAndPublisherRejectBadOptions(t *testing.T) {
	_, err := NewSource("", &testbus.Recorder{}, nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = NewSource("nats://127.0.0.1:1", &testbus.Recorder{}, &Options{Prefix: "a.*"})
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = NewSource("nats://127.0.0.1:1", &testbus.Recorder{}, &Options{SourceOptions: invalidate.SourceOptions{Types: []string{"a.b"}}})
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = NewPublisher(nil, nil)
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func connect(t *testing.T, u string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(u)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

func startSource(t *testing.T, u string, target invalidate.Target, opts *Options) *invalidate.Source {
	t.Helper()
	s, err := NewSource(u, target, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	select {
	case <-s.Ready():
	case <-time.After(wait):
		t.Fatalf("the source did not connect: %+v", s.Stats())
	}
	return s
}

func TestNATSPublisherReachesEverySourceInOrder(t *testing.T) {
	t.Parallel()
	u := testbus.NATSURL(t)
	prefix := testbus.Unique("test") + ".inval"
	const sources, changes = 5, 200
	recs := make([]*testbus.Recorder, sources)
	for i := range recs {
		recs[i] = &testbus.Recorder{}
		startSource(t, u, recs[i], &Options{Prefix: prefix})
	}
	p, err := NewPublisher(connect(t, u), &Options{Prefix: prefix})
	require.NoError(t, err)
	var want []sorcery.Invalidation
	for i := range changes {
		inv := sorcery.Invalidation{Type: []string{"endpoint", "aor", "auth"}[i%3], ID: "id" + string(rune('a'+i%26)), Change: sorcery.Change(i % 2)}
		require.NoError(t, p.Publish(t.Context(), inv))
		want = append(want, inv)
	}
	for i, rec := range recs {
		assert.Equal(t, want, rec.WaitInvalidations(t, changes, wait), "source %d", i)
	}
}

func TestNATSSourceSubscribesOnlyToItsTypes(t *testing.T) {
	t.Parallel()
	u := testbus.NATSURL(t)
	prefix := testbus.Unique("test")
	rec := &testbus.Recorder{}
	s := startSource(t, u, rec, &Options{Prefix: prefix, SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint", "aor"}}})
	assert.Equal(t, []string{"aor", "endpoint"}, rec.Stales(), "the first connection marks the types stale")
	p, err := NewPublisher(connect(t, u), &Options{Prefix: prefix})
	require.NoError(t, err)
	for _, typ := range []string{"auth", "endpoint", "contact", "aor"} {
		require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: typ, ID: "x"}))
	}
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "x"}, {Type: "aor", ID: "x"}}, rec.WaitInvalidations(t, 2, wait))
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, rec.Invalidations(), 2)
	assert.Zero(t, s.Stats().Ignored, "other types are not even received")
}

func TestNATSSourceCountsMalformedMessages(t *testing.T) {
	t.Parallel()
	u := testbus.NATSURL(t)
	prefix := testbus.Unique("test")
	rec := &testbus.Recorder{Known: []string{"endpoint"}}
	s := startSource(t, u, rec, &Options{Prefix: prefix})
	nc := connect(t, u)
	require.NoError(t, nc.Publish(prefix+".endpoint", []byte("garbage")))
	require.NoError(t, nc.Publish(prefix+".endpoint", []byte(`{"v":3,"type":"endpoint","id":"a","change":"changed"}`)))
	require.NoError(t, nc.Publish(prefix+".identify", []byte(`{"v":1,"type":"identify","id":"a","change":"changed"}`)))
	require.NoError(t, nc.Publish(prefix+".endpoint", []byte(`{"v":1,"type":"endpoint","id":"last","change":"deleted"}`)))
	require.NoError(t, nc.Flush())
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "last", Change: sorcery.Deleted}}, rec.WaitInvalidations(t, 1, wait))
	st := s.Stats()
	assert.EqualValues(t, 2, st.Malformed)
	assert.EqualValues(t, 2, st.Received)
	assert.EqualValues(t, 1, st.Ignored, "a type the target does not know")
}

// gate is a target whose Invalidate blocks until it is opened.
type gate struct {
	testbus.Recorder
	open chan struct{}
	once sync.Once
}

func (g *gate) Invalidate(inv sorcery.Invalidation) error {
	<-g.open
	return g.Recorder.Invalidate(inv)
}

func TestNATSSlowConsumerMarksTheTypesStale(t *testing.T) {
	t.Parallel()
	u := testbus.NATSURL(t)
	prefix := testbus.Unique("test")
	g := &gate{open: make(chan struct{})}
	s := startSource(t, u, g, &Options{Prefix: prefix, Buffer: 1})
	t.Cleanup(func() { g.once.Do(func() { close(g.open) }) })
	p, err := NewPublisher(connect(t, u), &Options{Prefix: prefix})
	require.NoError(t, err)
	for range 20 {
		require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "x"}))
	}
	g.once.Do(func() { close(g.open) })
	for _, typ := range g.WaitStales(t, 2, wait) {
		assert.Empty(t, typ, "dropped messages mark every type stale")
	}
	assert.GreaterOrEqual(t, s.Stats().Lost, int64(1))
	assert.True(t, s.Stats().Connected, "the subscription stays up")
}

func TestNATSSourceReconnectsAndMarksStaleAfterACut(t *testing.T) {
	testbus.CheckLeaks(t, "invalidate.(*Source)", "natsbus.(*subscriber)", "nats-io/nats.go.", "tcpproxy.(*Proxy)")
	u := testbus.NATSURL(t)
	pu, err := url.Parse(u)
	require.NoError(t, err)
	proxy, err := tcpproxy.New(pu.Host)
	require.NoError(t, err)
	defer proxy.Close()
	prefix := testbus.Unique("test")
	rec := &testbus.Recorder{}
	s := startSource(t, "nats://"+proxy.Addr(), rec, &Options{
		Prefix:        prefix,
		SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint"}, Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
	})
	nc, err := nats.Connect(u)
	require.NoError(t, err)
	defer nc.Close()
	p, err := NewPublisher(nc, &Options{Prefix: prefix})
	require.NoError(t, err)
	assert.Equal(t, []string{"endpoint"}, rec.WaitStales(t, 1, wait))

	proxy.Cut()
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "lost"}))
	time.Sleep(500 * time.Millisecond)
	assert.Empty(t, rec.Invalidations(), "the cut source hears nothing")
	assert.False(t, s.Stats().Connected)

	proxy.Restore()
	assert.Equal(t, []string{"endpoint", "endpoint"}, rec.WaitStales(t, 2, wait), "a reconnection marks the type stale")
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "after"}))
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "after"}}, rec.WaitInvalidations(t, 1, wait))
	st := s.Stats()
	assert.EqualValues(t, 2, st.Connects)
	assert.ErrorIs(t, st.LastError, errors.ErrUnavailable)

	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), errors.ErrClosed)
}

func TestNATSPublisherOnAClosedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	u := testbus.NATSURL(t)
	nc, err := nats.Connect(u)
	require.NoError(t, err)
	p, err := NewPublisher(nc, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "end.point", ID: "a"}), errors.ErrInvalid)
	nc.Close()
	assert.ErrorIs(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "a"}), errors.ErrUnavailable)
}

func TestNATSSourceNoticesASilentlyDeadConnection(t *testing.T) {
	t.Parallel()
	u := testbus.NATSURL(t)
	pu, err := url.Parse(u)
	require.NoError(t, err)
	proxy, err := tcpproxy.New(pu.Host)
	require.NoError(t, err)
	defer proxy.Close()
	prefix := testbus.Unique("test")
	rec := &testbus.Recorder{}
	s := startSource(t, "nats://"+proxy.Addr(), rec, &Options{
		Prefix:         prefix,
		PingInterval:   200 * time.Millisecond,
		ConnectTimeout: 500 * time.Millisecond,
		SourceOptions:  invalidate.SourceOptions{Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
	})
	proxy.Stall()
	require.Eventually(t, func() bool { return !s.Stats().Connected }, wait, 10*time.Millisecond, "unanswered pings end the connection")
	proxy.Restore()
	rec.WaitStales(t, 2, wait)
	p, err := NewPublisher(connect(t, u), &Options{Prefix: prefix})
	require.NoError(t, err)
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "after"}))
	assert.Equal(t, []sorcery.Invalidation{{Type: "endpoint", ID: "after"}}, rec.WaitInvalidations(t, 1, wait))
}

func endpoint(id, context string) sorcery.Record {
	return sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "context", Value: context}}}
}

func TestNATSFiveInstancesSeeAChangeWithin100ms(t *testing.T) {
	u := testbus.NATSURL(t)
	prefix := testbus.Unique("test")
	src := memory.New()
	src.Put(endpoint("alice", "v0"))
	cl := testbus.NewCluster(t, 5, src)
	cl.RequireServing(t, "alice", "v0")
	src.Put(endpoint("alice", "unannounced"))
	cl.Holds(t, "alice", "v0", 200*time.Millisecond) // the caches serve what they hold until told
	for _, in := range cl.Instances {
		startSource(t, u, in.Sorcery, &Options{Prefix: prefix, SourceOptions: invalidate.SourceOptions{Types: []string{"endpoint"}}})
	}
	cl.Await(t, "alice", "unannounced", wait) // subscribing marks the caches stale: they catch up

	p, err := NewPublisher(connect(t, u), &Options{Prefix: prefix})
	require.NoError(t, err)
	lat := cl.MeasureWithin(t, "alice", 200, 100*time.Millisecond, func(value string) {
		src.Put(endpoint("alice", value))
		require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "alice"}))
	})
	t.Logf("NATS, change visible on all 5 instances, best round: %v", lat)
	assert.LessOrEqual(t, lat.Percentile(99), 100*time.Millisecond, "%v", lat)

	src.Remove("alice")
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "alice", Change: sorcery.Deleted}))
	t.Logf("NATS, deletion visible on all 5 instances after %v", cl.Await(t, "alice", "", wait))
}

func TestNATSOutageChangesArriveAfterTheReconnect(t *testing.T) {
	testbus.CheckLeaks(t, "invalidate.(*Source)", "natsbus.(*subscriber)", "nats-io/nats.go.", "tcpproxy.(*Proxy)")
	u := testbus.NATSURL(t)
	pu, err := url.Parse(u)
	require.NoError(t, err)
	proxy, err := tcpproxy.New(pu.Host)
	require.NoError(t, err)
	defer proxy.Close()
	prefix := testbus.Unique("test")
	src := memory.New()
	src.Put(endpoint("alice", "v0"), endpoint("bob", "v0"))
	cl := testbus.NewCluster(t, 5, src)
	cl.RequireServing(t, "alice", "v0")
	cl.RequireServing(t, "bob", "v0")
	src.Put(endpoint("alice", "v0b"), endpoint("bob", "v0b")) // not announced
	var sources []*invalidate.Source
	for _, in := range cl.Instances {
		sources = append(sources, startSource(t, "nats://"+proxy.Addr(), in.Sorcery, &Options{
			Prefix:        prefix,
			SourceOptions: invalidate.SourceOptions{Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		}))
	}
	nc, err := nats.Connect(u)
	require.NoError(t, err)
	defer nc.Close()
	p, err := NewPublisher(nc, &Options{Prefix: prefix})
	require.NoError(t, err)
	// Subscribing marked the caches stale: the reads here refresh them; wait until they have.
	cl.Await(t, "alice", "v0b", wait)
	cl.Await(t, "bob", "v0b", wait)

	proxy.Cut()
	require.Eventually(t, func() bool {
		for _, s := range sources {
			if s.Stats().Connected {
				return false
			}
		}
		return true
	}, wait, 10*time.Millisecond)
	src.Put(endpoint("alice", "v1"))
	src.Remove("bob")
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "alice"}))
	require.NoError(t, p.Publish(t.Context(), sorcery.Invalidation{Type: "endpoint", ID: "bob", Change: sorcery.Deleted}))
	cl.Holds(t, "alice", "v0b", 300*time.Millisecond) // the bus is down: the caches serve what they hold
	cl.Holds(t, "bob", "v0b", 0)

	proxy.Restore()
	t.Logf("after the reconnect, the change is visible everywhere in %v", cl.Await(t, "alice", "v1", wait))
	cl.Await(t, "bob", "", wait)
	for _, s := range sources {
		assert.EqualValues(t, 2, s.Stats().Connects)
		require.NoError(t, s.Close())
	}
}

func TestNATSObjectCreatedWhileTheBusWasCutIsFoundAfterTheReconnect(t *testing.T) {
	u := testbus.NATSURL(t)
	pu, err := url.Parse(u)
	require.NoError(t, err)
	proxy, err := tcpproxy.New(pu.Host)
	require.NoError(t, err)
	defer proxy.Close()
	prefix := testbus.Unique("test")
	testbus.CreatedWhileCutIsFoundAfterTheReconnect(t, proxy, func(in *testbus.Instance) func() bool {
		s := startSource(t, "nats://"+proxy.Addr(), in.Sorcery, &Options{
			Prefix:        prefix,
			SourceOptions: invalidate.SourceOptions{Backoff: invalidate.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		})
		return func() bool { return s.Stats().Connected }
	})
}
