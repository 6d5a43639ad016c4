package sorceryhttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/sorcery/sorceryhttp"
)

// everyRequest sends every kind of request the handler answers, good and bad, and returns
// what came back.
func everyRequest(t *testing.T, f *fixture) []response {
	t.Helper()
	var out []response
	get := func(path string) { out = append(out, f.get(t, path)) }
	get("/")
	get("/?done=SorceryMemoryCacheExpire&type=auth&cache=cache")
	get("/types/auth/caches/cache")
	get("/types/auth/caches/cache?state=extended")
	get("/api/types")
	get("/api/types/auth")
	get("/api/types/aor")
	get("/api/types/auth/caches/cache/entries")
	get("/api/types/auth/caches/cache/entries?state=extended&limit=1")
	for _, id := range append([]string{"lobby", "mallory"}, users...) {
		get("/api/types/auth/objects/" + id)
	}
	get("/api/types/aor/objects/alice")
	get("/api/types/nope")
	get("/api/types/auth/caches/cache/entries?cursor=bad")
	post := func(path string, form url.Values, header map[string]string) {
		out = append(out, f.do(t, http.MethodPost, "/api/types/auth/caches/cache/"+path, form, header))
	}
	browser := map[string]string{"Accept": "text/html", "Sec-Fetch-Site": "same-origin"}
	post("stale", url.Values{"object": {"carol"}}, nil)
	post("stale", url.Values{"object": {"carol"}}, browser)
	post("stale", url.Values{"object": {"carol"}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	post("populate", nil, nil) // fails: the source is down
	post("expire", url.Values{"object": {"dave"}}, nil)
	return out
}

func TestNoAnswerCarriesAFieldValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *sorceryhttp.Options
	}{
		{"default", nil},
		{"read-only", &sorceryhttp.Options{ReadOnly: true}},
		{"username shown", &sorceryhttp.Options{ShowFields: []string{"username"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			f.outage(t, "alice", "bob")
			responses := everyRequest(t, f)
			require.Greater(t, len(responses), 20)
			for _, r := range responses {
				for _, id := range append([]string{"lobby"}, users...) {
					secret := secretOf(id)
					assert.NotContains(t, r.body, secret, "status %d", r.status)
					assert.NotContains(t, r.body, strings.ToLower(secret))
					for k, vs := range r.header {
						for _, v := range vs {
							assert.NotContains(t, v, secret, "header %s", k)
						}
					}
				}
			}
		})
	}
}

func TestShowFieldsShowsOnlyTheFieldsNamed(t *testing.T) {
	f := newFixture(t, &sorceryhttp.Options{ShowFields: []string{"username", "nonexistent"}})
	obj := decode[objectAnswer](t, f.get(t, "/api/types/auth/objects/alice"))
	require.Len(t, obj.Fields, 1)
	assert.Equal(t, "username", obj.Fields[0].Name)
	assert.Equal(t, "alice", obj.Fields[0].Value)
	page := f.get(t, "/api/types/auth/caches/cache/entries")
	assert.NotContains(t, page.body, `"username"`, "entries carry ids and states only")
}
