package sorceryhttp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryhttp"
)

func TestTypesShowEachChainInOrderWithCounters(t *testing.T) {
	f := newFixture(t, nil)
	r := f.get(t, "/api/types")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
	ts := decode[typesAnswer](t, r)
	require.Len(t, ts.Types, 2)
	assert.Equal(t, "aor", ts.Types[0].Name)
	auth := ts.Types[1]
	assert.Equal(t, "auth", auth.Name)
	require.Len(t, auth.Chain, 3)
	var kinds []string
	for _, l := range auth.Chain {
		kinds = append(kinds, l.Kind+":"+l.Name)
	}
	assert.Equal(t, []string{"wizard:config", "cache:cache", "wizard:curl"}, kinds)
	require.NotNil(t, auth.Chain[2].Wizard)
	require.Len(t, auth.Chain[2].Wizard.Operations, 1)
	assert.Equal(t, "retrieve", auth.Chain[2].Wizard.Operations[0].Operation)
	assert.EqualValues(t, len(users), auth.Chain[2].Wizard.Operations[0].Found)
	assert.False(t, auth.Chain[2].Wizard.Failing)
	require.NotNil(t, auth.Chain[1].Cache)
	assert.Equal(t, 1+len(users), auth.Chain[1].Cache.Stats.Objects)
	assert.Equal(t, 3600.0, auth.Chain[1].Cache.Options.ObjectLifetimeStale)
	assert.False(t, auth.Chain[1].Cache.CoveringOutage)

	f.outage(t, "alice", "bob")
	one := decode[typeAnswer](t, f.get(t, "/api/types/auth"))
	assert.True(t, one.Chain[2].Wizard.Failing)
	assert.Equal(t, "unavailable", one.Chain[2].Wizard.LastErrorClass)
	assert.True(t, one.Chain[1].Cache.CoveringOutage)
	assert.Equal(t, 2, one.Chain[1].Cache.Stats.Extended)
}

func TestEntriesAndObjectsReportStates(t *testing.T) {
	f := newFixture(t, nil)
	f.outage(t, "alice")

	page := decode[pageAnswer](t, f.get(t, "/api/types/auth/caches/cache/entries"))
	assert.Empty(t, page.Next)
	states := map[string]string{}
	for _, e := range page.Entries {
		states[e.ID] = e.State
	}
	assert.Equal(t, map[string]string{"lobby": "fresh", "alice": "extended", "bob": "fresh", "carol": "fresh", "dave": "fresh"}, states)

	ext := decode[pageAnswer](t, f.get(t, "/api/types/auth/caches/cache/entries?state=extended"))
	require.Len(t, ext.Entries, 1)
	e := ext.Entries[0]
	assert.Equal(t, "alice", e.ID)
	require.NotNil(t, e.ExtendedSince)
	require.NotNil(t, e.StaleInSeconds)
	assert.InDelta(t, 60, *e.StaleInSeconds, 5, "next attempt after ErrorRecheck")
	require.NotNil(t, e.ExpiresInSeconds)

	obj := decode[objectAnswer](t, f.get(t, "/api/types/auth/objects/alice"))
	assert.Equal(t, "alice", obj.ID)
	require.Len(t, obj.Caches, 1)
	assert.True(t, obj.Caches[0].Cached)
	assert.Equal(t, "extended", obj.Caches[0].Entry.State)
	assert.Empty(t, obj.Fields, "no field values without ShowFields")

	obj = decode[objectAnswer](t, f.get(t, "/api/types/auth/objects/bob"))
	assert.Equal(t, "fresh", obj.Caches[0].Entry.State)
}

func TestBadInputIsAnsweredWithAClearClientError(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/api/types/nope", 404, `unknown type "nope" (types: aor, auth)`},
		{"/api/types/nope/caches/cache/entries", 404, `unknown type "nope"`},
		{"/api/types/nope/objects/alice", 404, `unknown type "nope"`},
		{"/types/nope/caches/cache", 404, `unknown type "nope"`},
		{"/api/types/auth/caches/other/entries", 404, `type "auth" has no cache "other" (caches: cache)`},
		{"/api/types/aor/caches/cache/entries", 404, `type "aor" has no cache`},
		{"/api/types/auth/objects/mallory", 404, `object "mallory" of type "auth" is in none of its caches`},
		{"/api/types/aor/objects/alice", 404, `type "aor" has no cache`},
		{"/api/types/auth/caches/cache/entries?limit=0", 400, `bad limit "0": want a whole number from 1 to 1000`},
		{"/api/types/auth/caches/cache/entries?limit=-5", 400, `bad limit "-5"`},
		{"/api/types/auth/caches/cache/entries?limit=ten", 400, `bad limit "ten"`},
		{"/api/types/auth/caches/cache/entries?limit=1001", 400, `bad limit "1001"`},
		{"/api/types/auth/caches/cache/entries?cursor=zzz", 400, `bad cursor "zzz"`},
		{"/api/types/auth/caches/cache/entries?cursor=99999.0", 400, `bad cursor "99999.0"`},
		{"/api/types/auth/caches/cache/entries?state=borrowed", 400, `bad state "borrowed"`},
		{"/types/auth/caches/cache?limit=x", 400, `bad limit "x"`},
		{"/nowhere", 404, `no page "/nowhere" here`},
	} {
		r := f.get(t, tc.path)
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.path, r.body)
		assert.Contains(t, decode[errorAnswer](t, r).Error, tc.says, tc.path)
	}
	for _, tc := range []struct {
		path   string
		form   url.Values
		status int
		says   string
	}{
		{"/api/types/nope/caches/cache/expire", nil, 404, `unknown type "nope"`},
		{"/api/types/auth/caches/other/stale", nil, 404, `has no cache "other"`},
		{"/api/types/auth/caches/cache/stale", url.Values{"object": {"alice"}, "reload": {"perhaps"}}, 400, `bad reload "perhaps"`},
		{"/api/types/auth/caches/cache/stale", url.Values{"reload": {"yes"}}, 400, `reload needs an object`},
		{"/api/types/auth/caches/cache/expire", url.Values{"object": {"mallory"}}, 404, `object "mallory" is not in cache auth/cache: nothing to do`},
		{"/api/types/auth/caches/cache/stale", url.Values{"object": {"mallory"}, "reload": {"yes"}}, 404, `object "mallory" is not in cache auth/cache`},
	} {
		r := f.post(t, tc.path, tc.form)
		assert.Equal(t, tc.status, r.status, "%s: %s", tc.path, r.body)
		assert.Contains(t, decode[errorAnswer](t, r).Error, tc.says, tc.path)
	}
}

func TestActionsAreTheTwinsOfAsterisksAMIActions(t *testing.T) {
	f := newFixture(t, nil)
	c := f.auths.Cache()
	act := func(path string, form url.Values) map[string]any {
		t.Helper()
		r := f.post(t, "/api/types/auth/caches/cache/"+path, form)
		require.Equal(t, http.StatusOK, r.status, r.body)
		return decode[map[string]any](t, r)
	}

	res := act("expire", url.Values{"object": {"alice"}})
	assert.Equal(t, "SorceryMemoryCacheExpireObject", res["action"])
	_, cached := c.Inspect("alice")
	assert.False(t, cached)
	_, cached = c.Inspect("bob")
	assert.True(t, cached)

	res = act("stale", url.Values{"object": {"bob"}})
	assert.Equal(t, "SorceryMemoryCacheStaleObject", res["action"])
	info, _ := c.Inspect("bob")
	assert.Equal(t, "stale", info.State.String())

	// With reload, the refresh runs at once: the source's change arrives.
	f.remote.Put(record("carol"))
	res = act("stale?object=carol&reload=yes", nil)
	assert.Equal(t, true, res["reload"])
	require.Eventually(t, func() bool { i, _ := c.Inspect("carol"); return i.State.String() == "fresh" }, 5e9, 1e6)

	res = act("stale", nil)
	assert.Equal(t, "SorceryMemoryCacheStale", res["action"])
	info, _ = c.Inspect("dave")
	assert.Equal(t, "stale", info.State.String())

	res = act("expire", nil)
	assert.Equal(t, "SorceryMemoryCacheExpire", res["action"])
	assert.Zero(t, c.Len())

	res = act("populate", nil)
	assert.Equal(t, "SorceryMemoryCachePopulate", res["action"])
	assert.Equal(t, 1+len(users), c.Len(), "every object of the local and remote wizards")

	// Populate while the source is down leaves the cache as it was.
	f.remote.SetError(errDown)
	r := f.post(t, "/api/types/auth/caches/cache/populate", nil)
	assert.Equal(t, http.StatusBadGateway, r.status, r.body)
	assert.Contains(t, decode[errorAnswer](t, r).Error, "the cache is left as it was: a source is unavailable")
	assert.Equal(t, 1+len(users), c.Len())
}

func TestMethodRules(t *testing.T) {
	f := newFixture(t, nil)
	before := f.auths.Cache().Len()
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/types/auth/caches/cache/expire?object=alice", 405, "POST"},
		{"GET", "/api/types/auth/caches/cache/stale", 405, "POST"},
		{"GET", "/api/types/auth/caches/cache/populate", 405, "POST"},
		{"PUT", "/api/types/auth/caches/cache/expire", 405, "POST"},
		{"DELETE", "/api/types/auth/objects/alice", 405, "GET, HEAD"},
		{"POST", "/api/types", 405, "GET, HEAD"},
		{"POST", "/", 405, "GET, HEAD"},
		{"HEAD", "/", 200, ""},
		{"HEAD", "/api/types", 200, ""},
	} {
		r := f.do(t, tc.method, tc.path, nil, nil)
		assert.Equal(t, tc.status, r.status, "%s %s", tc.method, tc.path)
		if tc.allow != "" {
			assert.Equal(t, tc.allow, r.header.Get("Allow"), "%s %s", tc.method, tc.path)
		}
	}
	assert.Equal(t, before, f.auths.Cache().Len(), "no request changed the cache")
}

func TestReadOnlyRefusesEveryActionAndShowsNoButtons(t *testing.T) {
	f := newFixture(t, &sorceryhttp.Options{ReadOnly: true})
	f.outage(t, "alice")
	for _, path := range []string{"expire", "expire?object=alice", "stale", "stale?object=alice&reload=yes", "populate"} {
		r := f.post(t, "/api/types/auth/caches/cache/"+path, nil)
		assert.Equal(t, http.StatusForbidden, r.status, path)
		assert.Contains(t, decode[errorAnswer](t, r).Error, "read-only", path)
	}
	assert.Equal(t, 1+len(users), f.auths.Cache().Len())
	info, _ := f.auths.Cache().Inspect("alice")
	assert.Equal(t, "extended", info.State.String())
	for _, path := range []string{"/", "/types/auth/caches/cache"} {
		r := f.get(t, path)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.body)
		assert.NotContains(t, r.body, "<form", path)
		assert.NotContains(t, r.body, "<button", path)
		assert.Contains(t, r.body, "read-only", path)
		assert.Contains(t, r.body, `data-id="alice"`, path)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	f := newFixture(t, nil)
	c := f.auths.Cache()
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "http://evil.example"},
	} {
		r := f.do(t, "POST", "/api/types/auth/caches/cache/expire", url.Values{"object": {"alice"}}, h)
		assert.Equal(t, http.StatusForbidden, r.status, "%v", h)
		assert.Contains(t, decode[errorAnswer](t, r).Error, "cross-origin request refused", "%v", h)
		_, cached := c.Inspect("alice")
		require.True(t, cached, "a refused post changed nothing: %v", h)
	}
	// The page's own origin, and clients that are not browsers, may act.
	origin := f.srv.URL
	for i, h := range []map[string]string{
		{"Sec-Fetch-Site": "same-origin"},
		{"Origin": origin},
		nil,
	} {
		id := users[i]
		r := f.do(t, "POST", "/api/types/auth/caches/cache/expire", url.Values{"object": {id}}, h)
		assert.Equal(t, http.StatusOK, r.status, "%v: %s", h, r.body)
		_, cached := c.Inspect(id)
		assert.False(t, cached, id)
	}
}

func TestBrowserFormPostRedirectsToThePage(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(t, "POST", "/api/types/auth/caches/cache/expire", url.Values{"object": {"bob"}},
		map[string]string{"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	loc := r.header.Get("Location")
	assert.True(t, strings.HasPrefix(loc, "../../../../../?"), loc)
	target, err := url.Parse(f.srv.URL + "/api/types/auth/caches/cache/expire")
	require.NoError(t, err)
	ref, err := url.Parse(loc)
	require.NoError(t, err)
	back := target.ResolveReference(ref)
	assert.Equal(t, "/", back.Path)
	page := f.get(t, back.RequestURI())
	assert.Contains(t, page.body, "SorceryMemoryCacheExpireObject auth/cache object bob: done")
}

func TestMountedUnderAPrefix(t *testing.T) {
	f := newFixture(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/debug/sorcery/", http.StripPrefix("/debug/sorcery", sorceryhttp.New(f.s, nil)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/debug/sorcery")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/debug/sorcery/", res.Request.URL.Path, "redirected to the page with its slash")
	res, err = srv.Client().Get(srv.URL + "/debug/sorcery/api/types/auth")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	res, err = http.DefaultClient.Get(srv.URL + "/api/types")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "nothing outside the mount point")
}

func TestPagingOver100000EntriesIsBoundedPerPage(t *testing.T) {
	f := newFixture(t, nil)
	c := f.auths.Cache()
	const n = 100_000
	for i := range n {
		c.Set("user"+strconv.Itoa(i), Auth{ID: "user" + strconv.Itoa(i)})
	}
	h := sorceryhttp.New(f.s, nil)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}

	// Every id once, through the cursor.
	seen := make(map[string]int, n+8)
	cursor, pages := "", 0
	for {
		path := "/api/types/auth/caches/cache/entries?limit=1000"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		rec := get(path)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		page := decode[pageAnswer](t, response{status: rec.Code, body: rec.Body.String()})
		require.LessOrEqual(t, len(page.Entries), 1010, "a page holds about its limit")
		for _, e := range page.Entries {
			seen[e.ID]++
		}
		pages++
		require.Less(t, pages, 10_000, "the listing does not end")
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	assert.Len(t, seen, n+1+len(users))
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s listed %d times", id, k)
		}
	}

	// Memory per page: what a page of 100 needs, not what the cache holds. A cache of 200
	// entries is the yardstick (the race detector, for one, changes what a page allocates).
	small, err := sorcery.Register[Auth](f.s, "small", nil)
	require.NoError(t, err)
	require.NoError(t, small.AddCache(nil))
	for i := range 200 {
		small.Cache().Set("user"+strconv.Itoa(i), Auth{})
	}
	perPage := func(typeName string) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		const rounds = 10
		for range rounds {
			rec := get("/api/types/" + typeName + "/caches/cache/entries?limit=100")
			require.Equal(t, http.StatusOK, rec.Code)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / rounds
	}
	smallPage, bigPage := perPage("small"), perPage("auth")
	t.Logf("a page of 100 allocates %d bytes over %d entries, %d over 200", bigPage, n, smallPage)
	assert.Less(t, bigPage, 2*smallPage+64<<10, "a page over %d entries allocates about what one over 200 does", n)
	assert.Less(t, bigPage, uint64(1<<20), "a page of 100 allocates less than 1 MiB")

	// Time per page: a filtered page walks a bounded part of the table, so a page that finds
	// nothing still ends, with a cursor to go on.
	rec := get("/api/types/auth/caches/cache/entries?limit=10&state=negative")
	require.Equal(t, http.StatusOK, rec.Code)
	page := decode[pageAnswer](t, response{status: rec.Code, body: rec.Body.String()})
	assert.Empty(t, page.Entries)
	assert.NotEmpty(t, page.Next)
}
