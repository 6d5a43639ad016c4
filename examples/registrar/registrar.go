package registrar

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Retriever retrieves the objects of one type with sorcery's tri-state answer: (obj, true,
// nil) found, (zero, false, nil) absent, (zero, false, err) the source could not answer.
// A *sorcery.Type[T] is one.
type Retriever[T any] interface {
	Retrieve(ctx context.Context, id string) (T, bool, error)
}

// Sources are where the registrar finds its objects, typically the sorcery types registered
// by pjsip.Register with a cache in front of a provisioning service, and where it keeps the
// contacts it registers: a contact type such as [OpenContacts] returns, over Asterisk's
// ps_contacts table.
type Sources struct {
	Endpoints Retriever[pjsip.Endpoint]
	Auths     Retriever[pjsip.Auth]
	Aors      Retriever[pjsip.Aor]
	Contacts  ContactStore
}

// Options configures a [Registrar]. The zero value works.
type Options struct {
	// Logger receives one line per REGISTER answered, and the registrar's own errors. Nil
	// means slog.Default().
	Logger *slog.Logger
	// SIPLogger receives the SIP stack's (sipgo's) logs. Nil means Logger at level warning
	// and above.
	SIPLogger *slog.Logger
	// DefaultRealm is the realm of an auth object without one, like Asterisk's default_realm.
	// Empty means "asterisk".
	DefaultRealm string
	// LookupTimeout bounds the object lookups of one REGISTER; a lookup that takes longer
	// counts as the source being unavailable. Zero means 3 seconds.
	LookupTimeout time.Duration
	// RetryAfter is the Retry-After of a 503 answered when an object is not cached and its
	// source cannot be reached. Zero means 30 seconds.
	RetryAfter time.Duration
	// PruneInterval is how often expired contacts are removed from the contact store (they
	// are never served once expired), like Asterisk's contact_expiration_check_interval.
	// Every instance of a cluster prunes; the first to see an expired contact removes it.
	// Zero means 30 seconds.
	PruneInterval time.Duration
	// Name is this registrar's name, recorded as reg_server with every contact it adds or
	// refreshes, as Asterisk records its systemname. Empty records none.
	Name string
	// Health, when set, is consulted to log whether each REGISTER was answered while the
	// source of its objects was failing. Plug its WizardCall into the sorcery.Hooks of the
	// Sorcery behind Sources.
	Health *SourceHealth
	// Server is the Server header of the responses. Empty means "gosorcery-registrar".
	Server string
}

// Registrar is a SIP registrar (RFC 3261 §10) whose endpoints, auths and AORs come from
// [Sources], answering REGISTER as Asterisk's res_pjsip registrar does, with the differences
// its package documentation lists. It is safe for concurrent use. Close stops it.
type Registrar struct {
	src    Sources
	opts   Options
	log    *slog.Logger
	nonces *nonces
	locks  aorLocks // one REGISTER or pruning at a time per AOR

	ua  *sipgo.UserAgent
	srv *sipgo.Server

	stop chan struct{} // closed by Close: the pruning loop ends

	mu        sync.Mutex                       // guards closed, listeners and inflight; orders handling.Add before handling.Wait
	closed    bool                             //
	listeners []io.Closer                      // the sockets Listen opened
	inflight  map[*context.CancelFunc]struct{} // cancels the lookups of the requests being answered
	serving   sync.WaitGroup                   // the listeners' loops and the pruning loop
	handling  sync.WaitGroup                   // the requests being answered
}

// New returns a registrar over src, not yet listening: call [Registrar.Listen]. A nil opts
// means the zero [Options].
func New(src Sources, opts *Options) (*Registrar, error) {
	if src.Endpoints == nil || src.Auths == nil || src.Aors == nil || src.Contacts == nil {
		return nil, fmt.Errorf("registrar: sources of endpoints, auths and aors and a contact store are all required: %w", errors.ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SIPLogger == nil {
		o.SIPLogger = slog.New(levelHandler{slog.LevelWarn, o.Logger.Handler()}).With("component", "sipgo")
	}
	if o.DefaultRealm == "" {
		o.DefaultRealm = "asterisk"
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = 3 * time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 30 * time.Second
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = 30 * time.Second
	}
	if o.Server == "" {
		o.Server = "gosorcery-registrar"
	}
	ns, err := newNonces()
	if err != nil {
		return nil, fmt.Errorf("registrar: nonce key: %w", err)
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(o.Server),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(o.SIPLogger)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(o.SIPLogger)),
	)
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(o.SIPLogger))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("registrar: %w", err)
	}
	r := &Registrar{src: src, opts: o, log: o.Logger, nonces: ns, locks: aorLocks{held: map[string]*aorLock{}}, ua: ua, srv: srv}
	r.stop = make(chan struct{})
	r.inflight = make(map[*context.CancelFunc]struct{})
	srv.OnRegister(r.onRegister)
	r.serving.Add(1)
	go r.pruneLoop()
	return r, nil
}

// Listen starts serving SIP on network ("udp" or "tcp") at addr ("127.0.0.1:5060", or port
// 0 for a free port) and returns the address it listens on. It may be called for several
// networks and addresses; Close stops them all.
func (r *Registrar) Listen(network, addr string) (net.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.ErrClosed
	}
	switch network {
	case "udp", "udp4", "udp6":
		conn, err := net.ListenPacket(network, addr)
		if err != nil {
			return nil, fmt.Errorf("registrar: %w", err)
		}
		r.listeners = append(r.listeners, conn)
		r.serve(func() error { return r.srv.ServeUDP(conn) })
		return conn.LocalAddr(), nil
	case "tcp", "tcp4", "tcp6":
		l, err := net.Listen(network, addr)
		if err != nil {
			return nil, fmt.Errorf("registrar: %w", err)
		}
		r.listeners = append(r.listeners, l)
		r.serve(func() error { return r.srv.ServeTCP(l) })
		return l.Addr(), nil
	}
	return nil, fmt.Errorf("registrar: network %q is not udp or tcp: %w", network, errors.ErrUnsupported)
}

// serve runs one listener's loop until Close closes its socket. r.mu must be held.
func (r *Registrar) serve(loop func() error) {
	r.serving.Add(1)
	go func() {
		defer r.serving.Done()
		if err := loop(); err != nil && !r.isClosed() {
			r.log.Error("registrar: listener stopped", "err", err)
		}
	}()
}

// Close stops the registrar: lookups in flight are cancelled and their requests answered
// 503, requests arriving meanwhile too; then the listeners and the SIP stack stop and their
// goroutines are waited for. The first Close returns nil or the error of closing a socket;
// later calls return errors.ErrClosed.
func (r *Registrar) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errors.ErrClosed
	}
	r.closed = true
	listeners := r.listeners
	for cancel := range r.inflight {
		(*cancel)()
	}
	r.mu.Unlock()

	r.handling.Wait() // the sockets are still open: the answers go out
	close(r.stop)
	var errs []error
	for _, l := range listeners {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.ua.Close(); err != nil {
		r.log.Debug("registrar: closing the SIP stack", "err", err)
	}
	r.serving.Wait()
	return errors.Join(errs...)
}

// Contacts returns the live contacts of the AOR, sorted by URI, as the contact store has
// them: from its cache while the database is down.
func (r *Registrar) Contacts(ctx context.Context, aor string) ([]pjsip.Contact, error) {
	cs, err := aorContacts(ctx, r.src.Contacts, aor)
	if err != nil {
		return nil, err
	}
	return liveOnly(cs, time.Now()), nil
}

func (r *Registrar) pruneLoop() {
	defer r.serving.Done()
	t := time.NewTicker(r.opts.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.opts.LookupTimeout)
			n, err := r.prune(ctx, now)
			cancel()
			switch {
			case err != nil:
				r.log.Debug("registrar: pruning expired contacts", "removed", n, "err", err)
			case n > 0:
				r.log.Debug("registrar: expired contacts removed", "count", n)
			}
		}
	}
}

// prune removes the contacts expired at now from the store and returns how many it removed.
// Each is checked again under its AOR's lock, as res_pjsip_registrar's expire_contact does,
// so that a REGISTER refreshing it meanwhile on this instance wins; one that another
// instance removed first is no error.
func (r *Registrar) prune(ctx context.Context, now time.Time) (int, error) {
	expired, err := r.src.Contacts.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{
		{Field: "expiration_time", Op: sorcery.OpLessEqual, Value: strconv.FormatInt(now.Unix(), 10)},
	}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range expired {
		aor, _, ok := strings.Cut(c.ID, ";@")
		if !ok {
			continue // not a contact this registrar names
		}
		removed, err := r.pruneOne(ctx, aor, c.ID, now)
		if err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	return n, nil
}

func (r *Registrar) pruneOne(ctx context.Context, aor, id string, now time.Time) (bool, error) {
	unlock := r.locks.lock(aor)
	defer unlock()
	cs, err := aorContacts(ctx, r.src.Contacts, aor)
	if err != nil {
		return false, err
	}
	for _, c := range cs {
		if c.ID != id || c.ExpirationTime > now.Unix() {
			continue
		}
		if err := r.src.Contacts.Delete(ctx, id); err != nil {
			if errors.Is(err, errors.ErrNotFound) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// enter counts one request in, unless the registrar is closed, and returns the context of
// its lookups, which Close cancels, and the func that counts it out.
func (r *Registrar) enter() (ctx context.Context, leave func(), ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.LookupTimeout)
	r.inflight[&cancel] = struct{}{}
	r.handling.Add(1)
	return ctx, func() {
		r.mu.Lock()
		delete(r.inflight, &cancel)
		r.mu.Unlock()
		cancel()
		r.handling.Done()
	}, true
}

func (r *Registrar) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *Registrar) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	ctx, leave, ok := r.enter()
	if !ok { // closing
		res := r.reply(req, sip.StatusServiceUnavailable, "Service Unavailable")
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(int(r.opts.RetryAfter/time.Second))))
		_ = tx.Respond(res) // the socket may be closed already
		return
	}
	defer leave()
	start := time.Now()
	res, out := r.register(ctx, req)
	res.AppendHeader(sip.NewHeader("Server", r.opts.Server))
	// Logged before it is sent, so that the log is in order with what clients see.
	r.logOutcome(req, res, out, time.Since(start))
	if err := tx.Respond(res); err != nil {
		r.log.Warn("registrar: sending the response", "status", res.StatusCode, "call_id", callID(req), "err", err)
	}
}

// outcome describes how one REGISTER was answered, for the log.
type outcome struct {
	result   string // registered, unregistered, queried, challenged, stale_nonce, forbidden, not_found, too_brief, bad_request, unavailable, error
	user     string // the From user
	endpoint string
	aor      string
	contacts int
	expires  int64 // of the first binding of the request, for registrations
	reason   string
	err      error
}

func (r *Registrar) logOutcome(req *sip.Request, res *sip.Response, out outcome, took time.Duration) {
	level := slog.LevelInfo
	switch out.result {
	case "challenged":
		level = slog.LevelDebug
	case "unavailable":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	if !r.log.Enabled(context.Background(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("outcome", out.result),
		slog.Int("status", res.StatusCode),
		slog.String("user", out.user),
	}
	if out.endpoint != "" {
		attrs = append(attrs, slog.String("endpoint", out.endpoint))
	}
	if out.aor != "" {
		attrs = append(attrs, slog.String("aor", out.aor))
	}
	if out.result == "registered" {
		attrs = append(attrs, slog.Int("contacts", out.contacts), slog.Int64("expires", out.expires))
	}
	if out.reason != "" {
		attrs = append(attrs, slog.String("reason", out.reason))
	}
	if out.err != nil {
		attrs = append(attrs, slog.Any("err", out.err))
	}
	if r.opts.Health != nil {
		if types, since := r.opts.Health.Failing(); len(types) > 0 {
			// The source is failing: what was found came from the cache.
			attrs = append(attrs,
				slog.String("source", "failing"),
				slog.String("failing_types", strings.Join(types, ",")),
				slog.Duration("failing_for", time.Since(since).Round(time.Millisecond)))
			if res.StatusCode == sip.StatusOK {
				attrs = append(attrs, slog.Bool("served_from_cache", true))
			}
		} else {
			attrs = append(attrs, slog.String("source", "ok"))
		}
	}
	attrs = append(attrs,
		slog.String("from", req.Source()),
		slog.String("call_id", callID(req)),
		slog.Duration("took", took.Round(time.Microsecond)))
	r.log.LogAttrs(context.Background(), level, "REGISTER "+strconv.Itoa(res.StatusCode)+" "+res.Reason, attrs...)
}

// register answers one REGISTER; see the package documentation for the rules.
func (r *Registrar) register(ctx context.Context, req *sip.Request) (*sip.Response, outcome) {
	from, to := req.From(), req.To()
	if from == nil || to == nil || req.CallID() == nil {
		return r.reply(req, sip.StatusBadRequest, "Bad Request"), outcome{result: "bad_request", reason: "no From, To or Call-ID"}
	}
	out := outcome{user: from.Address.User}

	// Identify the endpoint by the From user, as identify_by=username does.
	if out.user == "" {
		out.result, out.reason = "not_found", "no user in From"
		return r.reply(req, sip.StatusNotFound, "Not Found"), out
	}
	ep, found, err := r.src.Endpoints.Retrieve(ctx, out.user)
	if !found {
		if err != nil {
			return r.unavailable(req, out, "endpoint", err)
		}
		out.result, out.reason = "not_found", "no such endpoint"
		return r.reply(req, sip.StatusNotFound, "Not Found"), out
	}
	out.endpoint = ep.ID

	if names := ep.AuthList(); len(names) > 0 {
		if res, ok := r.authenticate(ctx, req, names, &out); !ok {
			return res, out
		}
	}

	// Map the endpoint to the AOR the To user names, among the endpoint's AORs.
	aors := ep.AorList()
	if len(aors) == 0 {
		out.result, out.reason = "forbidden", "the endpoint has no aors"
		return r.reply(req, sip.StatusForbidden, "Forbidden"), out
	}
	aorName := matchAor(to.Address, aors)
	if aorName == "" {
		out.result, out.reason = "not_found", fmt.Sprintf("the To user %q is none of the endpoint's aors", to.Address.User)
		return r.reply(req, sip.StatusNotFound, "Not Found"), out
	}
	out.aor = aorName
	aor, found, err := r.src.Aors.Retrieve(ctx, aorName)
	if !found {
		if err != nil {
			return r.unavailable(req, out, "aor", err)
		}
		out.result, out.reason = "not_found", "no such aor"
		return r.reply(req, sip.StatusNotFound, "Not Found"), out
	}
	if aor.MaxContacts <= 0 {
		out.result, out.reason = "forbidden", "the aor has max_contacts=0: registration not permitted"
		return r.reply(req, sip.StatusForbidden, "Forbidden"), out
	}

	u, headerExpires, res, ok := r.readBindings(req, aor, &out)
	if !ok {
		return res, out
	}
	u.endpoint, u.regServer = ep.ID, r.opts.Name
	contacts, res, ok := r.bind(ctx, req, aor, u, &out)
	if !ok {
		return res, out
	}

	res = r.reply(req, sip.StatusOK, "OK")
	now := time.Now().Unix()
	for _, c := range contacts {
		res.AppendHeader(sip.NewHeader("Contact", "<"+c.URI+">;expires="+strconv.FormatInt(max(c.ExpirationTime-now, 0), 10)))
	}
	if headerExpires != noExpires {
		secs, _ := expiration(aor, noExpires, headerExpires)
		res.AppendHeader(sip.NewHeader("Expires", strconv.FormatInt(secs, 10)))
	}
	res.AppendHeader(sip.NewHeader("Date", time.Now().UTC().Format(http.TimeFormat))) // RFC 3261 §20.17: rfc1123-date in GMT
	out.contacts = len(contacts)
	switch {
	case len(u.bindings) == 0 && !u.removeAll:
		out.result = "queried"
	case u.removeAll || u.bindings[0].expires == 0:
		out.result = "unregistered"
	default:
		out.result, out.expires = "registered", u.bindings[0].expires
	}
	return res, out
}

// bind applies u to the contacts of aor in the contact store and returns the AOR's contacts
// after. When it returns false, res is the answer to send: 403 when max_contacts refuses the
// change, 503 with Retry-After when the contacts cannot be read or the change cannot be
// stored — never a 200 for a contact that is not stored.
func (r *Registrar) bind(ctx context.Context, req *sip.Request, aor pjsip.Aor, u update, out *outcome) (contacts []pjsip.Contact, res *sip.Response, ok bool) {
	unlock := r.locks.lock(aor.ID)
	defer unlock()
	current, err := aorContacts(ctx, r.src.Contacts, aor.ID)
	if err != nil {
		res, *out = r.unavailable(req, *out, "contacts of the aor", err)
		return nil, res, false
	}
	ch, err := plan(aor, current, time.Now(), u)
	if err != nil {
		out.result, out.reason = "forbidden", err.Error()
		return nil, r.reply(req, sip.StatusForbidden, "Forbidden"), false
	}
	if !ch.empty() {
		if err := store(ctx, r.src.Contacts, ch); err != nil {
			res, *out = r.unavailable(req, *out, "", err)
			out.reason = "the contacts could not be stored"
			return nil, res, false
		}
	}
	return ch.after, nil, true
}

// readBindings reads the Contact and Expires headers of req under the rules of aor. When it
// returns false, res is the refusal to send.
func (r *Registrar) readBindings(req *sip.Request, aor pjsip.Aor, out *outcome) (u update, headerExpires int64, res *sip.Response, ok bool) {
	bad := func(reason string) (update, int64, *sip.Response, bool) {
		out.result, out.reason = "bad_request", reason
		return update{}, 0, r.reply(req, sip.StatusBadRequest, "Bad Request"), false
	}
	headerExpires = noExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := parseDeltaSeconds(h.Value())
		if err != nil {
			return bad("Expires: " + err.Error())
		}
		headerExpires = n
	}
	u = update{callID: callID(req)}
	if h := req.GetHeader("User-Agent"); h != nil {
		u.userAgent = h.Value()
	}
	if host, port, err := net.SplitHostPort(req.Source()); err == nil {
		u.viaAddr = host
		u.viaPort, _ = strconv.Atoi(port)
	}
	hs := req.GetHeaders("Contact")
	for _, h := range hs {
		ch, isContact := h.(*sip.ContactHeader)
		if !isContact {
			return bad("unparsable Contact header")
		}
		if ch.Address.Wildcard {
			// RFC 3261 §10.3 step 6: "*" must be alone and come with Expires: 0.
			if len(hs) != 1 || headerExpires != 0 {
				return bad(`Contact "*" with other contacts or a non-zero Expires`)
			}
			u.removeAll = true
			continue
		}
		scheme := strings.ToLower(ch.Address.Scheme)
		if scheme != "sip" && scheme != "sips" {
			continue // as Asterisk: only sip: and sips: contacts are bound
		}
		param := noExpires
		for _, kv := range ch.Params {
			if strings.EqualFold(kv.K, "expires") {
				n, err := parseDeltaSeconds(kv.V)
				if err != nil {
					return bad("Contact expires: " + err.Error())
				}
				param = n
			}
		}
		secs, tooBrief := expiration(aor, param, headerExpires)
		if tooBrief {
			out.result = "too_brief"
			out.reason = fmt.Sprintf("expiration %ds is below minimum_expiration %ds", secs, int64(aor.MinimumExpiration/time.Second))
			res := r.reply(req, sip.StatusIntervalToBrief, "Interval Too Brief")
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.FormatInt(int64(aor.MinimumExpiration/time.Second), 10)))
			return update{}, 0, res, false
		}
		u.bindings = append(u.bindings, binding{uri: ch.Address.String(), key: uriKey(ch.Address), expires: secs})
	}
	return u, headerExpires, nil, true
}

// matchAor returns the AOR of aors that the To URI names — its user, or user@host — as
// Asterisk's find_registrar_aor does; "" when none does.
func matchAor(to sip.Uri, aors []string) string {
	for _, name := range aors {
		if name == to.User || name == to.User+"@"+to.Host {
			return name
		}
	}
	return ""
}

// authenticate checks req's digest credentials against the auth objects names. It returns
// true when they are right; otherwise res is the answer to send: 401 with a challenge when
// there are no usable credentials or the nonce is stale, 403 when the credentials carry a
// valid nonce but a wrong password or username, 503 when an auth could not be retrieved, and
// 500 when one is missing or unusable.
func (r *Registrar) authenticate(ctx context.Context, req *sip.Request, names []string, out *outcome) (res *sip.Response, ok bool) {
	auths := make([]pjsip.Auth, 0, len(names))
	for _, name := range names {
		a, found, err := r.src.Auths.Retrieve(ctx, name)
		if !found {
			if err != nil {
				res, *out = r.unavailable(req, *out, "auth", err)
				return res, false
			}
			out.result, out.reason = "error", fmt.Sprintf("the endpoint's auth %q does not exist", name)
			return r.reply(req, sip.StatusInternalServerError, "Server Internal Error"), false
		}
		if err := a.Validate(); err != nil {
			out.result, out.reason = "error", err.Error()
			return r.reply(req, sip.StatusInternalServerError, "Server Internal Error"), false
		}
		auths = append(auths, a)
	}

	host := sourceHost(req)
	now := time.Now()
	v := r.verify(req, auths, host, now)
	switch v {
	case verdictOK:
		return nil, true
	case verdictWrong:
		out.result, out.reason = "forbidden", "wrong credentials"
		return r.reply(req, sip.StatusForbidden, "Forbidden"), false
	}
	res = r.reply(req, sip.StatusUnauthorized, "Unauthorized")
	seen := map[string]bool{}
	for _, a := range auths {
		realm := r.realm(a)
		if seen[realm] {
			continue
		}
		seen[realm] = true
		ch := challenge{Realm: realm, Nonce: r.nonces.issue(now, host, realm), Stale: v == verdictStale}
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", ch.String()))
	}
	out.result = "challenged"
	if v == verdictStale {
		out.result = "stale_nonce"
	}
	return res, false
}

// defaultNonceLifetime is the lifetime of a nonce issued for an auth whose nonce_lifetime is
// not positive: Asterisk's default.
const defaultNonceLifetime = 32 * time.Second

// verdict is what the credentials of a request proved; the larger wins.
type verdict int

const (
	verdictNone  verdict = iota // no credentials for our realms with a nonce of ours: challenge
	verdictWrong                // a valid nonce of ours, but a wrong username or password: forbidden
	verdictStale                // the right password with an expired nonce of ours: challenge, stale=true
	verdictOK
)

func (r *Registrar) verify(req *sip.Request, auths []pjsip.Auth, host string, now time.Time) verdict {
	best := verdictNone
	for _, h := range req.GetHeaders("Authorization") {
		c, err := parseCredentials(h.Value())
		if err != nil {
			continue
		}
		for _, a := range auths {
			realm := r.realm(a)
			if c.Realm != realm {
				continue
			}
			lifetime := a.NonceLifetime
			if lifetime <= 0 {
				lifetime = defaultNonceLifetime
			}
			state := r.nonces.check(c.Nonce, now, host, realm, lifetime)
			if state == nonceInvalid {
				continue
			}
			if c.Username != a.Username {
				if state == nonceValid {
					best = max(best, verdictWrong)
				}
				continue
			}
			want, err := digestResponse(r.ha1(a, realm), string(req.Method), c)
			if err != nil {
				continue // an algorithm or qop we do not do: challenge again with ours
			}
			right := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
			switch {
			case right && state == nonceValid:
				return verdictOK
			case right:
				best = max(best, verdictStale)
			case state == nonceValid:
				best = max(best, verdictWrong)
			}
		}
	}
	return best
}

func (r *Registrar) realm(a pjsip.Auth) string {
	if a.Realm != "" {
		return a.Realm
	}
	return r.opts.DefaultRealm
}

// ha1 returns H(A1) of a: computed from the password, or its md5_cred.
func (r *Registrar) ha1(a pjsip.Auth, realm string) string {
	if strings.EqualFold(a.AuthType, pjsip.AuthMD5) {
		return strings.ToLower(a.MD5Cred)
	}
	return ha1(a.Username, realm, a.Password)
}

// unavailable answers 503 with Retry-After: the object is not cached and its source did not
// answer. It is never 404: a failure is not an absence.
func (r *Registrar) unavailable(req *sip.Request, out outcome, what string, err error) (*sip.Response, outcome) {
	out.result, out.reason, out.err = "unavailable", "the "+what+" could not be retrieved", err
	res := r.reply(req, sip.StatusServiceUnavailable, "Service Unavailable")
	res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(int(r.opts.RetryAfter/time.Second))))
	return res, out
}

func (r *Registrar) reply(req *sip.Request, code int, reason string) *sip.Response {
	return sip.NewResponseFromRequest(req, code, reason, nil)
}

// sourceHost returns the address the request came from, without port.
func sourceHost(req *sip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// levelHandler passes on the records of its handler at or above a level.
type levelHandler struct {
	level slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelHandler{h.level, h.Handler.WithAttrs(attrs)}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{h.level, h.Handler.WithGroup(name)}
}

// aorLocks serializes the changes to each AOR's contacts within one registrar, as Asterisk's
// named "aor" locks do.
type aorLocks struct {
	mu   sync.Mutex          // guards held
	held map[string]*aorLock // AOR id → its lock, while someone holds or waits for it
}

type aorLock struct {
	sync.Mutex
	users int // holders and waiters; guarded by aorLocks.mu
}

// lock locks aor and returns the func that unlocks it.
func (l *aorLocks) lock(aor string) (unlock func()) {
	l.mu.Lock()
	k := l.held[aor]
	if k == nil {
		k = &aorLock{}
		l.held[aor] = k
	}
	k.users++
	l.mu.Unlock()
	k.Lock()
	return func() {
		k.Unlock()
		l.mu.Lock()
		if k.users--; k.users == 0 {
			delete(l.held, aor)
		}
		l.mu.Unlock()
	}
}
