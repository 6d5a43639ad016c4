package sorceryhttp

import (
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/sorcery"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"ago":   ago,
	"clock": clock,
	"path":  url.PathEscape,
}).Parse(pageHTML))

// extendedShown is how many extended objects the page lists per cache.
const extendedShown = 20

// The page's view model.

type pageView struct {
	Now      time.Time
	ReadOnly bool
	Root     string // relative reference to the mount point
	Notice   string
	Types    []pageType
	Cache    *cachePage // set on a cache's own page
}

type pageType struct {
	Name     string
	Degraded bool
	Outage   bool
	HasCache bool
	Layers   []pageLayer
}

type pageLayer struct {
	Name   string
	Wizard *pageWizard
	Cache  *pageCache
}

type pageWizard struct {
	Found, NotFound, OK, Errors uint64
	Failing                     bool
	LastErrorClass, LastErrorOp string
	LastErrorAt, LastOK         time.Time
}

type pageCache struct {
	Type, Name string
	Root       string // relative reference to the mount point
	ReadOnly   bool
	Options    cache.Options
	Stats      sorcery.CacheStats
	// Covering reports that the cache serves objects past a failed refresh.
	Covering bool
	Failing  []string // the names of the type's wizards whose last call failed
	// Extended lists some of the objects served past a failed refresh, the longest
	// extended first; ExtendedSince is the earliest of theirs.
	Extended      []pageEntry
	ExtendedSince time.Time
	More          bool // more objects are extended than listed
}

// objectArgs are what an object's buttons need.
type objectArgs struct {
	API string // the cache's actions, ending in a slash
	ID  string
}

// Obj returns the arguments of id's buttons.
func (c *pageCache) Obj(id string) objectArgs {
	return objectArgs{API: c.Root + "api/types/" + url.PathEscape(c.Type) + "/caches/" + url.PathEscape(c.Name) + "/", ID: id}
}

type pageEntry struct {
	cache.EntryInfo
	StaleIn, ExpiresIn time.Duration // -1: never
}

type cachePage struct {
	C       *pageCache
	State   string
	States  []string
	Entries []pageEntry
	Next    string
	Limit   int
}

func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "never"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		// 1h0m0s reads as 1h, 2m30s as it is.
		s := d.Round(time.Second).String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	}
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("15:04:05 UTC")
}

func entryView(e cache.EntryInfo, now time.Time) pageEntry {
	pe := pageEntry{EntryInfo: e, StaleIn: -1, ExpiresIn: -1}
	if !e.StaleAt.IsZero() {
		pe.StaleIn = max(e.StaleAt.Sub(now), 0)
	}
	if !e.ExpiresAt.IsZero() {
		pe.ExpiresIn = max(e.ExpiresAt.Sub(now), 0)
	}
	return pe
}

// pageTypes builds the view of the types in vs.
func (h *Handler) pageTypes(vs []typeView, root string, now time.Time) []pageType {
	var out []pageType
	for _, v := range vs {
		pt := pageType{Name: v.stats.Name, Degraded: v.stats.Degraded}
		var failing []string
		for _, w := range v.stats.Wizards {
			if w.Failing() {
				failing = append(failing, w.Name)
			}
		}
		for _, l := range v.chain {
			if l.Cache == nil {
				ws, _ := v.wizardStats(l.Name)
				pw := &pageWizard{Failing: ws.Failing(), LastErrorClass: ws.LastErrorClass, LastErrorAt: ws.LastErrorAt, LastOK: ws.LastOK}
				if ws.LastErrorClass != "" {
					pw.LastErrorOp = ws.LastErrorOp.String()
				}
				for _, o := range ws.Operations {
					pw.Found += o.Found
					pw.NotFound += o.NotFound
					pw.OK += o.OK
					pw.Errors += o.Errors
				}
				pt.Layers = append(pt.Layers, pageLayer{Name: l.Name, Wizard: pw})
				continue
			}
			st, _ := v.cacheStats(l.Name)
			pc := &pageCache{Type: v.stats.Name, Name: l.Name, Root: root, ReadOnly: h.opts.ReadOnly, Options: l.Cache.Options(), Stats: st, Covering: st.Extended > 0, Failing: failing}
			pt.HasCache = true
			if pc.Covering {
				pt.Outage = true
				pc.Extended, pc.More = extendedEntries(l.Cache, now)
				for _, e := range pc.Extended {
					if pc.ExtendedSince.IsZero() || e.ExtendedSince.Before(pc.ExtendedSince) {
						pc.ExtendedSince = e.ExtendedSince
					}
				}
			}
			pt.Layers = append(pt.Layers, pageLayer{Name: l.Name, Cache: pc})
		}
		out = append(out, pt)
	}
	return out
}

// extendedEntries returns up to extendedShown of c's extended entries, the longest extended
// first, and whether there are more.
func extendedEntries(c sorcery.CacheAdmin, now time.Time) ([]pageEntry, bool) {
	var found []cache.EntryInfo
	o := &cache.ListOptions{State: cache.StateExtended, Limit: 10 * extendedShown}
	for range 100_000 { // a bound: pages of 200 through the largest caches
		page, err := c.List(o)
		if err != nil {
			break
		}
		found = append(found, page.Entries...)
		if page.Next == "" || len(found) > extendedShown {
			break
		}
		o.Cursor = page.Next
	}
	slices.SortFunc(found, func(a, b cache.EntryInfo) int {
		if c := a.ExtendedSince.Compare(b.ExtendedSince); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	more := len(found) > extendedShown
	found = found[:min(len(found), extendedShown)]
	out := make([]pageEntry, len(found))
	for i, e := range found {
		out[i] = entryView(e, now)
	}
	return out, more
}

// notice describes the action a browser's post just did, from the redirect's query.
func notice(r *http.Request) string {
	q := r.URL.Query()
	action := q.Get("done")
	if !strings.HasPrefix(action, "SorceryMemoryCache") {
		return ""
	}
	s := action + " " + q.Get("type") + "/" + q.Get("cache")
	if o := q.Get("object"); o != "" {
		s += " object " + o
	}
	return s + ": done"
}

func (h *Handler) render(w http.ResponseWriter, view *pageView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	var b strings.Builder
	if err := pageTemplate.Execute(&b, view); err != nil {
		writeError(w, http.StatusInternalServerError, "sorceryhttp: page: "+err.Error())
		return
	}
	w.Write([]byte(b.String()))
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	vs, err := h.views("")
	if err != nil {
		answer(w, err)
		return
	}
	now := time.Now()
	h.render(w, &pageView{Now: now, ReadOnly: h.opts.ReadOnly, Root: "./", Notice: notice(r), Types: h.pageTypes(vs, "./", now)})
}

func (h *Handler) serveCachePage(w http.ResponseWriter, r *http.Request) {
	typeName, o, page, err := h.listing(r)
	if err != nil {
		answer(w, err)
		return
	}
	vs, err := h.views(typeName)
	if err != nil || len(vs) == 0 {
		answer(w, fail(http.StatusNotFound, "unknown type %q", typeName))
		return
	}
	now := time.Now()
	root := rootOf(r.URL.Path)
	types := h.pageTypes(vs, root, now)
	cp := &cachePage{Next: page.Next, Limit: o.Limit, States: []string{"extended", "refreshing", "stale", "fresh", "negative"}}
	if o.State != 0 {
		cp.State = o.State.String()
	}
	for _, l := range types[0].Layers {
		if l.Cache != nil && l.Name == r.PathValue("cache") {
			cp.C = l.Cache
		}
	}
	for _, e := range page.Entries {
		cp.Entries = append(cp.Entries, entryView(e, now))
	}
	h.render(w, &pageView{Now: now, ReadOnly: h.opts.ReadOnly, Root: root, Types: types, Cache: cp})
}
