package curl

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// DefaultMaxRequestBytes is the largest request body a handler reads when
// HandlerOptions.MaxRequestBytes is zero: 1 MiB.
const DefaultMaxRequestBytes = 1 << 20

// HandlerOptions configures the handler [NewHandler] returns. A nil *HandlerOptions and every
// zero field mean the documented default.
type HandlerOptions struct {
	// MaxRequestBytes bounds a request body; a longer one is answered 413. Zero:
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64

	// FailureStatus is the status of the reply when the wizard fails (an error other than a
	// bad request, a missing object or an existing one): a status that makes a client fail
	// over to its next source. Zero, or a status outside 500–599: 503 Service Unavailable,
	// which this package's client reads as errors.ErrUnavailable and which Asterisk's
	// failurecodes can list.
	FailureStatus int

	// Timeout bounds each call of the wizard; a call that runs out of time is answered with
	// FailureStatus. Zero: only the request's own context bounds it.
	Timeout time.Duration

	// StaticFiles names the configuration files served at /static?file=<name>: each is
	// built from every object of the wizard, one category per object named by its id and
	// holding its fields in order. It needs a [sorcery.Searcher]. A name not listed is
	// answered 404. Zero: every /static request is answered 404.
	StaticFiles []string

	// Logger receives one record for each request the wizard failed to answer. Zero: no
	// logging.
	Logger *slog.Logger

	// KeyField is the column that names an object in the family served, for families keyed
	// by another column than id: Asterisk's sippeers and iaxpeers are keyed by name
	// (chan_iax2.c loads iaxpeers by "name"), voicemail by uniqueid (app_voicemail.c). The
	// handler then reads the object id from that column in a store, an update key or a
	// condition, and writes it as that column, first in each row, instead of id=. Zero: id.
	KeyField string
}

// handler serves a wizard over Asterisk's res_config_curl protocol.
type handler struct {
	w        sorcery.Wizard
	maxBody  int64
	failCode int
	timeout  time.Duration
	static   []string
	log      *slog.Logger
	key      string // the column naming objects: "id" or HandlerOptions.KeyField
}

// NewHandler returns an http.Handler that serves w over Asterisk's res_config_curl protocol,
// so that Asterisk, and this package's [Wizard], can use a provisioning service written in
// Go. It routes on the last segment of the request path, so it can be mounted under any
// prefix: the base URL given to Asterisk is the prefix.
//
//	POST …/single              first object matching the form's conditions, one row, or an empty body
//	POST …/multi               every object matching the conditions, one row per line
//	POST …/store               create the object the form describes; answers 1, or 0 when it exists
//	POST …/update?<key>=<val>  update the objects the query selects with the form's fields
//	POST …/destroy             delete the objects matching the form's conditions
//	POST …/require             0: the requirements are met (as contrib/scripts/dbsep.cgi answers)
//	GET  …/static?file=<name>  HandlerOptions.StaticFiles, as configuration lines
//
// Conditions are name=value pairs, the name carrying an operator after a space ("id LIKE");
// a form is decoded as PHP decodes one, so + is a space (Asterisk escapes + as %2B). Rows are
// written as Asterisk expects: id first, every name and value escaped, an explicitly empty
// value as a single space. A write is always answered with a number: the count of objects it
// changed, 0 for none, -1 for a failure.
//
// Conditions on the id alone are answered with Retrieve, Delete and Update; any other needs a
// [sorcery.Searcher] and is answered 501 without one, as is a write to a wizard that is not a
// [sorcery.Writer]. A bad request is 400; when the wizard fails the reply carries
// HandlerOptions.FailureStatus (503) so that clients fail over. An update changes the fields
// sent on each object selected and keeps the others, as an SQL UPDATE does: res_config_curl's
// update_curl (the realtime update CLI, dialplan REALTIME()= writes) sends only the columns
// to change, and res_sorcery_realtime sends every field. An empty value in an update removes
// the field. A family keyed by another column than id names it in HandlerOptions.KeyField.
// /require is answered 0 whatever it asks: a wizard stores any field, of any length.
// A request body over HandlerOptions.MaxRequestBytes is answered 413 and read no further.
//
// The handler is safe for concurrent use when w is, and never panics on a malformed request.
func NewHandler(w sorcery.Wizard, opts *HandlerOptions) http.Handler {
	h := &handler{w: w, maxBody: DefaultMaxRequestBytes, failCode: http.StatusServiceUnavailable, key: "id"}
	if opts != nil {
		if k := strings.TrimSpace(opts.KeyField); k != "" {
			h.key = k
		}
		if opts.MaxRequestBytes > 0 {
			h.maxBody = opts.MaxRequestBytes
		}
		if opts.FailureStatus >= 500 && opts.FailureStatus <= 599 {
			h.failCode = opts.FailureStatus
		}
		h.timeout = opts.Timeout
		h.static = slices.Clone(opts.StaticFiles)
		h.log = opts.Logger
	}
	return h
}

// hError is an answer other than success: its status, and for a write its count.
type hError struct {
	status int
	err    error
}

func (e *hError) Error() string { return e.err.Error() }

// Detail is the cause's (see errors.Detailer).
func (e *hError) Detail() string { return errors.Detail(e.err) }
func (e *hError) Unwrap() error  { return e.err }

func badRequest(format string, args ...any) error {
	return &hError{status: http.StatusBadRequest, err: errors.Errorf("curl handler: "+format+": %w", append(args, errors.ErrInvalid)...)}
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	op := r.URL.Path
	if i := strings.LastIndexByte(op, '/'); i >= 0 {
		op = op[i+1:]
	}
	write := false
	switch op {
	case "single", "multi":
	case "store", "update", "destroy", "require":
		write = true
	case "static":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			rw.Header().Set("Allow", "GET, HEAD")
			http.Error(rw, "", http.StatusMethodNotAllowed)
			return
		}
		h.serveStatic(rw, r)
		return
	default:
		http.NotFound(rw, r)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", "POST")
		h.fail(rw, r, write, &hError{status: http.StatusMethodNotAllowed, err: errors.Errorf("curl handler: %s %s: method not allowed", r.Method, op)})
		return
	}
	form, err := h.readForm(rw, r)
	if err != nil {
		h.fail(rw, r, write, err)
		return
	}
	ctx := r.Context()
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	var body []byte
	switch op {
	case "single":
		body, err = h.single(ctx, form)
	case "multi":
		body, err = h.multi(ctx, form)
	case "store":
		body, err = h.store(ctx, form)
	case "update":
		var lookup []pair
		lookup, err = parseForm(r.URL.RawQuery)
		if err != nil {
			err = &hError{status: http.StatusBadRequest, err: err}
		} else {
			body, err = h.update(ctx, lookup, form)
		}
	case "destroy":
		body, err = h.destroy(ctx, form)
	case "require":
		// res_config_curl's require_curl reads the reply with atoi: 0 is "met". A wizard
		// has no column types or widths to check.
		body = []byte("0\n")
	}
	if err != nil {
		h.fail(rw, r, write, err)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(body)
}

// readForm reads and decodes the request body, refusing one over the size limit.
func (h *handler) readForm(rw http.ResponseWriter, r *http.Request) ([]pair, error) {
	if r.ContentLength > h.maxBody {
		return nil, &hError{status: http.StatusRequestEntityTooLarge, err: errors.Errorf("curl handler: request of %d bytes is over the limit of %d: %w", r.ContentLength, h.maxBody, errors.ErrInvalid)}
	}
	b, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &hError{status: http.StatusRequestEntityTooLarge, err: errors.Errorf("curl handler: request over the limit of %d bytes: %w", h.maxBody, errors.ErrInvalid)}
		}
		return nil, &hError{status: http.StatusBadRequest, err: errors.Errorf("curl handler: reading the request: %w", err)}
	}
	form, err := parseForm(string(b))
	if err != nil {
		return nil, &hError{status: http.StatusBadRequest, err: err}
	}
	return form, nil
}

// fail answers a request that did not succeed. A write is answered with -1, as Asterisk
// expects a number; a read with an empty body.
func (h *handler) fail(rw http.ResponseWriter, r *http.Request, write bool, err error) {
	status := h.failCode
	var he *hError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.Is(err, errors.ErrUnavailable):
	case errors.Is(err, errors.ErrUnsupported), errors.Is(err, errors.ErrReadOnly):
		status = http.StatusNotImplemented
	case write && errors.Is(err, errors.ErrInvalid):
		// The wizard refused the record sent. On a read the request was already checked,
		// so an ErrInvalid there is the wizard's own source failing.
		status = http.StatusBadRequest
	}
	if h.log != nil {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "sorcery: curl handler: request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	if !write {
		rw.Header().Set("Content-Length", "0")
		rw.WriteHeader(status)
		return
	}
	rw.Header().Set("Content-Length", "3")
	rw.WriteHeader(status)
	_, _ = io.WriteString(rw, "-1\n")
}

// conditions turns form pairs into query conditions, a condition on the key column becoming
// one on the id.
func (h *handler) conditions(form []pair) ([]sorcery.Condition, error) {
	conds := make([]sorcery.Condition, 0, len(form))
	for _, p := range form {
		c, err := sorcery.ParseCondition(p.Name, fieldValue(p.Value))
		if err != nil {
			return nil, &hError{status: http.StatusBadRequest, err: err}
		}
		if strings.EqualFold(c.Field, h.key) {
			c.Field = "id"
		}
		conds = append(conds, c)
	}
	return conds, nil
}

// onlyID returns the id when conds is exactly one equality on the id.
func onlyID(conds []sorcery.Condition) (string, bool) {
	if len(conds) == 1 && conds[0].Op == sorcery.OpEqual && strings.EqualFold(conds[0].Field, "id") {
		return conds[0].Value, true
	}
	return "", false
}

// query builds the query for conds, turning "id LIKE '%'" and "id LIKE 'prefix%'" into the
// forms a wizard answers best.
func query(conds []sorcery.Condition) sorcery.Query {
	var q sorcery.Query
	for _, c := range conds {
		if c.Op == sorcery.OpLike && strings.EqualFold(c.Field, "id") {
			if c.Value == "%" {
				continue
			}
			if p, ok := plainPrefix(c.Value); ok && q.IDPrefix == "" {
				q.IDPrefix = p
				continue
			}
		}
		q.Conditions = append(q.Conditions, c)
	}
	return q
}

// plainPrefix reports whether the LIKE pattern is a literal followed by one %, and returns
// the literal.
func plainPrefix(pattern string) (string, bool) {
	if !strings.HasSuffix(pattern, "%") {
		return "", false
	}
	lit := pattern[:len(pattern)-1]
	if lit == "" || strings.ContainsAny(lit, `%_\`) {
		return "", false
	}
	return lit, true
}

// search runs q on the wizard and sorts the result by id.
func (h *handler) search(ctx context.Context, conds []sorcery.Condition) ([]sorcery.Record, error) {
	if id, ok := onlyID(conds); ok {
		r, found, err := h.w.Retrieve(ctx, id)
		if err != nil || !found {
			return nil, err
		}
		return []sorcery.Record{r}, nil
	}
	s, ok := sorcery.Capability[sorcery.Searcher](h.w)
	if !ok {
		return nil, &hError{status: http.StatusNotImplemented, err: errors.Errorf("curl handler: the wizard cannot search: %w", errors.ErrUnsupported)}
	}
	q := query(conds)
	if _, err := q.Compile(); err != nil {
		return nil, &hError{status: http.StatusBadRequest, err: err}
	}
	rs, err := s.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rs, func(a, b sorcery.Record) int { return strings.Compare(a.ID, b.ID) })
	return rs, nil
}

func (h *handler) single(ctx context.Context, form []pair) ([]byte, error) {
	conds, err := h.conditions(form)
	if err != nil {
		return nil, err
	}
	if len(conds) == 0 {
		return nil, badRequest("single without conditions")
	}
	rs, err := h.search(ctx, conds)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return append(appendRecordKeyed(nil, h.key, rs[0]), '\n'), nil
}

func (h *handler) multi(ctx context.Context, form []pair) ([]byte, error) {
	conds, err := h.conditions(form)
	if err != nil {
		return nil, err
	}
	rs, err := h.search(ctx, conds)
	if err != nil {
		return nil, err
	}
	var b []byte
	for _, r := range rs {
		b = appendRecordKeyed(b, h.key, r)
		b = append(b, '\n')
	}
	return b, nil
}

// record builds a record from the fields of a store or an update, its id from the key
// column: empty values are unset and left out (their names are returned apart), a single
// space is an explicitly empty value.
func (h *handler) record(form []pair) (r sorcery.Record, unset []string, err error) {
	hasID := false
	for _, p := range form {
		if p.Name == "" {
			continue
		}
		if strings.EqualFold(p.Name, h.key) {
			if hasID {
				return r, nil, badRequest("two values of %s", h.key)
			}
			r.ID, hasID = fieldValue(p.Value), true
			continue
		}
		if p.Value == "" {
			unset = append(unset, p.Name)
			continue
		}
		r.Fields = append(r.Fields, sorcery.Field{Name: p.Name, Value: fieldValue(p.Value)})
	}
	return r, unset, nil
}

func (h *handler) writer() (sorcery.Writer, error) {
	wr, ok := sorcery.Capability[sorcery.Writer](h.w)
	if !ok {
		return nil, &hError{status: http.StatusNotImplemented, err: errors.Errorf("curl handler: the wizard cannot write: %w", errors.ErrUnsupported)}
	}
	return wr, nil
}

func count(n int) []byte { return strconv.AppendInt(nil, int64(n), 10) }

func (h *handler) store(ctx context.Context, form []pair) ([]byte, error) {
	wr, err := h.writer()
	if err != nil {
		return nil, err
	}
	r, _, err := h.record(form)
	if err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, badRequest("store without %s", h.key)
	}
	if err := wr.Create(ctx, r); err != nil {
		if errors.Is(err, errors.ErrExists) {
			return count(0), nil
		}
		return nil, err
	}
	return count(1), nil
}

func (h *handler) update(ctx context.Context, lookup, form []pair) ([]byte, error) {
	wr, err := h.writer()
	if err != nil {
		return nil, err
	}
	conds, err := h.conditions(lookup)
	if err != nil {
		return nil, err
	}
	if len(conds) == 0 {
		return nil, badRequest("update without a key")
	}
	change, unset, err := h.record(form)
	if err != nil {
		return nil, err
	}
	if change.ID != "" {
		if id, ok := onlyID(conds); !ok || change.ID != id {
			return nil, badRequest("an update cannot change %s", h.key)
		}
	}
	rs, err := h.search(ctx, conds)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, r := range rs {
		for _, name := range change.Fields.Names() {
			r.Fields.Del(name)
		}
		for _, name := range unset {
			r.Fields.Del(name)
		}
		r.Fields = append(r.Fields, change.Fields...)
		if err := wr.Update(ctx, r); err != nil {
			if errors.Is(err, errors.ErrNotFound) {
				continue // deleted meanwhile
			}
			return nil, err
		}
		n++
	}
	return count(n), nil
}

func (h *handler) destroy(ctx context.Context, form []pair) ([]byte, error) {
	wr, err := h.writer()
	if err != nil {
		return nil, err
	}
	conds, err := h.conditions(form)
	if err != nil {
		return nil, err
	}
	if len(conds) == 0 {
		return nil, badRequest("destroy without conditions")
	}
	if id, ok := onlyID(conds); ok {
		if err := wr.Delete(ctx, id); err != nil {
			if errors.Is(err, errors.ErrNotFound) {
				return count(0), nil
			}
			return nil, err
		}
		return count(1), nil
	}
	rs, err := h.search(ctx, conds)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, r := range rs {
		if err := wr.Delete(ctx, r.ID); err != nil {
			if errors.Is(err, errors.ErrNotFound) {
				continue
			}
			return nil, err
		}
		n++
	}
	return count(n), nil
}

// serveStatic answers /static?file=<name> with every object of the wizard as a category.
func (h *handler) serveStatic(rw http.ResponseWriter, r *http.Request) {
	lookup, err := parseForm(r.URL.RawQuery)
	if err != nil {
		h.fail(rw, r, false, &hError{status: http.StatusBadRequest, err: err})
		return
	}
	var file string
	for _, p := range lookup {
		if p.Name == "file" {
			file = p.Value
		}
	}
	if file == "" || !slices.Contains(h.static, file) {
		h.fail(rw, r, false, &hError{status: http.StatusNotFound, err: errors.Errorf("curl handler: no static file %q", truncate(file))})
		return
	}
	ctx := r.Context()
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	rs, err := h.search(ctx, nil)
	if err != nil {
		h.fail(rw, r, false, err)
		return
	}
	var b []byte
	for i, rec := range rs {
		for j, f := range rec.Fields {
			b = appendStaticLine(b, rec.ID, i, j, f.Name, f.Value)
		}
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	rw.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(b)
	}
}
