package pgnotify

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/invalidate"
	"github.com/gosorcery/gosorcery/sorcery"
)

// DefaultChannel is the channel of a zero [Options], and the one the trigger function
// announces on when its trigger names none.
const DefaultChannel = "sorcery_invalidate"

// Options configures a Source and a [Publisher]. The zero value works: the default channel,
// every type, the default backoff.
type Options struct {
	// SourceOptions are those of the reconnecting source: the types to receive (others are
	// dropped; empty means all), the backoff, the logger, the hooks. A Publisher ignores them.
	invalidate.SourceOptions
	// Channel is the PostgreSQL channel, at most 63 bytes. Empty means [DefaultChannel].
	Channel string
	// PingInterval is how long the source waits for a notification before it checks that the
	// idle connection is alive, and the bound on that check. Zero means 15s.
	PingInterval time.Duration
	// ConnectTimeout bounds a connection attempt when the connection string sets no
	// connect_timeout. Zero means 10s.
	ConnectTimeout time.Duration
}

func (o *Options) channel() (string, error) {
	ch := DefaultChannel
	if o != nil && o.Channel != "" {
		ch = o.Channel
	}
	return ch, validChannel(ch)
}

func validChannel(ch string) error {
	if ch == "" || len(ch) > 63 || strings.ContainsAny(ch, "\x00\\") {
		return errors.Errorf("pgnotify: bad channel %q (1 to 63 bytes, no NUL or backslash): %w", ch, errors.ErrInvalid)
	}
	return nil
}

// NewSource starts a source that connects to PostgreSQL with connString (a URL or a
// keyword/value string, as libpq and pgx take), LISTENs on the channel, and delivers what it
// hears to target. It reconnects on its own with backoff, and marks the types stale in target
// after every (re)connection. A nil opts means the zero [Options]. A connection string or an
// option that cannot be used is errors.ErrInvalid; an unreachable server is not an error here
// (the source keeps trying: see [invalidate.Source.Stats]).
func NewSource(connString string, target invalidate.Target, opts *Options) (*invalidate.Source, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	ch, err := o.channel()
	if err != nil {
		return nil, err
	}
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return nil, errors.Errorf("pgnotify: connection string: %w (%w)", err, errors.ErrInvalid)
	}
	l := &listener{cfg: cfg, channel: ch, ping: o.PingInterval, connect: o.ConnectTimeout}
	if l.ping <= 0 {
		l.ping = 15 * time.Second
	}
	if l.connect <= 0 {
		l.connect = 10 * time.Second
	}
	if cfg.ConnectTimeout > 0 {
		l.connect = cfg.ConnectTimeout
	}
	so := o.SourceOptions
	if so.Name == "" {
		so.Name = "pgnotify"
	}
	return invalidate.NewSource(l, target, &so)
}

// listener is the Subscriber of a PostgreSQL source: one connection, one LISTEN.
type listener struct {
	cfg     *pgconn.Config // copied for every connection
	channel string
	ping    time.Duration
	connect time.Duration
}

var _ invalidate.Subscriber = (*listener)(nil)

// Subscribe connects, LISTENs, and delivers notifications until the connection fails or ctx
// ends. Notifications arrive on this goroutine: pgconn calls OnNotification from the reads
// made here.
func (l *listener) Subscribe(ctx context.Context, sink *invalidate.Sink) error {
	cfg := l.cfg.Copy()
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		if n.Channel == l.channel {
			sink.Deliver([]byte(n.Payload))
		}
	}
	cctx, cancel := context.WithTimeout(ctx, l.connect)
	conn, err := pgconn.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return l.fail(ctx, "connect", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if err := conn.Exec(ctx, "LISTEN "+quoteIdent(l.channel)).Close(); err != nil {
		return l.fail(ctx, "listen", err)
	}
	sink.Ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, l.ping)
		err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !pgconn.Timeout(err) || conn.IsClosed():
			return l.fail(ctx, "wait for notification", err)
		}
		// Idle for a ping interval: make sure the connection is still there.
		pctx, cancel := context.WithTimeout(ctx, l.ping)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return l.fail(ctx, "ping", err)
		}
	}
}

func (l *listener) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Errorf("pgnotify: %s: %w (%w)", op, err, errors.ErrUnavailable)
}

// Execer runs a statement: *sql.DB, *sql.Conn and *sql.Tx are Execers.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Publisher announces invalidations with pg_notify through database/sql. Over a *sql.Tx, the
// notification is sent when the transaction commits, and not at all when it rolls back:
// create a Publisher for the transaction that writes the change (it is cheap). It is safe for
// concurrent use when its Execer is.
type Publisher struct {
	db      Execer
	channel string
}

var _ invalidate.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher that runs pg_notify on db, on the channel of opts. A nil
// opts means the zero [Options].
func NewPublisher(db Execer, opts *Options) (*Publisher, error) {
	if db == nil {
		return nil, errors.Errorf("pgnotify: nil database: %w", errors.ErrInvalid)
	}
	ch, err := opts.channel()
	if err != nil {
		return nil, err
	}
	return &Publisher{db: db, channel: ch}, nil
}

// Publish sends inv on the channel. An invalidation that cannot be encoded is
// errors.ErrInvalid; a failed statement is errors.ErrUnavailable.
func (p *Publisher) Publish(ctx context.Context, inv sorcery.Invalidation) error {
	b, err := invalidate.Encode(inv)
	if err != nil {
		return err
	}
	if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", p.channel, string(b)); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return errors.Errorf("pgnotify: publish %s %q: %w (%w)", inv.Type, inv.ID, err, errors.ErrUnavailable)
	}
	return nil
}
