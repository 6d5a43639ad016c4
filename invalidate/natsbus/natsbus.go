package natsbus

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

// DefaultPrefix is the subject prefix of a zero [Options]: the invalidations of type
// "endpoint" are published on "sorcery.invalidate.endpoint".
const DefaultPrefix = "sorcery.invalidate"

// Options configures a Source and a [Publisher]. The zero value works: the default prefix,
// every type, the default backoff.
type Options struct {
	// SourceOptions are those of the reconnecting source: the types to receive (empty means
	// every type, through the wildcard subject "<prefix>.*"), the backoff, the logger, the
	// hooks. A Publisher ignores them.
	invalidate.SourceOptions
	// Prefix is the subject prefix: one or more tokens separated by dots, without wildcards.
	// Empty means [DefaultPrefix].
	Prefix string
	// Connect are options for the source's connections (credentials, TLS, a name …), applied
	// after the source's defaults. The source owns reconnection, so it always adds
	// nats.NoReconnect, and it sets its own ClosedHandler and ErrorHandler.
	Connect []nats.Option
	// PingInterval is how often the server is pinged to find a dead connection; two missed
	// pongs end the connection. Zero means 10s.
	PingInterval time.Duration
	// ConnectTimeout bounds a connection attempt, and the round trip that confirms the
	// subscriptions. Zero means 5s.
	ConnectTimeout time.Duration
	// Buffer is the number of received messages held while the source is busy; past it the
	// server's messages are dropped (a NATS slow consumer) and the source marks its types
	// stale to catch up. Zero means 4096.
	Buffer int
}

func (o *Options) prefix() (string, error) {
	p := DefaultPrefix
	if o != nil && o.Prefix != "" {
		p = o.Prefix
	}
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return "", errors.Errorf("natsbus: bad subject prefix %q: %w", p, errors.ErrInvalid)
		}
	}
	return p, nil
}

// Subject returns the subject on which the invalidations of typeName are published under
// prefix (empty means [DefaultPrefix]): "<prefix>.<type>". A type or prefix that cannot be
// part of a subject is errors.ErrInvalid.
func Subject(prefix, typeName string) (string, error) {
	p, err := (&Options{Prefix: prefix}).prefix()
	if err != nil {
		return "", err
	}
	if err := invalidate.ValidType(typeName); err != nil {
		return "", errors.Errorf("natsbus: %w", err)
	}
	return p + "." + typeName, nil
}

// NewSource starts a source that connects to the NATS server at url (one URL, or several
// separated by commas), subscribes to the subject of each type in opts.Types (or to
// "<prefix>.*" for every type), and delivers what it receives to target. It reconnects on its
// own with backoff and marks the types stale in target after every (re)connection. A nil opts
// means the zero [Options]. An option that cannot be used is errors.ErrInvalid; an
// unreachable server is not an error here (the source keeps trying: see
// [invalidate.Source.Stats]).
func NewSource(url string, target invalidate.Target, opts *Options) (*invalidate.Source, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	prefix, err := o.prefix()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(url) == "" {
		return nil, errors.Errorf("natsbus: empty server URL: %w", errors.ErrInvalid)
	}
	sub := &subscriber{url: url, user: o.Connect, ping: o.PingInterval, timeout: o.ConnectTimeout, buffer: o.Buffer}
	if sub.ping <= 0 {
		sub.ping = 10 * time.Second
	}
	if sub.timeout <= 0 {
		sub.timeout = 5 * time.Second
	}
	if sub.buffer <= 0 {
		sub.buffer = 4096
	}
	if len(o.Types) == 0 {
		sub.subjects = []string{prefix + ".*"}
	}
	for _, t := range o.Types {
		s, err := Subject(prefix, t)
		if err != nil {
			return nil, err
		}
		sub.subjects = append(sub.subjects, s)
	}
	so := o.SourceOptions
	if so.Name == "" {
		so.Name = "natsbus"
	}
	return invalidate.NewSource(sub, target, &so)
}

// subscriber is the Subscriber of a NATS source: one connection, a subscription per subject,
// all feeding one channel read on the source's goroutine.
type subscriber struct {
	url      string
	user     []nats.Option
	subjects []string
	ping     time.Duration
	timeout  time.Duration
	buffer   int
}

var _ invalidate.Subscriber = (*subscriber)(nil)

// Subscribe connects, subscribes to every subject into one channel, confirms the
// subscriptions with a round trip, and delivers until the connection closes or ctx ends.
func (s *subscriber) Subscribe(ctx context.Context, sink *invalidate.Sink) error {
	closed := make(chan struct{})
	lost := make(chan struct{}, 1)
	opts := []nats.Option{
		nats.Name("gosorcery invalidation source"),
		nats.PingInterval(s.ping),
		nats.MaxPingsOutstanding(2),
		nats.Timeout(s.timeout),
	}
	opts = append(opts, s.user...)
	opts = append(opts,
		nats.NoReconnect(),
		nats.NoCallbacksAfterClientClose(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				select {
				case lost <- struct{}{}:
				default:
				}
			}
		}),
	)
	nc, err := nats.Connect(s.url, opts...)
	if err != nil {
		return fail(ctx, "connect", err)
	}
	defer nc.Close()
	msgs := make(chan *nats.Msg, s.buffer)
	for _, subj := range s.subjects {
		if _, err := nc.ChanSubscribe(subj, msgs); err != nil {
			return fail(ctx, "subscribe "+subj, err)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, s.timeout)
	err = nc.FlushWithContext(fctx) // the server has the subscriptions once it answers
	cancel()
	if err != nil {
		return fail(ctx, "flush", err)
	}
	sink.Ready()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-msgs:
			sink.Deliver(m.Data)
		case <-lost:
			sink.Lost()
		case <-closed:
			drain(msgs, sink) // received before the connection closed
			err := nc.LastError()
			if err == nil {
				err = nats.ErrConnectionClosed
			}
			return fail(ctx, "connection lost", err)
		}
	}
}

func drain(msgs <-chan *nats.Msg, sink *invalidate.Sink) {
	for {
		select {
		case m := <-msgs:
			sink.Deliver(m.Data)
		default:
			return
		}
	}
}

func fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Errorf("natsbus: %s: %w (%w)", op, err, errors.ErrUnavailable)
}

// Publisher publishes invalidations on a NATS connection, each on the subject of its type. It
// is safe for concurrent use.
type Publisher struct {
	nc     *nats.Conn
	prefix string
}

var _ invalidate.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher on nc, which stays the caller's: the Publisher never
// closes it. A nil opts means the zero [Options].
func NewPublisher(nc *nats.Conn, opts *Options) (*Publisher, error) {
	if nc == nil {
		return nil, errors.Errorf("natsbus: nil connection: %w", errors.ErrInvalid)
	}
	p, err := opts.prefix()
	if err != nil {
		return nil, err
	}
	return &Publisher{nc: nc, prefix: p}, nil
}

// Publish sends inv on "<prefix>.<type>" and waits until the server has it (a flush: one
// round trip; when ctx has no deadline, at most 5s). An invalidation that cannot be encoded
// is errors.ErrInvalid; a connection that is down or a server that does not answer is
// errors.ErrUnavailable.
func (p *Publisher) Publish(ctx context.Context, inv sorcery.Invalidation) error {
	b, err := invalidate.Encode(inv)
	if err != nil {
		return err
	}
	subj := p.prefix + "." + inv.Type
	if err := p.nc.Publish(subj, b); err != nil {
		return errors.Errorf("natsbus: publish on %s: %w (%w)", subj, err, errors.ErrUnavailable)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := p.nc.FlushWithContext(ctx); err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return context.Cause(ctx)
		}
		return errors.Errorf("natsbus: publish on %s: %w (%w)", subj, err, errors.ErrUnavailable)
	}
	return nil
}
