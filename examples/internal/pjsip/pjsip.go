// Package pjsip holds the PJSIP object types of Asterisk — endpoint, auth, aor and contact —
// as Go structs tagged with Asterisk's option names, for the example programs (the quickstart,
// the registrar and the provisioning tool) to share.
//
// The structs carry the options a registrar and a provisioning tool need, with Asterisk's
// defaults; [Register] registers them with IgnoreUnknown, so that a source carrying more of
// Asterisk's options (a full pjsip.conf, a ps_endpoints table with every column) decodes
// without error. Options that Asterisk lets repeat and accumulate (allow, disallow, aor
// contact) are slices; options that Asterisk keeps as one comma-separated value, where a
// second line replaces the first (an endpoint's aors and auth), are strings split by
// [SplitList], so that they round-trip through pjsip.conf unchanged.
package pjsip

import (
	"fmt"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/sorcery"
)

// The object type names, as sorcery.conf and res_pjsip write them.
const (
	TypeEndpoint = "endpoint"
	TypeAuth     = "auth"
	TypeAor      = "aor"
	TypeContact  = "contact"
)

// The realtime table names Asterisk's extconfig.conf conventionally maps the types to.
const (
	TableEndpoints = "ps_endpoints"
	TableAuths     = "ps_auths"
	TableAors      = "ps_aors"
	TableContacts  = "ps_contacts"
)

// Endpoint is a PJSIP endpoint: the configuration of one SIP peer.
type Endpoint struct {
	ID   string `sorcery:"id"`
	Type string `sorcery:"type,default=endpoint"`

	Context   string `sorcery:"context,default=default"`
	Transport string `sorcery:"transport"`
	// Aors names the endpoint's AORs, comma-separated; see [Endpoint.AorList].
	Aors string `sorcery:"aors"`
	// Auth names the endpoint's inbound auth objects, comma-separated; see
	// [Endpoint.AuthList]. Empty means requests from the endpoint are not authenticated.
	Auth         string   `sorcery:"auth"`
	OutboundAuth string   `sorcery:"outbound_auth"`
	Disallow     []string `sorcery:"disallow"`
	Allow        []string `sorcery:"allow"`
	DirectMedia  bool     `sorcery:"direct_media,default=yes"`
	CallerID     string   `sorcery:"callerid"`
	DTMFMode     string   `sorcery:"dtmf_mode,default=rfc4733"`
	// IdentifyBy lists how requests are matched to the endpoint; Asterisk's default is
	// "username,ip".
	IdentifyBy     string `sorcery:"identify_by,default=username,ip"`
	ForceRport     bool   `sorcery:"force_rport,default=yes"`
	RewriteContact bool   `sorcery:"rewrite_contact,default=no"`
	RTPSymmetric   bool   `sorcery:"rtp_symmetric,default=no"`
	Mailboxes      string `sorcery:"mailboxes"`
	FromUser       string `sorcery:"from_user"`
	FromDomain     string `sorcery:"from_domain"`
}

// AorList returns the names in e.Aors.
func (e Endpoint) AorList() []string { return SplitList(e.Aors) }

// AuthList returns the names in e.Auth.
func (e Endpoint) AuthList() []string { return SplitList(e.Auth) }

// The values of [Auth].AuthType.
const (
	AuthUserPass = "userpass" // Password holds the plain password
	AuthMD5      = "md5"      // MD5Cred holds MD5(username:realm:password)
)

// Auth is a PJSIP auth: credentials an endpoint authenticates with.
type Auth struct {
	ID   string `sorcery:"id"`
	Type string `sorcery:"type,default=auth"`

	AuthType string `sorcery:"auth_type,default=userpass"`
	Username string `sorcery:"username"`
	Password string `sorcery:"password"`
	MD5Cred  string `sorcery:"md5_cred"`
	// Realm is the realm of the challenge; empty means the server's default realm
	// (Asterisk's default_realm, "asterisk").
	Realm string `sorcery:"realm"`
	// NonceLifetime is how long a nonce issued for this auth stays valid.
	NonceLifetime time.Duration `sorcery:"nonce_lifetime,default=32"`
}

// Validate reports whether the auth can verify a digest: a username, and a password or an
// md5_cred according to its auth_type.
func (a Auth) Validate() error {
	if a.Username == "" {
		return fmt.Errorf("auth %q: no username", a.ID)
	}
	switch strings.ToLower(a.AuthType) {
	case AuthUserPass, "":
		return nil // an empty password is a password
	case AuthMD5:
		if len(a.MD5Cred) != 32 {
			return fmt.Errorf("auth %q: md5_cred is not 32 hexadecimal digits", a.ID)
		}
		return nil
	}
	return fmt.Errorf("auth %q: auth_type %q is not supported (userpass, md5)", a.ID, a.AuthType)
}

// Aor is a PJSIP address of record: where an endpoint's contacts are kept, and the rules of
// its registrations.
type Aor struct {
	ID   string `sorcery:"id"`
	Type string `sorcery:"type,default=aor"`

	// MaxContacts is the most contacts the AOR holds; 0, Asterisk's default, forbids
	// registration.
	MaxContacts int `sorcery:"max_contacts,default=0"`
	// RemoveExisting lets a registration that would exceed MaxContacts succeed by removing
	// the existing contacts closest to expiry.
	RemoveExisting    bool          `sorcery:"remove_existing,default=no"`
	DefaultExpiration time.Duration `sorcery:"default_expiration,default=3600"`
	MinimumExpiration time.Duration `sorcery:"minimum_expiration,default=60"`
	MaximumExpiration time.Duration `sorcery:"maximum_expiration,default=7200"`
	QualifyFrequency  time.Duration `sorcery:"qualify_frequency,default=0"`
	// Contact lists permanent contacts, which are always part of the AOR.
	Contact       []string `sorcery:"contact"`
	Mailboxes     string   `sorcery:"mailboxes"`
	SupportPath   bool     `sorcery:"support_path,default=no"`
	OutboundProxy string   `sorcery:"outbound_proxy"`
}

// Contact is a registered contact of an AOR, with the fields Asterisk keeps for it
// (res_pjsip's ast_sip_contact, the ps_contacts table).
type Contact struct {
	// ID is "<aor>;@<md5 of the uri>", as Asterisk names contacts.
	ID  string `sorcery:"id"`
	URI string `sorcery:"uri"`
	// ExpirationTime is when the contact expires, in seconds since the Unix epoch.
	ExpirationTime   int64         `sorcery:"expiration_time"`
	QualifyFrequency time.Duration `sorcery:"qualify_frequency,default=0"`
	OutboundProxy    string        `sorcery:"outbound_proxy"`
	Path             string        `sorcery:"path"`
	UserAgent        string        `sorcery:"user_agent"`
	Endpoint         string        `sorcery:"endpoint"`
	RegServer        string        `sorcery:"reg_server"`
	ViaAddr          string        `sorcery:"via_addr"`
	ViaPort          int           `sorcery:"via_port"`
	CallID           string        `sorcery:"call_id"`
	PruneOnBoot      bool          `sorcery:"prune_on_boot,default=no"`
}

// Expires returns the contact's expiration time.
func (c Contact) Expires() time.Time { return time.Unix(c.ExpirationTime, 0) }

// SplitList splits an Asterisk comma-separated list, trimming blanks and dropping empty items.
func SplitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Types are the typed handles of the PJSIP object types registered by [Register].
type Types struct {
	Endpoints *sorcery.Type[Endpoint]
	Auths     *sorcery.Type[Auth]
	Aors      *sorcery.Type[Aor]
}

// Register registers the endpoint, auth and aor types with s, each with IgnoreUnknown so
// that sources carrying more of Asterisk's options decode. The types have no wizards yet.
func Register(s *sorcery.Sorcery) (Types, error) {
	var ts Types
	var err error
	if ts.Endpoints, err = sorcery.Register(s, TypeEndpoint, &sorcery.TypeOptions[Endpoint]{IgnoreUnknown: true}); err != nil {
		return Types{}, err
	}
	if ts.Auths, err = sorcery.Register(s, TypeAuth, &sorcery.TypeOptions[Auth]{IgnoreUnknown: true}); err != nil {
		return Types{}, err
	}
	if ts.Aors, err = sorcery.Register(s, TypeAor, &sorcery.TypeOptions[Aor]{IgnoreUnknown: true}); err != nil {
		return Types{}, err
	}
	return ts, nil
}

// RegisterContacts registers the contact type with s, with IgnoreUnknown so that a
// ps_contacts table carrying every column of Asterisk's decodes. The type has no wizards
// yet. It is apart from [Register] because only a registrar keeps contacts.
func RegisterContacts(s *sorcery.Sorcery) (*sorcery.Type[Contact], error) {
	return sorcery.Register(s, TypeContact, &sorcery.TypeOptions[Contact]{IgnoreUnknown: true})
}
