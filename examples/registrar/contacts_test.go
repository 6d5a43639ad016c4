package registrar

import (
	"math"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
)

// aorWith returns an AOR with Asterisk's default expirations.
func aorWith(maxContacts int, removeExisting bool) pjsip.Aor {
	return pjsip.Aor{
		ID: "1001", MaxContacts: maxContacts, RemoveExisting: removeExisting,
		DefaultExpiration: time.Hour, MinimumExpiration: time.Minute, MaximumExpiration: 2 * time.Hour,
	}
}

func TestExpirationFollowsAsteriskPrecedenceAndBounds(t *testing.T) {
	aor := aorWith(1, false)
	tests := []struct {
		name          string
		param, header int64
		want          int64
		tooBrief      bool
	}{
		{"nothing given: default_expiration", noExpires, noExpires, 3600, false},
		{"Expires header", noExpires, 120, 120, false},
		{"contact parameter wins over the header", 300, 120, 300, false},
		{"zero removes, below any minimum", 0, 120, 0, false},
		{"zero header removes", noExpires, 0, 0, false},
		{"above maximum_expiration: the maximum", 86400, noExpires, 7200, false},
		{"exactly the minimum", 60, noExpires, 60, false},
		{"below minimum_expiration: too brief", 59, noExpires, 59, true},
		{"header below minimum: too brief", noExpires, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tooBrief := expiration(aor, tt.param, tt.header)
			assert.Equal(t, tt.want, got, "expiration(param=%d, header=%d)", tt.param, tt.header)
			assert.Equal(t, tt.tooBrief, tooBrief, "tooBrief(param=%d, header=%d)", tt.param, tt.header)
		})
	}

	unbounded := aor
	unbounded.MaximumExpiration = 0
	got, _ := expiration(unbounded, 86400, noExpires)
	assert.Equal(t, int64(86400), got, "maximum_expiration=0 does not bound")

	shortDefault := aor
	shortDefault.DefaultExpiration = 30 * time.Second
	_, tooBrief := expiration(shortDefault, noExpires, noExpires)
	assert.True(t, tooBrief, "a default_expiration below the minimum is too brief too")
}

func TestParseDeltaSecondsCapsAt32Bits(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, " 3600 ": 3600, "4294967295": math.MaxUint32, "4294967296": math.MaxUint32, "99999999999999999999999": math.MaxUint32} {
		got, err := parseDeltaSeconds(in)
		require.NoError(t, err, "parseDeltaSeconds(%q)", in)
		assert.Equal(t, want, got, "parseDeltaSeconds(%q)", in)
	}
	for _, in := range []string{"", "-1", "1h", "12.5"} {
		_, err := parseDeltaSeconds(in)
		assert.Error(t, err, "parseDeltaSeconds(%q)", in)
	}
}

func mustURI(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	require.NoError(t, sip.ParseUri(s, &u), "ParseUri(%q)", s)
	return u
}

func TestURIKeyComparesContactsAsRFC3261Does(t *testing.T) {
	same := [][2]string{
		{"sip:1001@127.0.0.1:5062;transport=udp", "SIP:1001@127.0.0.1:5062;TRANSPORT=UDP"},
		{"sip:1001@Example.COM", "sip:1001@example.com"},
		{"sip:1001@example.com;rinstance=abc", "sip:1001@example.com;rinstance=def"},
	}
	for _, p := range same {
		assert.Equal(t, uriKey(mustURI(t, p[0])), uriKey(mustURI(t, p[1])), "%s and %s are the same contact", p[0], p[1])
	}
	different := [][2]string{
		{"sip:1001@example.com", "sip:1002@example.com"},
		{"sip:1001@example.com", "sip:1001@example.com:5060"},
		{"sip:1001@example.com;transport=udp", "sip:1001@example.com;transport=tcp"},
		{"sip:1001@example.com", "sips:1001@example.com"},
	}
	for _, p := range different {
		assert.NotEqual(t, uriKey(mustURI(t, p[0])), uriKey(mustURI(t, p[1])), "%s and %s are different contacts", p[0], p[1])
	}
}

func bind(t *testing.T, uri string, expires int64) binding {
	return binding{uri: uri, key: uriKey(mustURI(t, uri)), expires: expires}
}

func uris(cs []pjsip.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.URI)
	}
	return out
}

func TestPlanAddsRefreshesAndRemovesContactsAsAsteriskDoes(t *testing.T) {
	l := &stored{}
	aor := aorWith(2, false)
	now := time.Unix(1_700_000_000, 0)

	got, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.1:5060", 120)}, endpoint: "1001", userAgent: "phone", callID: "c1", viaAddr: "192.0.2.1", viaPort: 5060, regServer: "reg1"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, pjsip.Contact{
		ID: "1001;@" + md5Hex("sip:1001@192.0.2.1:5060"), URI: "sip:1001@192.0.2.1:5060", ExpirationTime: now.Unix() + 120,
		UserAgent: "phone", Endpoint: "1001", ViaAddr: "192.0.2.1", ViaPort: 5060, CallID: "c1", RegServer: "reg1",
	}, got[0])

	// A refresh of the same contact, written otherwise, moves its expiration and keeps its id
	// and URI; it does not add one. Asterisk does not record the new Call-ID or Via.
	got, err = l.apply(aor, now.Add(time.Minute), update{bindings: []binding{bind(t, "SIP:1001@192.0.2.1:5060", 300)}, callID: "c2", viaAddr: "192.0.2.7", regServer: "reg2"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, now.Unix()+60+300, got[0].ExpirationTime)
	assert.Equal(t, "sip:1001@192.0.2.1:5060", got[0].URI)
	assert.Equal(t, "1001;@"+md5Hex("sip:1001@192.0.2.1:5060"), got[0].ID)
	assert.Equal(t, []string{"c1", "192.0.2.1", "reg2"}, []string{got[0].CallID, got[0].ViaAddr, got[0].RegServer})
	assert.Len(t, l.contacts, 1)

	got, err = l.apply(aor, now.Add(time.Minute), update{bindings: []binding{bind(t, "sip:1001@192.0.2.2:5060", 300)}})
	require.NoError(t, err)
	assert.Equal(t, []string{"sip:1001@192.0.2.1:5060", "sip:1001@192.0.2.2:5060"}, uris(got))

	// Expires 0 removes; removing a contact that is not there is no error.
	got, err = l.apply(aor, now.Add(time.Minute), update{bindings: []binding{bind(t, "sip:1001@192.0.2.1:5060", 0), bind(t, "sip:1001@192.0.2.9:5060", 0)}})
	require.NoError(t, err)
	assert.Equal(t, []string{"sip:1001@192.0.2.2:5060"}, uris(got))

	// "*" removes everything.
	got, err = l.apply(aor, now.Add(time.Minute), update{removeAll: true})
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Empty(t, l.live(now))
}

func TestPlanEnforcesMaxContactsAsAsteriskDoes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	first := update{bindings: []binding{bind(t, "sip:1001@192.0.2.1", 100)}}
	second := update{bindings: []binding{bind(t, "sip:1001@192.0.2.2", 200)}}

	t.Run("without remove_existing a registration beyond the limit is refused and changes nothing", func(t *testing.T) {
		l := &stored{}
		aor := aorWith(1, false)
		_, err := l.apply(aor, now, first)
		require.NoError(t, err)
		_, err = l.apply(aor, now, second)
		assert.ErrorIs(t, err, errTooManyContacts)
		assert.Equal(t, []string{"sip:1001@192.0.2.1"}, uris(l.live(now)))
	})

	t.Run("with remove_existing the contacts closest to expiry make room", func(t *testing.T) {
		l := &stored{}
		aor := aorWith(2, true)
		_, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.1", 300), bind(t, "sip:1001@192.0.2.2", 100)}})
		require.NoError(t, err)
		got, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.3", 200)}})
		require.NoError(t, err)
		assert.Equal(t, []string{"sip:1001@192.0.2.1", "sip:1001@192.0.2.3"}, uris(got), "192.0.2.2 expired soonest")
	})

	t.Run("with remove_existing a refresh of every contact still fits", func(t *testing.T) {
		l := &stored{}
		aor := aorWith(2, true)
		_, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.1", 300), bind(t, "sip:1001@192.0.2.2", 100)}})
		require.NoError(t, err)
		got, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.1", 300), bind(t, "sip:1001@192.0.2.2", 300)}})
		require.NoError(t, err)
		assert.Equal(t, []string{"sip:1001@192.0.2.1", "sip:1001@192.0.2.2"}, uris(got))
	})

	t.Run("a request that alone exceeds the limit is refused even with remove_existing", func(t *testing.T) {
		l := &stored{}
		aor := aorWith(1, true)
		_, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.1", 300), bind(t, "sip:1001@192.0.2.2", 100)}})
		assert.ErrorIs(t, err, errTooManyContacts)
	})

	t.Run("expired contacts do not count", func(t *testing.T) {
		l := &stored{}
		aor := aorWith(1, false)
		_, err := l.apply(aor, now, first)
		require.NoError(t, err)
		got, err := l.apply(aor, now.Add(100*time.Second), second)
		require.NoError(t, err, "the first contact expired at +100s")
		assert.Equal(t, []string{"sip:1001@192.0.2.2"}, uris(got))
	})
}

func TestPlanLeavesExpiredContactsOutAndWritesNothingForAQuery(t *testing.T) {
	l := &stored{}
	now := time.Unix(1_700_000_000, 0)
	aor := aorWith(1, false)
	_, err := l.apply(aor, now, update{bindings: []binding{bind(t, "sip:1001@192.0.2.1", 60)}})
	require.NoError(t, err)

	ch, err := plan(aor, l.contacts, now.Add(59*time.Second), update{})
	require.NoError(t, err)
	assert.True(t, ch.empty(), "a query writes nothing")
	assert.Equal(t, []string{"sip:1001@192.0.2.1"}, uris(ch.after))

	ch, err = plan(aor, l.contacts, now.Add(60*time.Second), update{})
	require.NoError(t, err)
	assert.Empty(t, ch.after, "a contact expires at its expiration time")
	assert.True(t, ch.empty(), "removing the expired is the pruning's job")
	assert.Empty(t, liveOnly(l.contacts, now.Add(60*time.Second)))

	got, err := l.apply(aor, now.Add(60*time.Second), update{bindings: []binding{bind(t, "sip:1001@192.0.2.2", 60)}})
	require.NoError(t, err, "the expired contact does not count against max_contacts")
	assert.Equal(t, []string{"sip:1001@192.0.2.2"}, uris(got))
}

// stored applies plans to a list of contacts, as store does to a contact store.
type stored struct{ contacts []pjsip.Contact }

func (l *stored) apply(aor pjsip.Aor, now time.Time, u update) ([]pjsip.Contact, error) {
	ch, err := plan(aor, l.contacts, now, u)
	if err != nil {
		return nil, err
	}
	byID := map[string]pjsip.Contact{}
	for _, c := range l.contacts {
		byID[c.ID] = c
	}
	for _, id := range ch.remove {
		delete(byID, id)
	}
	for _, c := range ch.put {
		byID[c.ID] = c
	}
	l.contacts = sortedByURI(byID)
	return ch.after, nil
}

func (l *stored) live(now time.Time) []pjsip.Contact { return liveOnly(l.contacts, now) }
