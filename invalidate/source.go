package invalidate

import (
	"context"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Target is what a [Source] delivers to. *sorcery.Sorcery is one.
type Target interface {
	// Invalidate applies one invalidation. It must not block for long: a Source calls it on
	// the goroutine that receives from the bus. It must be idempotent, since delivery is
	// at-least-once. An error wrapping errors.ErrInvalid means the target does not know the
	// type; the Source counts it as ignored.
	Invalidate(inv sorcery.Invalidation) error
	// MarkStale marks every cached object of the type stale, or of every type when typeName
	// is empty. A Source calls it after every (re)connection, to catch up on what the bus may
	// have lost.
	MarkStale(typeName string) error
}

var _ Target = (*sorcery.Sorcery)(nil)

// Publisher announces invalidations on a bus. Implementations are safe for concurrent use.
type Publisher interface {
	// Publish sends inv. An invalidation that [Validate] refuses is errors.ErrInvalid; a bus
	// that cannot be reached is errors.ErrUnavailable.
	Publish(ctx context.Context, inv sorcery.Invalidation) error
}

// Subscriber is one engine's way of receiving payloads: the part of a [Source] that knows the
// bus. Packages pgnotify, natsbus and redisbus provide one each; [NewSource] runs it.
type Subscriber interface {
	// Subscribe connects to the bus and subscribes. Once messages published from then on
	// will be delivered, it calls sink.Ready (once); it then passes every payload received to
	// sink.Deliver until the connection fails or ctx ends. It returns the error that ended
	// the session, wrapping errors.ErrUnavailable for a failed connection, or ctx's error.
	// It closes everything it opened before returning.
	Subscribe(ctx context.Context, sink *Sink) error
}

// SubscriberFunc adapts a function to a [Subscriber].
type SubscriberFunc func(ctx context.Context, sink *Sink) error

// Subscribe calls f(ctx, sink).
func (f SubscriberFunc) Subscribe(ctx context.Context, sink *Sink) error { return f(ctx, sink) }

// SourceOptions configures a [Source]. The zero value works: every type, the default
// [Backoff], slog.Default, no hooks.
type SourceOptions struct {
	// Types are the object types to receive. An engine subscribes to their channels or
	// subjects only, the Source drops invalidations of other types (counted as ignored), and
	// after a (re)connection marks these types stale. Empty means every type: the engine
	// subscribes to all of them (a wildcard, where the engine has one) and a reconnection
	// marks every type of the target stale. A type the target does not know is skipped when
	// marking stale.
	Types []string
	// Backoff is the schedule of reconnection attempts. The zero value is the default.
	Backoff Backoff
	// Logger receives a warning when the connection is lost or cannot be made, at most one
	// per LogInterval, and an info line on every reconnection. Nil means slog.Default().
	Logger *slog.Logger
	// LogInterval is the least time between two warnings. Zero means one minute.
	LogInterval time.Duration
	// Hooks receive the Source's events. The zero Hooks receive nothing; the counters of
	// [Source.Stats] are kept either way.
	Hooks Hooks
	// Name names the Source in logs, such as "pgnotify". Empty means "invalidate".
	Name string
}

// Hooks receive the events of a [Source]. Nil fields are skipped. They are called on the
// Source's receiving goroutine: keep them fast.
type Hooks struct {
	// Connected is called after every subscription, once the types are marked stale.
	// Reconnect is false the first time.
	Connected func(reconnect bool)
	// Disconnected is called when a connection attempt fails or a subscription ends with an
	// error; another attempt follows after delay.
	Disconnected func(err error, delay time.Duration)
	// Received is called for every well-formed invalidation, with nil when the target
	// applied it, or else the target's error (errors.ErrInvalid for a type it does not know)
	// or, for a type not in Types, errors.ErrInvalid.
	Received func(inv sorcery.Invalidation, err error)
	// Malformed is called for every payload that does not decode.
	Malformed func(payload []byte, err error)
}

// Stats are the counters of a [Source].
type Stats struct {
	Connected bool  // subscribed now
	Connects  int64 // subscriptions made, the first included: Connects-1 are reconnections
	Failures  int64 // connection attempts that failed, and subscriptions that ended in error
	Received  int64 // well-formed invalidations received, Ignored included
	Ignored   int64 // received invalidations of a type not in Types, or refused by the target
	Malformed int64 // payloads that did not decode
	Lost      int64 // times the engine reported that messages may have been dropped
	LastError error // the error of the last failure, nil before any
}

// Source receives invalidations from a bus and delivers them to a [Target], reconnecting on
// its own with [Backoff] when the connection fails and marking its types stale after every
// (re)connection, so that what the bus lost while it was down is caught up by the caches'
// background refreshes. It runs one goroutine, started by [NewSource] and stopped by
// [Source.Close]. It is safe for concurrent use.
type Source struct {
	sub     Subscriber
	target  Target
	types   map[string]bool // nil for every type
	typeSeq []string        // Types, sorted, for MarkStale
	backoff Backoff
	logger  *slog.Logger
	logIntv time.Duration
	hooks   Hooks
	name    string

	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has returned
	ready  chan struct{} // closed after the first subscription
	once   sync.Once     // closes ready
	closed atomic.Bool

	connected                                        atomic.Bool
	connects, failures, received, ignored, malformed atomic.Int64
	lost                                             atomic.Int64
	lastErr                                          atomic.Pointer[error]
	lastWarn                                         time.Time // touched by the goroutine only
}

// NewSource validates opts and starts a Source that runs sub and delivers to target. It
// returns at once; the first connection is made in the background ([Source.Ready] tells
// when it is up). A nil opts means the zero [SourceOptions].
func NewSource(sub Subscriber, target Target, opts *SourceOptions) (*Source, error) {
	if sub == nil || target == nil {
		return nil, errors.Errorf("invalidation source: nil subscriber or target: %w", errors.ErrInvalid)
	}
	var o SourceOptions
	if opts != nil {
		o = *opts
	}
	b, err := o.Backoff.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Source{
		sub:     sub,
		target:  target,
		backoff: b,
		logger:  o.Logger,
		logIntv: o.LogInterval,
		hooks:   o.Hooks,
		name:    o.Name,
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.logIntv <= 0 {
		s.logIntv = time.Minute
	}
	if s.name == "" {
		s.name = "invalidate"
	}
	if len(o.Types) > 0 {
		s.types = make(map[string]bool, len(o.Types))
		for _, t := range o.Types {
			if err := ValidType(t); err != nil {
				return nil, err
			}
			s.types[t] = true
		}
		s.typeSeq = slices.Sorted(maps.Keys(s.types))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s, nil
}

// Ready returns a channel that is closed once the Source has subscribed for the first time.
func (s *Source) Ready() <-chan struct{} { return s.ready }

// Close stops the Source and waits for its goroutine and connection to end. It returns nil
// the first time and errors.ErrClosed after.
func (s *Source) Close() error {
	if s.closed.Swap(true) {
		return errors.ErrClosed
	}
	s.cancel()
	<-s.done
	return nil
}

// Stats returns a snapshot of the Source's counters.
func (s *Source) Stats() Stats {
	st := Stats{
		Connected: s.connected.Load(),
		Connects:  s.connects.Load(),
		Failures:  s.failures.Load(),
		Received:  s.received.Load(),
		Ignored:   s.ignored.Load(),
		Malformed: s.malformed.Load(),
		Lost:      s.lost.Load(),
	}
	if p := s.lastErr.Load(); p != nil {
		st.LastError = *p
	}
	return st
}

// run is the Source's goroutine: subscribe, and after a failure wait and subscribe again.
func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	attempt := 0
	for {
		sink := &Sink{s: s}
		err := s.sub.Subscribe(ctx, sink)
		sink.end()
		s.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		if sink.wasReady.Load() {
			attempt = 0
		}
		if err == nil {
			err = errors.Errorf("%s: subscription ended: %w", s.name, errors.ErrUnavailable)
		}
		delay := s.backoff.delay(attempt, rand.Float64())
		attempt++
		s.failed(err, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Source) failed(err error, delay time.Duration) {
	s.failures.Add(1)
	s.lastErr.Store(&err)
	if now := time.Now(); now.Sub(s.lastWarn) >= s.logIntv {
		s.lastWarn = now
		s.logger.Warn("sorcery: invalidation bus unavailable; caches fall back to their lifetimes",
			"source", s.name, "err", err, "retry_in", delay)
	}
	if h := s.hooks.Disconnected; h != nil {
		h(err, delay)
	}
}

// markStale marks the Source's types stale in the target.
func (s *Source) markStale() {
	if s.types == nil {
		if err := s.target.MarkStale(""); err != nil {
			s.logger.Warn("sorcery: mark stale after subscribing", "source", s.name, "err", err)
		}
		return
	}
	for _, t := range s.typeSeq {
		if err := s.target.MarkStale(t); err != nil && !errors.Is(err, errors.ErrInvalid) {
			s.logger.Warn("sorcery: mark stale after subscribing", "source", s.name, "type", t, "err", err)
		}
	}
}

// Sink is what a [Subscriber] reports to during one subscription. Its methods must not be
// called concurrently with each other; calls after Subscribe has returned are ignored.
type Sink struct {
	s        *Source
	ended    atomic.Bool
	wasReady atomic.Bool
}

// Ready reports that the subscription is live: messages published from now on will be
// delivered. The Source marks its types stale in the target, so that anything published
// before is caught up by refreshes. Calls after the first are ignored.
func (k *Sink) Ready() {
	if k.ended.Load() || k.wasReady.Load() {
		return
	}
	s := k.s
	s.markStale()
	k.wasReady.Store(true)
	s.connected.Store(true)
	n := s.connects.Add(1)
	s.once.Do(func() { close(s.ready) })
	if n > 1 {
		s.logger.Info("sorcery: invalidation bus reconnected; cached objects marked stale", "source", s.name)
	}
	if h := s.hooks.Connected; h != nil {
		h(n > 1)
	}
}

// Deliver decodes one payload and applies it to the target. A payload that does not decode
// is counted as malformed and dropped.
func (k *Sink) Deliver(payload []byte) {
	if k.ended.Load() {
		return
	}
	s := k.s
	inv, err := Decode(payload)
	if err != nil {
		s.malformed.Add(1)
		if h := s.hooks.Malformed; h != nil {
			h(payload, err)
		}
		return
	}
	s.received.Add(1)
	if s.types != nil && !s.types[inv.Type] {
		err = errors.Errorf("%s: type %q not subscribed: %w", s.name, inv.Type, errors.ErrInvalid)
	} else {
		err = s.target.Invalidate(inv)
	}
	if err != nil {
		s.ignored.Add(1)
	}
	if h := s.hooks.Received; h != nil {
		h(inv, err)
	}
}

// Lost reports that messages may have been dropped while the subscription stays up (a NATS
// slow consumer, for one). The Source marks its types stale, as after a reconnection.
func (k *Sink) Lost() {
	if k.ended.Load() {
		return
	}
	k.s.lost.Add(1)
	k.s.markStale()
}

func (k *Sink) end() { k.ended.Store(true) }
