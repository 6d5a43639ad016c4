package curl

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

var (
	_ sorcery.Wizard   = (*Wizard)(nil)
	_ sorcery.Searcher = (*Wizard)(nil)
	_ sorcery.Writer   = (*Wizard)(nil)
	_ sorcery.Locator  = (*Wizard)(nil)
	_ io.Closer        = (*Wizard)(nil)
)

// Wizard is a client of a provisioning service that speaks Asterisk's res_config_curl
// protocol. It implements [sorcery.Wizard], [sorcery.Searcher], [sorcery.Writer] and
// io.Closer, and is safe for concurrent use.
type Wizard struct {
	base     string       // the base URL, variables substituted
	client   *http.Client // sends every request
	owned    bool         // the wizard closes client's idle connections: its own or ReadConfig's
	timeout  time.Duration
	maxReply int64       // -1: unbounded
	failures []int       // extra status codes that are failures
	notFound []int       // status codes that mean no such object
	postHdr  http.Header // shared read-only by every POST
	getHdr   http.Header // shared read-only by every GET
	closed   atomic.Bool
}

// New returns a wizard that reads and writes the objects served under baseURL, an http or
// https URL to which the operations are appended as Asterisk appends them: baseURL+"/single"
// and so on. ${NAME} in baseURL is replaced by opts.Variables[NAME]. A nil opts means the
// defaults. A bad URL or option is errors.ErrInvalid.
func New(baseURL string, opts *Options) (*Wizard, error) {
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	base, err := substitute(baseURL, o.Variables)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, errors.Errorf("curl: base URL: %w: %w", err, errors.ErrInvalid)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.Errorf("curl: base URL %q: scheme must be http or https: %w", u.Redacted(), errors.ErrInvalid)
	}
	if u.Host == "" {
		return nil, errors.Errorf("curl: base URL %q has no host: %w", u.Redacted(), errors.ErrInvalid)
	}
	w := &Wizard{
		base:     base,
		timeout:  o.Timeout,
		maxReply: o.maxReply,
		failures: o.FailureCodes,
		notFound: o.NotFoundCodes,
	}
	if o.Client != nil {
		w.client, w.owned = o.Client, o.Client == o.built
	} else {
		w.client, err = (&transport{}).client()
		if err != nil {
			return nil, err
		}
		w.owned = true
	}
	w.getHdr = make(http.Header, len(o.Header)+3)
	for k, vs := range o.Header {
		for _, v := range vs {
			w.getHdr.Add(k, v)
		}
	}
	w.getHdr.Set("User-Agent", o.UserAgent)
	if w.getHdr.Get("Accept") == "" {
		w.getHdr.Set("Accept", "*/*")
	}
	if (o.Username != "" || o.Password != "") && w.getHdr.Get("Authorization") == "" {
		w.getHdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.Username+":"+o.Password)))
	}
	w.postHdr = w.getHdr.Clone()
	if w.postHdr.Get("Content-Type") == "" {
		w.postHdr.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return w, nil
}

// substitute replaces every ${NAME} in s with vars[NAME].
func substitute(s string, vars map[string]string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", errors.Errorf("curl: base URL: unterminated ${ in %q: %w", s, errors.ErrInvalid)
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			return "", errors.Errorf("curl: base URL names ${%s}, which Options.Variables lacks: %w", name, errors.ErrInvalid)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

// BaseURL returns the base URL the wizard appends its operations to, variables substituted.
func (w *Wizard) BaseURL() string { return w.base }

// Retrieve asks /single for the object with id. An empty reply (or a status listed in
// Options.NotFoundCodes) means the service has no such object: (Record{}, false, nil). Ids are compared exactly: a row for
// "Alice" or "alice " in answer to "alice", as a database comparing without case or
// trailing spaces returns, is no such object; a row for any other id is errors.ErrInvalid. Transport errors, timeouts, HTTP 5xx,
// 429 and the Options.FailureCodes are errors.ErrUnavailable; a reply that does not parse,
// or that names another object, is errors.ErrInvalid.
func (w *Wizard) Retrieve(ctx context.Context, id string) (sorcery.Record, bool, error) {
	if id == "" {
		return sorcery.Record{}, false, nil
	}
	body := appendPair(make([]byte, 0, 3+len(id)+16), "id", id)
	res, err := w.do(ctx, "single", id, http.MethodPost, w.base+"/single", body)
	if err != nil {
		return sorcery.Record{}, false, err
	}
	if w.absent(res.status) {
		return sorcery.Record{}, false, nil
	}
	if err := w.checkStatus("single", id, res.status); err != nil {
		return sorcery.Record{}, false, err
	}
	r, found, err := parseSingle(res.body)
	if err != nil {
		return sorcery.Record{}, false, newOpError("single", id, errors.ErrInvalid, err)
	}
	if found && r.ID != id {
		if !sameUnderCollation(r.ID, id) {
			return sorcery.Record{}, false, newOpError("single", id, errors.ErrInvalid, errors.New("reply is for another id"))
		}
		// A database that compares without case or trailing spaces found another object:
		// the one asked for does not exist.
		return sorcery.Record{}, false, nil
	}
	return r, found, nil
}

// sameUnderCollation reports whether a and b are equal to a database that compares without
// case and ignores trailing spaces, as MySQL's default collations do.
func sameUnderCollation(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, " "), strings.TrimRight(b, " "))
}

// Search asks /multi for the objects q selects. The id regex and any REGEXP condition travel
// as an SQL LIKE approximation, as Asterisk sends them, and q is then applied exactly to the
// rows that come back, so the result is exact whatever the service makes of LIKE. A status
// listed in Options.NotFoundCodes is no objects. A bad q is errors.ErrInvalid; failures are classed as for Retrieve.
func (w *Wizard) Search(ctx context.Context, q sorcery.Query) ([]sorcery.Record, error) {
	m, err := q.Compile()
	if err != nil {
		return nil, newOpError("multi", "", nil, err)
	}
	body := searchBody(q)
	res, err := w.do(ctx, "multi", "", http.MethodPost, w.base+"/multi", body)
	if err != nil {
		return nil, err
	}
	if w.absent(res.status) {
		return nil, nil
	}
	if err := w.checkStatus("multi", "", res.status); err != nil {
		return nil, err
	}
	rows, err := parseMulti(res.body)
	if err != nil {
		return nil, newOpError("multi", "", errors.ErrInvalid, err)
	}
	out := rows[:0]
	for _, r := range rows {
		if m.Match(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// searchBody encodes q for /multi: id conditions first, "id LIKE=%" when q selects every
// object.
func searchBody(q sorcery.Query) []byte {
	var b []byte
	if q.IDPrefix != "" {
		b = appendPair(b, "id LIKE", likePrefix(q.IDPrefix)+"%")
	}
	if q.IDRegex != "" {
		if p := likeApprox(q.IDRegex); p != "%" || len(b) == 0 {
			b = appendPair(b, "id LIKE", p)
		}
	}
	for _, c := range q.Conditions {
		if c.Op == sorcery.OpRegex {
			b = appendPair(b, c.Field+" LIKE", likeApprox(c.Value))
			continue
		}
		b = appendPair(b, c.Name(), wireValue(c.Value))
	}
	if len(b) == 0 {
		b = appendPair(b, "id LIKE", "%")
	}
	return b
}

// Create sends r to /store: id first, then every field in order, an empty value as a single
// space. A reply of 1 or more is success; 0 is errors.ErrExists; -1 or text is a refusal.
// A record without an id, or with a field named id, is errors.ErrInvalid.
func (w *Wizard) Create(ctx context.Context, r sorcery.Record) error {
	if err := checkRecord("store", r); err != nil {
		return err
	}
	body := appendPair(make([]byte, 0, 64), "id", r.ID)
	body = appendFields(body, r.Fields)
	res, err := w.do(ctx, "store", r.ID, http.MethodPost, w.base+"/store", body)
	if err != nil {
		return err
	}
	return w.writeResult("store", r.ID, res, errors.ErrExists)
}

// Update sends r's fields to /update?id=<id>. The service is told every field of r; fields r
// lacks are not mentioned. A reply of 0 (or a status listed in Options.NotFoundCodes) is
// errors.ErrNotFound.
func (w *Wizard) Update(ctx context.Context, r sorcery.Record) error {
	if err := checkRecord("update", r); err != nil {
		return err
	}
	body := appendFields(make([]byte, 0, 64), r.Fields)
	res, err := w.do(ctx, "update", r.ID, http.MethodPost, w.base+"/update?id="+escape(r.ID), body)
	if err != nil {
		return err
	}
	return w.writeResult("update", r.ID, res, errors.ErrNotFound)
}

// Delete asks /destroy to remove the object with id. A reply of 0 (or a status listed in
// Options.NotFoundCodes) is errors.ErrNotFound.
func (w *Wizard) Delete(ctx context.Context, id string) error {
	if id == "" {
		return newOpError("destroy", id, errors.ErrInvalid, errors.New("empty id"))
	}
	body := appendPair(make([]byte, 0, 4+len(id)), "id", id)
	body = append(body, '&')
	res, err := w.do(ctx, "destroy", id, http.MethodPost, w.base+"/destroy", body)
	if err != nil {
		return err
	}
	return w.writeResult("destroy", id, res, errors.ErrNotFound)
}

// Static reads a configuration file from /static?file=<file>, as Asterisk's static realtime
// mapping (extconfig.conf "pjsip.conf => curl,…") does. It returns the file's categories in
// order, each as a record whose ID is the category name (names may repeat, as in a file) and
// whose fields are its variables, empty values included. An empty reply (or a status listed
// in Options.NotFoundCodes) is no categories.
func (w *Wizard) Static(ctx context.Context, file string) ([]sorcery.Record, error) {
	res, err := w.do(ctx, "static", file, http.MethodGet, w.base+"/static?file="+escape(file), nil)
	if err != nil {
		return nil, err
	}
	if w.absent(res.status) {
		return nil, nil
	}
	if err := w.checkStatus("static", file, res.status); err != nil {
		return nil, err
	}
	cats, err := parseStatic(res.body)
	if err != nil {
		return nil, newOpError("static", file, errors.ErrInvalid, err)
	}
	return cats, nil
}

// Close closes the idle connections of the wizard's own client, or of the Client
// [ReadConfig] built, and those that become idle later; requests under way finish. Later
// calls, and operations after Close, return errors.ErrClosed. Any other Client given in
// Options is left open.
func (w *Wizard) Close() error {
	if !w.closed.CompareAndSwap(false, true) {
		return newOpError("close", "", errors.ErrClosed, nil)
	}
	if w.owned {
		w.client.CloseIdleConnections()
	}
	return nil
}

func checkRecord(op string, r sorcery.Record) error {
	if r.ID == "" {
		return newOpError(op, r.ID, errors.ErrInvalid, errors.New("empty id"))
	}
	for _, f := range r.Fields {
		if f.Name == "" {
			return newOpError(op, r.ID, errors.ErrInvalid, errors.New("a field has no name"))
		}
		if strings.EqualFold(f.Name, "id") {
			return newOpError(op, r.ID, errors.ErrInvalid, errors.New("a field is named id, which is the object id"))
		}
	}
	return nil
}

func appendFields(b []byte, fs sorcery.Fields) []byte {
	for _, f := range fs {
		b = appendPair(b, f.Name, wireValue(f.Value))
	}
	return b
}

// writeResult reads the row count a write answered with: more than 0 is success, 0 is zero
// (ErrExists for a store, ErrNotFound for an update or destroy), -1 or text a refusal.
func (w *Wizard) writeResult(op, id string, res reply, zero error) error {
	if w.absent(res.status) && zero == errors.ErrNotFound {
		return newOpError(op, id, errors.ErrNotFound, &StatusError{Code: res.status})
	}
	if err := w.checkStatus(op, id, res.status); err != nil {
		return err
	}
	n, ok := parseCount(res.body)
	switch {
	case !ok:
		// The reply is not quoted: a garbled reply may carry field values.
		return newOpError(op, id, nil, fmt.Errorf("the service refused: a reply of %d bytes that is not a number", len(res.body)))
	case n == 0:
		return newOpError(op, id, zero, errors.New("the service changed 0 rows"))
	case n < 0:
		return newOpError(op, id, nil, fmt.Errorf("the service refused: %d", n))
	}
	return nil
}

// checkStatus classes a status that is not 2xx: a failure (5xx, 429, FailureCodes) is
// errors.ErrUnavailable; any other is an error of its own.
func (w *Wizard) checkStatus(op, id string, code int) error {
	if w.failed(code) {
		return newOpError(op, id, errors.ErrUnavailable, &StatusError{Code: code})
	}
	if code == http.StatusNotFound {
		return newOpError(op, id, nil, errors.Errorf("%w: is the base URL right? The protocol answers an empty 200 for no such object; Options.NotFoundCodes can list 404", &StatusError{Code: code}))
	}
	if code < 200 || code > 299 {
		return newOpError(op, id, nil, &StatusError{Code: code})
	}
	return nil
}

func (w *Wizard) failed(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || slices.Contains(w.failures, code)
}

// absent reports whether code means "no such object" (Options.NotFoundCodes).
func (w *Wizard) absent(code int) bool {
	return len(w.notFound) > 0 && slices.Contains(w.notFound, code)
}

// Locate returns the URL the object with id is read from: the base URL, its password
// hidden, followed by /single. It implements [sorcery.Locator].
func (w *Wizard) Locate(string) string {
	u, err := url.Parse(w.base)
	if err != nil {
		return "/single"
	}
	return u.Redacted() + "/single"
}

// reply is what a request brought back.
type reply struct {
	status int
	body   []byte
}

// errTimeout is the cause of the wizard's own per-request deadline.
var errTimeout = errors.Errorf("curl: request timed out")

// do sends one request and reads its reply. A failure to get a whole reply is
// errors.ErrUnavailable; a reply over the size limit is errors.ErrInvalid. A failure status
// that the caller classes is returned as a reply, its body not read.
func (w *Wizard) do(ctx context.Context, op, id, method, target string, body []byte) (reply, error) {
	if w.closed.Load() {
		return reply{}, newOpError(op, id, errors.ErrClosed, nil)
	}
	if w.owned {
		// A request that was under way when Close ran may return its connection to the
		// pool: close it too.
		defer func() {
			if w.closed.Load() {
				w.client.CloseIdleConnections()
			}
		}()
	}
	reqCtx, cancel := context.WithTimeoutCause(ctx, w.timeout, errTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(reqCtx, method, target, rd)
	if err != nil {
		return reply{}, newOpError(op, id, errors.ErrInvalid, err)
	}
	if method == http.MethodPost {
		req.Header = w.postHdr
	} else {
		req.Header = w.getHdr
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return reply{}, w.transportError(ctx, reqCtx, op, id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The status says it all. A short body of known length is read so that the
		// connection can be reused; any other is not waited for, and the connection is
		// dropped.
		if resp.ContentLength >= 0 && resp.ContentLength <= 4<<10 {
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		return reply{status: resp.StatusCode}, nil
	}
	if w.maxReply >= 0 && resp.ContentLength > w.maxReply {
		return reply{}, newOpError(op, id, errors.ErrInvalid, fmt.Errorf("reply of %d bytes is over the limit of %d", resp.ContentLength, w.maxReply))
	}
	var src io.Reader = resp.Body
	if w.maxReply >= 0 {
		src = io.LimitReader(resp.Body, w.maxReply+1)
	}
	buf, err := readAll(src, resp.ContentLength)
	if err != nil {
		return reply{}, w.transportError(ctx, reqCtx, op, id, err)
	}
	if w.maxReply >= 0 && int64(len(buf)) > w.maxReply {
		return reply{}, newOpError(op, id, errors.ErrInvalid, fmt.Errorf("reply is over the limit of %d bytes", w.maxReply))
	}
	return reply{status: resp.StatusCode, body: buf}, nil
}

// readAll reads r to its end, sizing its buffer from the Content-Length when there is one.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size > 1<<20 {
		size = 512
	}
	buf := make([]byte, 0, size+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// transportError classes an error of sending a request or reading its reply: every such
// error is errors.ErrUnavailable; it also matches the caller's ctx.Err() when ctx ended.
func (w *Wizard) transportError(ctx, reqCtx context.Context, op, id string, err error) error {
	e := &opError{op: op, id: id, class: errors.ErrUnavailable, err: err}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.ctxErr = ctxErr
	} else if context.Cause(reqCtx) == errTimeout {
		e.err = errors.Errorf("no reply within %v: %w", w.timeout, context.DeadlineExceeded)
	}
	return e
}

// StatusError is an HTTP status that is not the answer asked for. errors.As finds it in the
// errors of a [Wizard]; a 5xx, a 429 or one of Options.FailureCodes comes wrapped together
// with errors.ErrUnavailable.
type StatusError struct {
	Code int // the HTTP status code
}

// Error returns "HTTP <code> <text>".
func (e *StatusError) Error() string {
	return "HTTP " + strconv.Itoa(e.Code) + " " + http.StatusText(e.Code)
}

// opError is the error of one operation: the class of the failure (errors.ErrUnavailable,
// errors.ErrInvalid, …), its cause and, when the caller's ctx ended, ctx.Err().
type opError struct {
	op, id string
	class  error
	err    error
	ctxErr error
}

func newOpError(op, id string, class, err error) error {
	return &opError{op: op, id: id, class: class, err: err}
}

func (e *opError) Error() string { return "sorcery: " + e.Detail() }

// Detail is Error without the library's name (see errors.Detailer).
func (e *opError) Detail() string {
	var b strings.Builder
	b.WriteString("curl ")
	b.WriteString(e.op)
	if e.id != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.id))
	}
	if e.class != nil {
		b.WriteString(": ")
		b.WriteString(errors.Detail(e.class))
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(errors.Detail(e.err))
	}
	return b.String()
}

func (e *opError) Unwrap() []error {
	errs := make([]error, 0, 3)
	for _, err := range []error{e.class, e.err, e.ctxErr} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
