package sorceryhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Options configures a [Handler]. The zero value serves every page and action, shows no
// field values, and refuses cross-origin browser posts.
type Options struct {
	// ReadOnly refuses every action with 403 Forbidden and leaves the buttons out of the page.
	ReadOnly bool
	// ShowFields names the fields whose values the answer about one object
	// (GET /api/types/{type}/objects/{id}) may carry, taken from the object as its cache holds
	// it; of any type that has them. Nil shows none: answers carry ids and states only. Never
	// name a field that holds a secret (a password, a key).
	ShowFields []string
	// CrossOrigin checks every action request. Nil means http.NewCrossOriginProtection():
	// browser requests from another origin are refused, as are form posts whose
	// Sec-Fetch-Site or Origin says they come from elsewhere; requests without those headers
	// (curl, scripts) pass. Add trusted origins to one of your own.
	CrossOrigin *http.CrossOriginProtection
}

// MaxLimit is the largest page a listing of entries returns.
const MaxLimit = 1000

// Handler serves the operator's view of a Sorcery. Make one with [New].
type Handler struct {
	s    *sorcery.Sorcery
	opts Options
	mux  *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns a handler over s. A nil opts means the zero [Options].
func New(s *sorcery.Sorcery, opts *Options) *Handler {
	h := &Handler{s: s}
	if opts != nil {
		h.opts = *opts
		h.opts.ShowFields = slices.Clone(opts.ShowFields)
	}
	if h.opts.CrossOrigin == nil {
		h.opts.CrossOrigin = http.NewCrossOriginProtection()
	}
	h.opts.CrossOrigin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "sorceryhttp: cross-origin request refused: an action must come from the page's own origin")
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.servePage)
	mux.HandleFunc("GET /types/{type}/caches/{cache}", h.serveCachePage)
	mux.HandleFunc("GET /api/types", h.serveTypes)
	mux.HandleFunc("GET /api/types/{type}", h.serveType)
	mux.HandleFunc("GET /api/types/{type}/caches/{cache}/entries", h.serveEntries)
	mux.HandleFunc("GET /api/types/{type}/objects/{id...}", h.serveObject)
	action := func(f http.HandlerFunc) http.Handler { return h.opts.CrossOrigin.Handler(h.guard(f)) }
	mux.Handle("POST /api/types/{type}/caches/{cache}/expire", action(h.expire))
	mux.Handle("POST /api/types/{type}/caches/{cache}/stale", action(h.stale))
	mux.Handle("POST /api/types/{type}/caches/{cache}/populate", action(h.populate))
	h.mux = mux
	return h
}

// ServeHTTP serves the page, the API and the actions, relative to where h is mounted.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "" {
		// Mounted with StripPrefix and asked for the prefix without its slash: the page's
		// relative links need it.
		http.Redirect(w, r, strings.SplitN(r.RequestURI, "?", 2)[0]+"/", http.StatusMovedPermanently)
		return
	}
	next, pattern := h.mux.Handler(r)
	if pattern == "" {
		// No route: the mux answers 404, or 405 with Allow when the path takes other methods.
		next.ServeHTTP(&notFoundWriter{ResponseWriter: w, path: r.URL.Path}, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// notFoundWriter turns the mux's plain-text 404 into the API's JSON error.
type notFoundWriter struct {
	http.ResponseWriter
	path     string
	replaced bool
}

func (w *notFoundWriter) WriteHeader(status int) {
	if status == http.StatusNotFound {
		w.replaced = true
		w.Header().Del("Content-Type")
		w.Header().Del("X-Content-Type-Options")
		writeError(w.ResponseWriter, status, fmt.Sprintf("sorceryhttp: no page %q here (see / and /api/types)", w.path))
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *notFoundWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// guard refuses actions in read-only mode and bounds their body.
func (h *Handler) guard(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.ReadOnly {
			writeError(w, http.StatusForbidden, "sorceryhttp: read-only: actions are disabled")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "sorceryhttp: bad form: "+err.Error())
			return
		}
		f(w, r)
	}
}

// requestError is a failure answered with a status.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &requestError{status: status, msg: fmt.Sprintf("sorceryhttp: "+format, args...)}
}

// answer writes err with its status.
func answer(w http.ResponseWriter, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		writeError(w, re.status, re.msg)
	case errors.Is(err, errors.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "sorceryhttp: the sorcery is closed")
	default:
		writeError(w, http.StatusInternalServerError, "sorceryhttp: "+err.Error())
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// chain returns the layers of the type named in r's path.
func (h *Handler) chain(r *http.Request) (string, []sorcery.Layer, error) {
	name := r.PathValue("type")
	ls, err := h.s.Chain(name)
	switch {
	case errors.Is(err, errors.ErrClosed):
		return "", nil, err
	case err != nil:
		return "", nil, fail(http.StatusNotFound, "unknown type %q (types: %s)", name, strings.Join(h.typeNames(), ", "))
	}
	return name, ls, nil
}

func (h *Handler) typeNames() []string {
	var names []string
	for _, t := range h.s.Stats().Types {
		names = append(names, t.Name)
	}
	return names
}

// cacheOf returns the cache layer named in r's path.
func (h *Handler) cacheOf(r *http.Request) (typeName string, c sorcery.CacheAdmin, err error) {
	typeName, ls, err := h.chain(r)
	if err != nil {
		return "", nil, err
	}
	name := r.PathValue("cache")
	var names []string
	for _, l := range ls {
		if l.Cache == nil {
			continue
		}
		if l.Name == name {
			return typeName, l.Cache, nil
		}
		names = append(names, l.Name)
	}
	if len(names) == 0 {
		return "", nil, fail(http.StatusNotFound, "type %q has no cache", typeName)
	}
	return "", nil, fail(http.StatusNotFound, "type %q has no cache %q (caches: %s)", typeName, name, strings.Join(names, ", "))
}

// The JSON answers. Durations are in seconds; times are RFC 3339, absent when they never
// happen.

type typeJSON struct {
	Name     string      `json:"name"`
	Degraded bool        `json:"degraded"`
	Chain    []layerJSON `json:"chain"`
}

type layerJSON struct {
	Kind   string      `json:"kind"` // "wizard" or "cache"
	Name   string      `json:"name"`
	Wizard *wizardJSON `json:"wizard,omitempty"`
	Cache  *cacheJSON  `json:"cache,omitempty"`
}

type wizardJSON struct {
	Failing            bool            `json:"failing"`
	LastErrorClass     string          `json:"last_error_class,omitempty"`
	LastErrorOperation string          `json:"last_error_operation,omitempty"`
	LastErrorAt        *time.Time      `json:"last_error_at,omitempty"`
	LastOKAt           *time.Time      `json:"last_ok_at,omitempty"`
	Operations         []operationJSON `json:"operations"`
}

type operationJSON struct {
	Operation          string  `json:"operation"`
	Found              uint64  `json:"found"`
	NotFound           uint64  `json:"not_found"`
	OK                 uint64  `json:"ok"`
	Errors             uint64  `json:"errors"`
	MeanLatencySeconds float64 `json:"mean_latency_seconds"`
}

type cacheJSON struct {
	CoveringOutage bool        `json:"covering_outage"`
	Options        optionsJSON `json:"options"`
	Stats          statsJSON   `json:"stats"`
}

// optionsJSON are a cache's options under their Asterisk names ("sorcery memory cache show").
type optionsJSON struct {
	MaximumObjects        int     `json:"maximum_objects"`
	ObjectLifetimeMaximum float64 `json:"object_lifetime_maximum"`
	ObjectLifetimeStale   float64 `json:"object_lifetime_stale"`
	ExpireOnReload        bool    `json:"expire_on_reload"`
	FullBackendCache      bool    `json:"full_backend_cache"`
	StaleIfError          float64 `json:"stale_if_error"`
	ErrorRecheck          float64 `json:"error_recheck"`
	NegativeLifetime      float64 `json:"negative_lifetime"`
}

type statsJSON struct {
	Objects           int        `json:"objects"`
	NegativeObjects   int        `json:"negative_objects"`
	Extended          int        `json:"extended"`
	RefreshesInFlight int        `json:"refreshes_in_flight"`
	OldestAgeSeconds  float64    `json:"oldest_age_seconds"`
	LastSuccess       *time.Time `json:"last_success,omitempty"`
	Complete          bool       `json:"complete"`
	Hits              uint64     `json:"hits"`
	StaleHits         uint64     `json:"stale_hits"`
	ServedExtended    uint64     `json:"served_extended"`
	NegativeHits      uint64     `json:"negative_hits"`
	Misses            uint64     `json:"misses"`
	LoadsFound        uint64     `json:"loads_found"`
	LoadsNotFound     uint64     `json:"loads_not_found"`
	LoadsErrors       uint64     `json:"loads_errors"`
	LoadsDegraded     uint64     `json:"loads_degraded"`
	RefreshUpdated    uint64     `json:"refresh_updated"`
	RefreshRemoved    uint64     `json:"refresh_removed"`
	RefreshErrors     uint64     `json:"refresh_errors"`
	Expired           uint64     `json:"expired"`
	Evicted           uint64     `json:"evicted"`
}

type entryJSON struct {
	ID               string     `json:"id"`
	State            string     `json:"state"`
	Refreshing       bool       `json:"refreshing"`
	LoadedAt         time.Time  `json:"loaded_at"`
	AgeSeconds       float64    `json:"age_seconds"`
	StaleInSeconds   *float64   `json:"stale_in_seconds,omitempty"`
	ExpiresInSeconds *float64   `json:"expires_in_seconds,omitempty"`
	ExtendedSince    *time.Time `json:"extended_since,omitempty"`
}

type pageJSON struct {
	Type    string      `json:"type"`
	Cache   string      `json:"cache"`
	Entries []entryJSON `json:"entries"`
	// Next is the cursor of the next page; absent after the last one.
	Next string `json:"next,omitempty"`
}

type objectJSON struct {
	Type   string            `json:"type"`
	ID     string            `json:"id"`
	Caches []objectCacheJSON `json:"caches"`
	Fields []fieldJSON       `json:"fields,omitempty"`
}

type objectCacheJSON struct {
	Cache  string     `json:"cache"`
	Cached bool       `json:"cached"`
	Entry  *entryJSON `json:"entry,omitempty"`
}

type fieldJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type actionJSON struct {
	Action string `json:"action"` // the AMI action's name
	Type   string `json:"type"`
	Cache  string `json:"cache"`
	Object string `json:"object,omitempty"`
	Reload bool   `json:"reload,omitempty"`
	Done   bool   `json:"done"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.Round(0).UTC() // no monotonic reading
	return &t
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// until returns the seconds from now to t, at least 0; nil when t is zero (never).
func until(t, now time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	s := max(t.Sub(now), 0).Seconds()
	return &s
}

func entryOf(e cache.EntryInfo, now time.Time) entryJSON {
	return entryJSON{
		ID:               e.ID,
		State:            e.State.String(),
		Refreshing:       e.Refreshing,
		LoadedAt:         e.LoadedAt.Round(0).UTC(),
		AgeSeconds:       seconds(e.Age),
		StaleInSeconds:   until(e.StaleAt, now),
		ExpiresInSeconds: until(e.ExpiresAt, now),
		ExtendedSince:    timePtr(e.ExtendedSince),
	}
}

func wizardOf(w sorcery.WizardStats) *wizardJSON {
	out := &wizardJSON{Failing: w.Failing(), LastErrorClass: w.LastErrorClass, LastErrorAt: timePtr(w.LastErrorAt), LastOKAt: timePtr(w.LastOK), Operations: []operationJSON{}}
	if w.LastErrorClass != "" {
		out.LastErrorOperation = w.LastErrorOp.String()
	}
	for _, o := range w.Operations {
		oj := operationJSON{Operation: o.Operation.String(), Found: o.Found, NotFound: o.NotFound, OK: o.OK, Errors: o.Errors}
		if o.Latency.Count > 0 {
			oj.MeanLatencySeconds = (o.Latency.Sum / time.Duration(o.Latency.Count)).Seconds()
		}
		out.Operations = append(out.Operations, oj)
	}
	return out
}

func cacheOf(c sorcery.CacheAdmin, st sorcery.CacheStats) *cacheJSON {
	o := c.Options()
	return &cacheJSON{
		CoveringOutage: st.Extended > 0,
		Options: optionsJSON{
			MaximumObjects: o.MaxObjects, ObjectLifetimeMaximum: seconds(o.LifetimeMaximum),
			ObjectLifetimeStale: seconds(o.LifetimeStale), ExpireOnReload: o.ExpireOnReload,
			FullBackendCache: o.FullBackend, StaleIfError: seconds(o.StaleIfError),
			ErrorRecheck: seconds(o.ErrorRecheck), NegativeLifetime: seconds(o.NegativeLifetime),
		},
		Stats: statsJSON{
			Objects: st.Objects, NegativeObjects: st.NegativeObjects, Extended: st.Extended,
			RefreshesInFlight: st.RefreshesInFlight, OldestAgeSeconds: seconds(st.OldestAge),
			LastSuccess: timePtr(st.LastSuccess), Complete: st.Complete,
			Hits: st.Hits, StaleHits: st.StaleHits, ServedExtended: st.ServedExtended,
			NegativeHits: st.NegativeHits, Misses: st.Misses,
			LoadsFound: st.Loads.Found, LoadsNotFound: st.Loads.NotFound, LoadsErrors: st.Loads.Errors,
			LoadsDegraded: st.Loads.Degraded, RefreshUpdated: st.RefreshUpdated,
			RefreshRemoved: st.RefreshRemoved, RefreshErrors: st.RefreshErrors,
			Expired: st.Expired, Evicted: st.Evicted,
		},
	}
}

// typeView joins a type's stats with its chain.
type typeView struct {
	stats sorcery.TypeStats
	chain []sorcery.Layer
}

// views returns every type, or only the one named (nil when it is not registered).
func (h *Handler) views(only string) ([]typeView, error) {
	var out []typeView
	for _, ts := range h.s.Stats().Types {
		if only != "" && ts.Name != only {
			continue
		}
		ls, err := h.s.Chain(ts.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, typeView{stats: ts, chain: ls})
	}
	return out, nil
}

func (v typeView) json() typeJSON {
	tj := typeJSON{Name: v.stats.Name, Degraded: v.stats.Degraded, Chain: []layerJSON{}}
	for _, l := range v.chain {
		if l.Cache != nil {
			st, _ := v.cacheStats(l.Name)
			tj.Chain = append(tj.Chain, layerJSON{Kind: "cache", Name: l.Name, Cache: cacheOf(l.Cache, st)})
			continue
		}
		ws, _ := v.wizardStats(l.Name)
		tj.Chain = append(tj.Chain, layerJSON{Kind: "wizard", Name: l.Name, Wizard: wizardOf(ws)})
	}
	return tj
}

func (v typeView) cacheStats(name string) (sorcery.CacheStats, bool) {
	for _, c := range v.stats.Caches {
		if c.Name == name {
			return c, true
		}
	}
	return sorcery.CacheStats{Stats: cache.Stats{Name: name}}, false
}

func (v typeView) wizardStats(name string) (sorcery.WizardStats, bool) {
	for _, w := range v.stats.Wizards {
		if w.Name == name {
			return w, true
		}
	}
	return sorcery.WizardStats{Name: name}, false
}

func (h *Handler) serveTypes(w http.ResponseWriter, r *http.Request) {
	vs, err := h.views("")
	if err != nil {
		answer(w, err)
		return
	}
	out := struct {
		Types []typeJSON `json:"types"`
	}{Types: []typeJSON{}}
	for _, v := range vs {
		out.Types = append(out.Types, v.json())
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) serveType(w http.ResponseWriter, r *http.Request) {
	name, _, err := h.chain(r)
	if err != nil {
		answer(w, err)
		return
	}
	vs, err := h.views(name)
	if err != nil {
		answer(w, err)
		return
	}
	if len(vs) == 0 {
		answer(w, fail(http.StatusNotFound, "unknown type %q", name))
		return
	}
	writeJSON(w, http.StatusOK, vs[0].json())
}

// listing returns the page of entries r asks for (?limit, ?cursor, ?state) of the cache
// named in its path.
func (h *Handler) listing(r *http.Request) (typeName string, o *cache.ListOptions, page cache.EntryPage, err error) {
	typeName, c, err := h.cacheOf(r)
	if err != nil {
		return "", nil, page, err
	}
	q := r.URL.Query()
	o = &cache.ListOptions{Cursor: q.Get("cursor"), Limit: cache.DefaultListLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return "", nil, page, fail(http.StatusBadRequest, "bad limit %q: want a whole number from 1 to %d", s, MaxLimit)
		}
		o.Limit = n
	}
	if s := q.Get("state"); s != "" {
		st, err := cache.ParseState(s)
		if err != nil {
			return "", nil, page, fail(http.StatusBadRequest, "bad state %q: want fresh, stale, refreshing, extended or negative", s)
		}
		o.State = st
	}
	page, err = c.List(o)
	if errors.Is(err, errors.ErrInvalid) {
		return "", nil, page, fail(http.StatusBadRequest, "bad cursor %q: pass the next of a page of this cache, or none to start", o.Cursor)
	}
	return typeName, o, page, err
}

func (h *Handler) serveEntries(w http.ResponseWriter, r *http.Request) {
	typeName, _, page, err := h.listing(r)
	if err != nil {
		answer(w, err)
		return
	}
	now := time.Now()
	out := pageJSON{Type: typeName, Cache: r.PathValue("cache"), Entries: make([]entryJSON, 0, len(page.Entries)), Next: page.Next}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, entryOf(e, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) serveObject(w http.ResponseWriter, r *http.Request) {
	typeName, ls, err := h.chain(r)
	if err != nil {
		answer(w, err)
		return
	}
	id := r.PathValue("id")
	if id == "" {
		answer(w, fail(http.StatusBadRequest, "empty object id"))
		return
	}
	out := objectJSON{Type: typeName, ID: id, Caches: []objectCacheJSON{}}
	now := time.Now()
	cached := false
	for _, l := range ls {
		if l.Cache == nil {
			continue
		}
		oc := objectCacheJSON{Cache: l.Name}
		if info, ok := l.Cache.Inspect(id); ok {
			e := entryOf(info, now)
			oc.Cached, oc.Entry = true, &e
			cached = true
		}
		out.Caches = append(out.Caches, oc)
	}
	switch {
	case len(out.Caches) == 0:
		answer(w, fail(http.StatusNotFound, "type %q has no cache: its objects are not held in memory", typeName))
		return
	case !cached:
		answer(w, fail(http.StatusNotFound, "object %q of type %q is in none of its caches", id, typeName))
		return
	}
	if len(h.opts.ShowFields) > 0 {
		rec, found, err := h.s.PeekRecord(typeName, id)
		if err != nil {
			answer(w, fail(http.StatusInternalServerError, "object %q of type %q cannot be encoded", id, typeName))
			return
		}
		if found {
			for _, name := range h.opts.ShowFields {
				for _, v := range rec.Fields.Values(name) {
					out.Fields = append(out.Fields, fieldJSON{Name: name, Value: v})
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// The actions. Each answers JSON, or a browser's form post with a redirect to the page.

func (h *Handler) expire(w http.ResponseWriter, r *http.Request) {
	typeName, c, err := h.cacheOf(r)
	if err != nil {
		answer(w, err)
		return
	}
	res := actionJSON{Type: typeName, Cache: r.PathValue("cache"), Object: r.Form.Get("object"), Done: true}
	if err := notCached(c, typeName, res); err != nil {
		answer(w, err)
		return
	}
	if res.Object != "" {
		res.Action = "SorceryMemoryCacheExpireObject"
		c.Expire(res.Object)
	} else {
		res.Action = "SorceryMemoryCacheExpire"
		c.ExpireAll()
	}
	h.done(w, r, res)
}

func (h *Handler) stale(w http.ResponseWriter, r *http.Request) {
	typeName, c, err := h.cacheOf(r)
	if err != nil {
		answer(w, err)
		return
	}
	res := actionJSON{Type: typeName, Cache: r.PathValue("cache"), Object: r.Form.Get("object"), Done: true}
	if s := r.Form.Get("reload"); s != "" {
		reload, ok := truth(s)
		if !ok {
			answer(w, fail(http.StatusBadRequest, "bad reload %q: want yes or no", s))
			return
		}
		res.Reload = reload
	}
	if err := notCached(c, typeName, res); err != nil {
		answer(w, err)
		return
	}
	switch {
	case res.Object != "":
		res.Action = "SorceryMemoryCacheStaleObject"
		c.MarkStale(res.Object, res.Reload)
	case res.Reload:
		// As Asterisk's "sorcery memory cache stale <cache> [object [reload]]": reload
		// applies to one object.
		answer(w, fail(http.StatusBadRequest, "reload needs an object: marking every object stale reloads each at its next read"))
		return
	default:
		res.Action = "SorceryMemoryCacheStale"
		c.MarkAllStale()
	}
	h.done(w, r, res)
}

func (h *Handler) populate(w http.ResponseWriter, r *http.Request) {
	typeName, c, err := h.cacheOf(r)
	if err != nil {
		answer(w, err)
		return
	}
	res := actionJSON{Action: "SorceryMemoryCachePopulate", Type: typeName, Cache: r.PathValue("cache")}
	if err := c.Populate(r.Context()); err != nil {
		status := http.StatusBadGateway // the sources could not answer: the cache is as it was
		if errors.Is(err, errors.ErrUnsupported) {
			status = http.StatusConflict
		}
		answer(w, fail(status, "populate %s/%s: the cache is left as it was: %s", typeName, res.Cache, sorceryErrorClass(err)))
		return
	}
	res.Done = true
	h.done(w, r, res)
}

// notCached refuses an action on one object that the cache does not hold, as Asterisk's
// SorceryMemoryCacheExpireObject and SorceryMemoryCacheStaleObject do.
func notCached(c sorcery.CacheAdmin, typeName string, res actionJSON) error {
	if res.Object == "" {
		return nil
	}
	if _, ok := c.Inspect(res.Object); !ok {
		return fail(http.StatusNotFound, "object %q is not in cache %s/%s: nothing to do", res.Object, typeName, res.Cache)
	}
	return nil
}

// sorceryErrorClass describes err by its class only: a wizard's error text may quote a field.
func sorceryErrorClass(err error) string {
	for _, c := range []struct {
		target error
		says   string
	}{
		{errors.ErrUnsupported, "no wizard of the type can list every object"},
		{errors.ErrUnavailable, "a source is unavailable"},
		{errors.ErrInvalid, "a source answered an object that does not decode"},
		{errors.ErrClosed, "closed"},
	} {
		if errors.Is(err, c.target) {
			return c.says
		}
	}
	return "a source failed"
}

// truth reads an Asterisk truth value.
func truth(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "y", "t", "1", "on":
		return true, true
	case "no", "false", "n", "f", "0", "off":
		return false, true
	}
	return false, false
}

// done answers a successful action: a redirect to the page for a browser's form, JSON
// otherwise.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, res actionJSON) {
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		q := url.Values{"done": {res.Action}, "type": {res.Type}, "cache": {res.Cache}}
		if res.Object != "" {
			q.Set("object", res.Object)
		}
		// Relative to where the handler is mounted, which only the client knows.
		w.Header().Set("Location", rootOf(r.URL.Path)+"?"+q.Encode())
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// rootOf returns the relative reference from path back to the mount point.
func rootOf(path string) string {
	n := strings.Count(path, "/") - 1
	if n <= 0 {
		return "./"
	}
	return strings.Repeat("../", n)
}
