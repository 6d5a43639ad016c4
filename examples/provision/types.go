package main

import (
	"slices"
	"strings"
)

// objectType is a PJSIP object type the tool knows: the value of type= in pjsip.conf.
type objectType struct {
	// name is the sorcery type name, as written after type=.
	name string

	// table is the Asterisk realtime table that holds objects of the type, or "" for a type
	// that lives in pjsip.conf only.
	table string

	// multi lists the options whose repeated lines all take effect, in order (allow=, match=,
	// contact= …). Every other option of a realtime type takes the value of its last line,
	// as Asterisk applies it. Nil for a type whose options are not modelled (see known).
	multi []string

	// known tells whether the tool knows which options of the type accumulate. For a type it
	// does not model (the file-only ones but transport), every line is kept as written.
	known bool

	// why says, for a type that has no table, why its objects stay in pjsip.conf.
	why string
}

// realtime reports whether objects of the type can be stored in a realtime table.
func (t *objectType) realtime() bool { return t.table != "" }

// accumulates reports whether every line of the option takes effect rather than the last.
func (t *objectType) accumulates(option string) bool {
	return !t.known || slices.Contains(t.multi, option)
}

// aclOptions are the options that add rules to an ACL, one line at a time.
var aclOptions = []string{"permit", "deny", "acl", "contact_permit", "contact_deny", "contact_acl"}

// types lists every object type of res_pjsip and its modules the tool accepts in pjsip.conf,
// the realtime ones first in the order their tables are listed in Asterisk's alembic
// scripts. Asterisk's sources decide what accumulates: codec lists (allow=, disallow=), ACL
// rules, set_var=, an aor's permanent contact= and an identify's match= are handled line by
// line; every other option is a plain value that a later line overrides.
var types = []*objectType{
	{name: "endpoint", table: "ps_endpoints", known: true,
		multi: append([]string{"allow", "disallow", "set_var"}, aclOptions...)},
	{name: "auth", table: "ps_auths", known: true},
	{name: "aor", table: "ps_aors", known: true, multi: []string{"contact"}},
	{name: "contact", table: "ps_contacts", known: true},
	{name: "identify", table: "ps_endpoint_id_ips", known: true, multi: []string{"match"}},
	{name: "domain_alias", table: "ps_domain_aliases", known: true},
	{name: "registration", table: "ps_registrations", known: true},

	{name: "transport", known: true, multi: []string{"local_net", "cipher"},
		why: "Asterisk loads transports from pjsip.conf at start and cannot reload them from realtime"},
	{name: "global", why: "res_pjsip reads its global settings from pjsip.conf"},
	{name: "system", why: "res_pjsip reads its system settings from pjsip.conf only"},
	{name: "acl", known: true, multi: aclOptions, why: "ACLs are not realtime objects"},
	{name: "phoneprov", why: "phone provisioning objects are not realtime objects"},
	{name: "resource_list", why: "resource lists are not realtime objects"},
	{name: "outbound-publish", why: "outbound publications are not realtime objects"},
	{name: "inbound-publication", why: "inbound publications are not realtime objects"},
	{name: "asterisk-publication", why: "Asterisk publications are not realtime objects"},
}

// lookupType returns the type called name, matching without regard to case, or nil.
func lookupType(name string) *objectType {
	for _, t := range types {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	return nil
}

// realtimeTypes returns the types that have a table, in the order of types.
func realtimeTypes() []*objectType {
	var out []*objectType
	for _, t := range types {
		if t.realtime() {
			out = append(out, t)
		}
	}
	return out
}

// typeNames returns the names of ts, comma separated.
func typeNames(ts []*objectType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.name
	}
	return strings.Join(names, ",")
}
