package registrar

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
)

// noExpires marks an expiration that a request did not give.
const noExpires int64 = -1

// expiration returns the expiration in seconds the registrar grants one contact, as Asterisk's
// registrar_get_expiration computes it: the contact's expires parameter, else the request's
// Expires header, else the AOR's default_expiration (noExpires marks what the request did not
// give); zero stays zero, for it removes the contact; above maximum_expiration, the maximum.
// tooBrief reports a non-zero expiration below minimum_expiration, which RFC 3261 §10.3
// step 7 refuses with 423 (Interval Too Brief) and a Min-Expires header (older Asterisk
// versions raised it to the minimum silently).
func expiration(aor pjsip.Aor, param, header int64) (secs int64, tooBrief bool) {
	secs = int64(aor.DefaultExpiration / time.Second)
	switch {
	case param != noExpires:
		secs = param
	case header != noExpires:
		secs = header
	}
	if secs == 0 {
		return 0, false
	}
	if secs < int64(aor.MinimumExpiration/time.Second) {
		return secs, true
	}
	if maxSecs := int64(aor.MaximumExpiration / time.Second); maxSecs > 0 && secs > maxSecs {
		secs = maxSecs
	}
	return secs, false
}

// parseDeltaSeconds parses an expires value (RFC 3261 §20.19: delta-seconds); values beyond
// 2³²-1 are taken as 2³²-1, as §10.2.1.1 asks.
func parseDeltaSeconds(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty expires")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return math.MaxUint32, nil
		}
		return 0, errors.New("expires is not a number of seconds")
	}
	return int64(min(n, math.MaxUint32)), nil
}

// uriKey returns the form of a contact URI that two equal URIs share: RFC 3261 §19.1.4
// comparison, approximated: the scheme and host without case, user, password and port as
// written, and the parameters that must match when present (transport, user, ttl, method,
// maddr) without case; other parameters and URI headers do not count.
func uriKey(u sip.Uri) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteByte(':')
	b.WriteString(u.User)
	if u.Password != "" {
		b.WriteByte(':')
		b.WriteString(u.Password)
	}
	b.WriteByte('@')
	b.WriteString(strings.ToLower(u.Host))
	if u.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	for _, name := range [...]string{"transport", "user", "ttl", "method", "maddr"} {
		for _, kv := range u.UriParams {
			if strings.EqualFold(kv.K, name) {
				b.WriteString(";" + name + "=" + strings.ToLower(kv.V))
				break
			}
		}
	}
	return b.String()
}

// contactID returns the id Asterisk gives a contact: "<aor>;@<md5 of the uri>".
func contactID(aor, key string) string {
	return aor + ";@" + md5Hex(key)
}

// binding is one contact a REGISTER asks for.
type binding struct {
	uri     string // as the client wrote it
	key     string // see uriKey
	expires int64  // granted seconds; 0 removes the contact
}

// update is what one REGISTER asks of an AOR's contacts.
type update struct {
	removeAll bool // "Contact: *" with Expires: 0
	bindings  []binding

	// Recorded with every contact added or refreshed.
	endpoint, userAgent, callID, viaAddr string
	viaPort                              int
}

// errTooManyContacts refuses a registration that would leave an AOR with more than
// max_contacts contacts.
var errTooManyContacts = errors.New("the registration would exceed max_contacts")

// location keeps the registered contacts of every AOR in memory, as Asterisk's res_pjsip
// keeps them in its own store (astdb by default). It is safe for concurrent use.
type location struct {
	mu   sync.Mutex                          // guards aors
	aors map[string]map[string]pjsip.Contact // AOR id → contact id → contact
}

func newLocation() *location {
	return &location{aors: make(map[string]map[string]pjsip.Contact)}
}

// apply applies u to the contacts of aor at now, following res_pjsip_registrar: bindings
// with a zero expiration are removed (a missing one is no error), others are added or
// refreshed. When the result exceeds aor.MaxContacts, remove_existing lets it through by
// removing the contacts this request did not touch, soonest to expire first; without it, or
// when the request alone exceeds the limit, nothing changes and errTooManyContacts is
// returned. It returns the AOR's contacts after, sorted by URI.
func (l *location) apply(aor pjsip.Aor, now time.Time, u update) ([]pjsip.Contact, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	current := l.live(aor.ID, now)
	next := make(map[string]pjsip.Contact, len(current)+len(u.bindings))
	if !u.removeAll {
		for id, c := range current {
			next[id] = c
		}
	}
	touched := make(map[string]bool, len(u.bindings))
	for _, b := range u.bindings {
		id := contactID(aor.ID, b.key)
		if b.expires == 0 {
			delete(next, id)
			continue
		}
		touched[id] = true
		next[id] = pjsip.Contact{
			ID:               id,
			URI:              b.uri,
			ExpirationTime:   now.Unix() + b.expires,
			QualifyFrequency: aor.QualifyFrequency,
			UserAgent:        u.userAgent,
			Endpoint:         u.endpoint,
			ViaAddr:          u.viaAddr,
			ViaPort:          u.viaPort,
			CallID:           u.callID,
		}
	}
	if excess := len(next) - aor.MaxContacts; excess > 0 {
		if !aor.RemoveExisting || len(touched) > aor.MaxContacts {
			return nil, errTooManyContacts
		}
		var old []pjsip.Contact
		for id, c := range next {
			if !touched[id] {
				old = append(old, c)
			}
		}
		slices.SortFunc(old, func(a, b pjsip.Contact) int {
			return cmp.Or(cmp.Compare(a.ExpirationTime, b.ExpirationTime), cmp.Compare(a.ID, b.ID))
		})
		for _, c := range old[:excess] {
			delete(next, c.ID)
		}
	}
	if len(next) == 0 {
		delete(l.aors, aor.ID)
	} else {
		l.aors[aor.ID] = next
	}
	return sorted(next), nil
}

// live returns the contacts of aor that have not expired at now, dropping the others. l.mu
// must be held.
func (l *location) live(aor string, now time.Time) map[string]pjsip.Contact {
	cs := l.aors[aor]
	for id, c := range cs {
		if c.ExpirationTime <= now.Unix() {
			delete(cs, id)
		}
	}
	return cs
}

// contacts returns the contacts of aor that have not expired at now, sorted by URI.
func (l *location) contacts(aor string, now time.Time) []pjsip.Contact {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.live(aor, now)
	if len(cs) == 0 {
		delete(l.aors, aor)
	}
	return sorted(cs)
}

// prune removes every contact expired at now and returns how many it removed.
func (l *location) prune(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for aor, cs := range l.aors {
		before := len(cs)
		l.live(aor, now)
		n += before - len(cs)
		if len(cs) == 0 {
			delete(l.aors, aor)
		}
	}
	return n
}

func sorted(cs map[string]pjsip.Contact) []pjsip.Contact {
	out := make([]pjsip.Contact, 0, len(cs))
	for _, c := range cs {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b pjsip.Contact) int { return cmp.Compare(a.URI, b.URI) })
	return out
}
