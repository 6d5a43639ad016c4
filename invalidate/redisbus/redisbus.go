package redisbus

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

// DefaultPrefix is the channel prefix of a zero [Options]: the invalidations of type
// "endpoint" are published on the channel "sorcery:invalidate:endpoint".
const DefaultPrefix = "sorcery:invalidate"

// Options configures a Source and a [Publisher]. The zero value works: the default prefix,
// every type, the default backoff.
type Options struct {
	// SourceOptions are those of the reconnecting source: the types to receive (empty means
	// every type, through the pattern "<prefix>:*"), the backoff, the logger, the hooks. A
	// Publisher ignores them.
	invalidate.SourceOptions
	// Prefix is the channel prefix. Empty means [DefaultPrefix].
	Prefix string
	// PingInterval is how long the source waits for a message before it pings the server,
	// and how long it then waits for the answer before it gives the connection up. Zero means
	// 10s.
	PingInterval time.Duration
	// SubscribeTimeout bounds the wait for the server to confirm the subscriptions. Zero
	// means 5s.
	SubscribeTimeout time.Duration
}

func (o *Options) prefix() (string, error) {
	p := DefaultPrefix
	if o != nil && o.Prefix != "" {
		p = o.Prefix
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", errors.Errorf("redisbus: bad channel prefix %q: %w", p, errors.ErrInvalid)
	}
	return p, nil
}

// Channel returns the channel on which the invalidations of typeName are published under
// prefix (empty means [DefaultPrefix]): "<prefix>:<type>". A type that [invalidate.ValidType]
// refuses, or a prefix with spaces or control characters, is errors.ErrInvalid.
func Channel(prefix, typeName string) (string, error) {
	p, err := (&Options{Prefix: prefix}).prefix()
	if err != nil {
		return "", err
	}
	if err := invalidate.ValidType(typeName); err != nil {
		return "", errors.Errorf("redisbus: %w", err)
	}
	return p + ":" + typeName, nil
}

// NewSource starts a source that subscribes, through client, to the channel of each type in
// opts.Types (or to the pattern "<prefix>:*" for every type), and delivers what it receives
// to target. Every subscription uses a connection of its own, dialled by client; client stays
// the caller's and must outlive the source. The source reconnects on its own with backoff and
// marks the types stale in target after every (re)connection. A nil opts means the zero
// [Options]. An option that cannot be used is errors.ErrInvalid; an unreachable server is not
// an error here (the source keeps trying: see [invalidate.Source.Stats]).
func NewSource(client redis.UniversalClient, target invalidate.Target, opts *Options) (*invalidate.Source, error) {
	if client == nil {
		return nil, errors.Errorf("redisbus: nil client: %w", errors.ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	prefix, err := o.prefix()
	if err != nil {
		return nil, err
	}
	sub := &subscriber{client: client, ping: o.PingInterval, timeout: o.SubscribeTimeout}
	if sub.ping <= 0 {
		sub.ping = 10 * time.Second
	}
	if sub.timeout <= 0 {
		sub.timeout = 5 * time.Second
	}
	if len(o.Types) == 0 {
		sub.pattern = escapeGlob(prefix) + ":*"
	}
	for _, t := range o.Types {
		ch, err := Channel(prefix, t)
		if err != nil {
			return nil, err
		}
		sub.channels = append(sub.channels, ch)
	}
	so := o.SourceOptions
	if so.Name == "" {
		so.Name = "redisbus"
	}
	return invalidate.NewSource(sub, target, &so)
}

// escapeGlob escapes the characters that Redis patterns give a meaning.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// subscriber is the Subscriber of a Redis source: one PubSub connection.
type subscriber struct {
	client   redis.UniversalClient
	channels []string // the channels, or
	pattern  string   // the pattern when every type is wanted
	ping     time.Duration
	timeout  time.Duration
}

var _ invalidate.Subscriber = (*subscriber)(nil)

// Subscribe opens a PubSub connection, subscribes, waits for the confirmations, and delivers
// until the connection fails, a ping goes unanswered, or ctx ends.
func (s *subscriber) Subscribe(ctx context.Context, sink *invalidate.Sink) error {
	ps := s.client.Subscribe(ctx) // no channel yet: does not connect
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { ps.Close() }) // ends a blocked receive
	defer stop()

	var err error
	want := len(s.channels)
	if s.pattern != "" {
		err, want = ps.PSubscribe(ctx, s.pattern), 1
	} else {
		err = ps.Subscribe(ctx, s.channels...)
	}
	if err != nil {
		return fail(ctx, "subscribe", err)
	}
	// Messages published once the server confirmed a subscription are delivered.
	for confirmed := 0; confirmed < want; {
		msg, err := ps.ReceiveTimeout(ctx, s.timeout)
		if err != nil {
			return fail(ctx, "subscribe", err)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			confirmed++
		case *redis.Message:
			sink.Deliver([]byte(m.Payload))
		}
	}
	sink.Ready()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.ping)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case isTimeout(err) && !pinged:
			// Idle for a ping interval: the answer must come within the next one.
			if err := ps.Ping(ctx); err != nil {
				return fail(ctx, "ping", err)
			}
			pinged = true
			continue
		case isTimeout(err):
			return fail(ctx, "ping", errors.Errorf("no answer within %v: %w", s.ping, err))
		default:
			return fail(ctx, "receive", err)
		}
		pinged = false
		if m, ok := msg.(*redis.Message); ok {
			sink.Deliver([]byte(m.Payload))
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Errorf("redisbus: %s: %w (%w)", op, err, errors.ErrUnavailable)
}

// Publisher publishes invalidations with Redis PUBLISH, each on the channel of its type. It is
// safe for concurrent use.
type Publisher struct {
	client redis.UniversalClient
	prefix string
}

var _ invalidate.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher on client, which stays the caller's: the Publisher never
// closes it. A nil opts means the zero [Options].
func NewPublisher(client redis.UniversalClient, opts *Options) (*Publisher, error) {
	if client == nil {
		return nil, errors.Errorf("redisbus: nil client: %w", errors.ErrInvalid)
	}
	p, err := opts.prefix()
	if err != nil {
		return nil, err
	}
	return &Publisher{client: client, prefix: p}, nil
}

// Publish sends inv on "<prefix>:<type>". An invalidation that cannot be encoded is
// errors.ErrInvalid; a server that cannot be reached is errors.ErrUnavailable.
func (p *Publisher) Publish(ctx context.Context, inv sorcery.Invalidation) error {
	b, err := invalidate.Encode(inv)
	if err != nil {
		return err
	}
	ch := p.prefix + ":" + inv.Type
	if err := p.client.Publish(ctx, ch, b).Err(); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return errors.Errorf("redisbus: publish on %s: %w (%w)", ch, err, errors.ErrUnavailable)
	}
	return nil
}
