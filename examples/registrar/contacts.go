package registrar

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/sorcery"
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

// contactID returns the id Asterisk gives a new contact of aor (res_pjsip/location.c,
// ast_sip_location_create_contact): "<aor>;@<md5 of the contact URI as written>".
func contactID(aor, uri string) string {
	return aor + ";@" + md5Hex(uri)
}

// contactPrefix is the prefix of the ids of aor's contacts, by which Asterisk retrieves them
// (res_pjsip/location.c: ast_sorcery_retrieve_by_prefix with "<aor>;@").
func contactPrefix(aor string) string { return aor + ";@" }

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

	// Recorded with every contact added; userAgent and regServer with every one refreshed
	// too, as res_pjsip_registrar does.
	endpoint, userAgent, callID, viaAddr, regServer string
	viaPort                                         int
}

// errTooManyContacts refuses a registration that would leave an AOR with more than
// max_contacts contacts.
var errTooManyContacts = errors.New("the registration would exceed max_contacts")

// ContactStore keeps the registered contacts of every AOR, under Asterisk's contact ids
// ("<aor>;@<hash>"). A *sorcery.Type[pjsip.Contact] is one — typically a full-backend memory
// cache in front of an SQL wizard over ps_contacts, so that the contacts of an AOR are found
// by id prefix in memory, and keep being found while the database is down.
//
// Search is asked only for an id prefix. Create of an id that exists returns an error
// matching errors.ErrExists, Update and Delete of one that does not errors.ErrNotFound; any
// other error means the store could not be changed.
type ContactStore interface {
	Search(ctx context.Context, q sorcery.Query) ([]pjsip.Contact, error)
	Create(ctx context.Context, c pjsip.Contact) error
	Update(ctx context.Context, c pjsip.Contact) error
	Delete(ctx context.Context, id string) error
}

// change is what one REGISTER does to the contacts of an AOR: [plan] computes it from the
// contacts stored, [store] writes it.
type change struct {
	put    []pjsip.Contact // added or refreshed
	stored map[string]bool // the ids of put that are stored already: an update, not a create
	remove []string        // removed by the request, or to make room
	after  []pjsip.Contact // the AOR's live contacts once the change is written, sorted by URI
}

// empty reports whether the change writes nothing.
func (c change) empty() bool { return len(c.put) == 0 && len(c.remove) == 0 }

// plan computes what u does to aor's contacts current at now, following res_pjsip_registrar's
// register_aor_core: bindings with a zero expiration remove their contact (a missing one is no
// error), others add or refresh one; a refresh keeps the contact's id and URI and renews its
// expiration, qualify_frequency, user agent and reg_server. Contacts expired at now do not count
// (res_pjsip/location.c's contact_expire drops them when it reads an AOR); removing them from
// the store is left to the pruning, so that a request that changes nothing writes nothing.
//
// The limit, max_contacts, is checked as Asterisk checks it: without remove_existing the
// contacts after the request (current, plus added, minus removed) must fit; with it, the
// request's own (added plus refreshed, minus removed) must, and the contacts it did not touch
// make room, soonest to expire first. When the limit is not met, plan returns
// errTooManyContacts.
func plan(aor pjsip.Aor, current []pjsip.Contact, now time.Time, u update) (change, error) {
	ch := change{stored: map[string]bool{}}
	live := make(map[string]pjsip.Contact, len(current)) // by id
	for _, c := range current {
		if c.ExpirationTime > now.Unix() { // the expired are the pruning's: see Registrar.prune
			live[c.ID] = c
		}
	}
	byKey := make(map[string]string, len(live)) // uriKey → id
	for id, c := range live {
		byKey[storedKey(c.URI)] = id
	}

	next := make(map[string]pjsip.Contact, len(live)+len(u.bindings))
	if u.removeAll {
		for id := range live {
			ch.remove = append(ch.remove, id)
		}
	} else {
		for id, c := range live {
			next[id] = c
		}
	}
	touched := map[string]bool{}
	added, updated, deleted := 0, 0, 0
	for _, b := range u.bindings {
		id, exists := byKey[b.key]
		switch {
		case exists && b.expires == 0:
			if _, ok := next[id]; ok {
				deleted++
				delete(next, id)
				ch.remove = append(ch.remove, id)
			}
			delete(touched, id)
		case exists:
			c := next[id]
			if _, ok := next[id]; !ok { // removed by an earlier binding of the same request
				c = live[id]
			}
			if !touched[id] {
				updated++
			}
			c.ExpirationTime = now.Unix() + b.expires
			c.QualifyFrequency = aor.QualifyFrequency
			if u.userAgent != "" {
				c.UserAgent = u.userAgent
			}
			if u.regServer != "" {
				c.RegServer = u.regServer
			}
			next[id], touched[id] = c, true
			ch.stored[id] = true
		case b.expires == 0:
			// Removing a contact that is not there: forgiven, as Asterisk does.
		default:
			id = contactID(aor.ID, b.uri)
			if !touched[id] {
				added++
			}
			byKey[b.key] = id
			next[id] = pjsip.Contact{
				ID:               id,
				URI:              b.uri,
				ExpirationTime:   now.Unix() + b.expires,
				QualifyFrequency: aor.QualifyFrequency,
				UserAgent:        u.userAgent,
				Endpoint:         u.endpoint,
				RegServer:        u.regServer,
				ViaAddr:          u.viaAddr,
				ViaPort:          u.viaPort,
				CallID:           u.callID,
			}
			touched[id] = true
		}
	}
	if u.removeAll {
		deleted = len(live)
	}

	if aor.RemoveExisting {
		if max(added+updated-deleted, 0) > aor.MaxContacts {
			return change{}, errTooManyContacts
		}
		var old []pjsip.Contact
		for id, c := range next {
			if !touched[id] {
				old = append(old, c)
			}
		}
		if excess := len(old) + len(touched) - aor.MaxContacts; excess > 0 {
			slices.SortFunc(old, func(a, b pjsip.Contact) int {
				return cmp.Or(cmp.Compare(a.ExpirationTime, b.ExpirationTime), cmp.Compare(a.ID, b.ID))
			})
			for _, c := range old[:min(excess, len(old))] {
				delete(next, c.ID)
				ch.remove = append(ch.remove, c.ID)
			}
		}
	} else if len(live)+added-deleted > aor.MaxContacts {
		return change{}, errTooManyContacts
	}

	for id := range touched {
		ch.put = append(ch.put, next[id])
	}
	slices.SortFunc(ch.put, func(a, b pjsip.Contact) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(ch.remove)
	ch.remove = slices.Compact(ch.remove)
	ch.after = sortedByURI(next)
	return ch, nil
}

// storedKey returns the uriKey of a stored contact's URI; a URI that does not parse compares
// as written.
func storedKey(uri string) string {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return uri
	}
	return uriKey(u)
}

// store writes ch to cs: the removals (a contact already gone is no error: another instance
// may have pruned it), then the contacts added or refreshed, each created or updated as the
// store has it (another instance may have created or removed it meanwhile). It stops at the
// first failure and returns it.
func store(ctx context.Context, cs ContactStore, ch change) error {
	for _, id := range ch.remove {
		if err := cs.Delete(ctx, id); err != nil && !errors.Is(err, errors.ErrNotFound) {
			return fmt.Errorf("removing contact %q: %w", id, err)
		}
	}
	for _, c := range ch.put {
		if err := put(ctx, cs, c, ch.stored[c.ID]); err != nil {
			return fmt.Errorf("storing contact %q: %w", c.ID, err)
		}
	}
	return nil
}

// put stores c, by an update when it is thought stored already and by a create otherwise,
// trying the other when the store disagrees.
func put(ctx context.Context, cs ContactStore, c pjsip.Contact, stored bool) error {
	first, second := cs.Create, cs.Update
	firstMiss, secondMiss := errors.ErrExists, errors.ErrNotFound
	if stored {
		first, second = second, first
		firstMiss, secondMiss = secondMiss, firstMiss
	}
	err := first(ctx, c)
	if !errors.Is(err, firstMiss) {
		return err
	}
	if err = second(ctx, c); errors.Is(err, secondMiss) {
		return fmt.Errorf("the contact was created and removed meanwhile: %w", errors.ErrUnavailable)
	}
	return err
}

// aorContacts returns the contacts stored for aor, live or not.
func aorContacts(ctx context.Context, cs ContactStore, aor string) ([]pjsip.Contact, error) {
	return cs.Search(ctx, sorcery.Query{IDPrefix: contactPrefix(aor)})
}

// liveOnly returns the contacts of cs that have not expired at now, sorted by URI.
func liveOnly(cs []pjsip.Contact, now time.Time) []pjsip.Contact {
	out := make([]pjsip.Contact, 0, len(cs))
	for _, c := range cs {
		if c.ExpirationTime > now.Unix() {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b pjsip.Contact) int { return cmp.Compare(a.URI, b.URI) })
	return out
}

func sortedByURI(cs map[string]pjsip.Contact) []pjsip.Contact {
	out := make([]pjsip.Contact, 0, len(cs))
	for _, c := range cs {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b pjsip.Contact) int { return cmp.Compare(a.URI, b.URI) })
	return out
}
