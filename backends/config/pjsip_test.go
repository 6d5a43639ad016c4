package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/sorcery"
)

// openType opens testdata/pjsip.conf for one PJSIP type, as sorcery.conf's
// "type = config,pjsip.conf,criteria=type=<type>" does.
func openType(t *testing.T, typ string, extra string) *config.Wizard {
	t.Helper()
	w, err := config.Factory(&config.Options{Dir: "testdata"})(typ, "pjsip.conf,criteria=type="+typ+extra)
	require.NoError(t, err, "type %s", typ)
	t.Cleanup(func() { _ = w.(*config.Wizard).Close() })
	return w.(*config.Wizard)
}

func retrieve(t *testing.T, w *config.Wizard, id string) sorcery.Record {
	t.Helper()
	r, found, err := w.Retrieve(t.Context(), id)
	require.NoError(t, err)
	require.True(t, found, "%s %q", w.Path(), id)
	return r
}

func TestRealisticPjsipConfServesEachType(t *testing.T) {
	cases := []struct {
		typ, extra string
		want       []string
	}{
		{"transport", "", []string{"transport-udp", "transport-tcp", "transport-tls"}},
		{"endpoint", "", []string{"alice", "bob", "carol", "trunk"}},
		{"auth", "", []string{"alice", "bob", "carol", "trunk"}},
		{"aor", "", []string{"alice", "bob", "carol", "trunk"}},
		{"identify", "", []string{"trunk"}},
		{"registration", "", []string{"trunk"}},
		{"global", ",single_object=yes,explicit_name=global", []string{"global"}},
		{"system", ",single_object=yes,explicit_name=system", []string{"system"}},
		{"domain_alias", "", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			w := openType(t, tc.typ, tc.extra)
			assert.Equal(t, tc.want, allIDs(t, w))
			assert.Equal(t, 3, w.Stats().Files, "pjsip.conf, pjsip_trunk.conf and pjsip_local.conf")
			_, found, err := w.Retrieve(t.Context(), "dave")
			require.NoError(t, err)
			assert.False(t, found, "dave is inside a block comment")
			_, found, err = w.Retrieve(t.Context(), "desk-phone")
			require.NoError(t, err)
			assert.False(t, found, "templates are not objects")
		})
	}
}

func TestRealisticPjsipConfObjects(t *testing.T) {
	endpoints := openType(t, "endpoint", "")
	auths := openType(t, "auth", "")
	aors := openType(t, "aor", "")
	identifies := openType(t, "identify", "")

	alice := retrieve(t, endpoints, "alice")
	assert.Equal(t, "type", alice.Fields[0].Name, "inherited variables come first")
	assert.Equal(t, "endpoint", alice.Fields.Value("type"))
	assert.Equal(t, []string{"g722", "ulaw", "alaw"}, alice.Fields.Values("allow"), "multi-valued allow from the template")
	assert.Equal(t, `"Alice Liddell" <1001>`, alice.Fields.Value("callerid"))
	assert.Equal(t, "sales", alice.Fields.Value("named_call_group"), "added by (+type=^endpoint$) in the #tryinclude'd file")
	assert.Equal(t, "from-internal", alice.Fields.Value("context"))

	bob := retrieve(t, endpoints, "bob")
	assert.Equal(t, "1002@default,1000@default", bob.Fields.Value("mailboxes"), "+= appends")

	carol := retrieve(t, endpoints, "carol")
	assert.Equal(t, []string{"g722", "ulaw", "alaw", "opus"}, carol.Fields.Values("allow"), "softphone inherits desk-phone, then adds opus")
	assert.Equal(t, "transport-tls", carol.Fields.Value("transport"))

	trunk := retrieve(t, endpoints, "trunk")
	assert.Equal(t, []string{"ulaw", "alaw"}, trunk.Fields.Values("allow"))
	assert.Equal(t, "from-trunk", trunk.Fields.Value("context"), "from the #include'd file")

	aliceAuth := retrieve(t, auths, "alice")
	assert.Equal(t, "Wh1te;Rabbit", aliceAuth.Fields.Value("password"), `\; is a literal semicolon`)
	assert.Equal(t, "userpass", aliceAuth.Fields.Value("auth_type"))
	assert.Equal(t, "Tr0nk=Secret", retrieve(t, auths, "trunk").Fields.Value("password"), "values keep later = signs")

	assert.Equal(t, []string{"1", "3"}, retrieve(t, aors, "alice").Fields.Values("max_contacts"),
		"the template's value, then the one (+type=^aor$) added: the last one applies, as in Asterisk")
	assert.Equal(t, []string{"1", "2"}, retrieve(t, aors, "bob").Fields.Values("max_contacts"))
	assert.Equal(t, []string{"1"}, retrieve(t, aors, "carol").Fields.Values("max_contacts"))
	assert.Empty(t, retrieve(t, aors, "alice").Fields.Values("named_call_group"), "the endpoint's (+) did not touch the aor")

	assert.Equal(t, []string{"198.51.100.10", "198.51.100.11"}, retrieve(t, identifies, "trunk").Fields.Values("match"))

	rs, err := endpoints.Search(t.Context(), sorcery.Query{Conditions: []sorcery.Condition{{Field: "allow", Op: sorcery.OpEqual, Value: "opus"}}})
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "carol", rs[0].ID, "search by one value of a multi-valued field")
}

func TestSorceryConfMapsEveryTypeToAWizard(t *testing.T) {
	f, err := config.ParseFile("testdata/sorcery.conf", nil)
	require.NoError(t, err)
	factory := config.Factory(&config.Options{Dir: "testdata"})
	opened := map[string]int{}
	for _, c := range f.Categories {
		for _, v := range c.Vars {
			wizard, data, _ := strings.Cut(v.Value, ",")
			if strings.HasSuffix(v.Name, "/cache") {
				assert.Equal(t, "memory_cache", wizard, "%s:%d", v.File, v.Line)
				continue
			}
			require.Equal(t, "config", wizard, "%s:%d", v.File, v.Line)
			w, err := factory(v.Name, data)
			require.NoError(t, err, "%s:%d: %s = %s", v.File, v.Line, v.Name, v.Value)
			opened[v.Name] = w.(*config.Wizard).Stats().Objects
			require.NoError(t, w.(*config.Wizard).Close())
		}
	}
	assert.Equal(t, map[string]int{
		"endpoint": 4, "auth": 4, "aor": 4, "transport": 3, "global": 1, "system": 1,
		"identify": 1, "registration": 1,
	}, opened)
	cache := f.Category("res_pjsip").Vars[0]
	assert.Equal(t, "endpoint/cache", cache.Name, "the cache line comes first: in front of the file")
	assert.Equal(t, 8, cache.Line)
}
