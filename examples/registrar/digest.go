package registrar

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// credentials are the parameters of a Digest Authorization header (RFC 2617 §3.2.2,
// RFC 7616 §3.4).
type credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	CNonce    string
	Opaque    string
	QOP       string
	NC        string
}

// parseCredentials parses the value of an Authorization header with the Digest scheme.
// Parameter names compare without case; values are quoted strings (with backslash escapes)
// or tokens.
func parseCredentials(h string) (credentials, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return credentials{}, fmt.Errorf("authorization scheme %q is not Digest", scheme)
	}
	var c credentials
	seen := map[string]bool{}
	s := rest
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return credentials{}, fmt.Errorf("malformed digest parameter %q", s)
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var value string
		if strings.HasPrefix(s, `"`) {
			v, n, err := unquote(s)
			if err != nil {
				return credentials{}, fmt.Errorf("digest parameter %s: %w", name, err)
			}
			value, s = v, s[n:]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			value, s = s[:end], s[end:]
		}
		if seen[name] {
			return credentials{}, fmt.Errorf("digest parameter %s given twice", name)
		}
		seen[name] = true
		switch name {
		case "username":
			c.Username = value
		case "realm":
			c.Realm = value
		case "nonce":
			c.Nonce = value
		case "uri":
			c.URI = value
		case "response":
			c.Response = value
		case "algorithm":
			c.Algorithm = value
		case "cnonce":
			c.CNonce = value
		case "opaque":
			c.Opaque = value
		case "qop":
			c.QOP = value
		case "nc":
			c.NC = value
		}
	}
	for _, p := range []struct{ name, v string }{{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce}, {"uri", c.URI}, {"response", c.Response}} {
		if !seen[p.name] {
			return credentials{}, fmt.Errorf("digest parameter %s missing", p.name)
		}
	}
	return c, nil
}

// unquote reads the quoted string at the start of s, undoing backslash escapes, and returns
// it with the number of bytes of s it took.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

// errUnsupportedDigest is returned by digestResponse for an algorithm or a qop it does not
// implement.
var errUnsupportedDigest = errors.New("unsupported digest")

// md5Hex returns the lower-case hexadecimal MD5 of s.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ha1 returns H(A1) = MD5(username:realm:password) (RFC 2617 §3.2.2.2), the form Asterisk
// keeps in an auth's md5_cred.
func ha1(username, realm, password string) string {
	return md5Hex(username + ":" + realm + ":" + password)
}

// digestResponse returns the request-digest of RFC 2617 §3.2.2.1 for the MD5 algorithm,
// given H(A1), the request method and the client's credentials: with qop=auth,
// MD5(HA1:nonce:nc:cnonce:qop:HA2), and without qop (RFC 2069 compatibility),
// MD5(HA1:nonce:HA2), where HA2 = MD5(method:uri). Other algorithms and qop=auth-int are
// errUnsupportedDigest.
func digestResponse(ha1, method string, c credentials) (string, error) {
	if c.Algorithm != "" && !strings.EqualFold(c.Algorithm, "MD5") {
		return "", fmt.Errorf("algorithm %q: %w", c.Algorithm, errUnsupportedDigest)
	}
	ha2 := md5Hex(method + ":" + c.URI)
	switch strings.ToLower(c.QOP) {
	case "":
		return md5Hex(ha1 + ":" + c.Nonce + ":" + ha2), nil
	case "auth":
		if c.NC == "" || c.CNonce == "" {
			return "", fmt.Errorf("qop=auth without nc or cnonce: %w", errUnsupportedDigest)
		}
		return md5Hex(ha1 + ":" + c.Nonce + ":" + c.NC + ":" + c.CNonce + ":" + c.QOP + ":" + ha2), nil
	}
	return "", fmt.Errorf("qop %q: %w", c.QOP, errUnsupportedDigest)
}

// challenge is a WWW-Authenticate Digest challenge.
type challenge struct {
	Realm  string
	Nonce  string
	Opaque string
	Stale  bool // the credentials were right but the nonce had expired: retry without asking the user
}

// String returns the challenge as the value of a WWW-Authenticate header, offering MD5 with
// qop=auth (and accepting answers without qop).
func (c challenge) String() string {
	var b strings.Builder
	b.WriteString(`Digest realm=`)
	b.WriteString(quote(c.Realm))
	b.WriteString(`,nonce=`)
	b.WriteString(quote(c.Nonce))
	if c.Opaque != "" {
		b.WriteString(`,opaque=`)
		b.WriteString(quote(c.Opaque))
	}
	b.WriteString(`,algorithm=MD5,qop="auth"`)
	if c.Stale {
		b.WriteString(`,stale=true`)
	}
	return b.String()
}

// quote returns s as a quoted string, escaping quotes and backslashes.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// nonceState is what a nonce check found.
type nonceState int

const (
	nonceInvalid nonceState = iota // not issued by this registrar, or not for this client and realm
	nonceStale                     // issued here, but older than its lifetime
	nonceValid
)

// nonces issues and checks stateless nonces, as Asterisk's res_pjsip_authenticator_digest
// does: "<unix seconds>/<MAC>", where the MAC binds the time to the client's address and the
// realm under a key drawn at start. Nothing is stored per nonce; a restart invalidates every
// nonce, and clients simply get a new challenge.
type nonces struct {
	key []byte
}

func newNonces() (*nonces, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &nonces{key: key}, nil
}

func (n *nonces) mac(ts, host, realm string) string {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte(ts + ":" + host + ":" + realm))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// issue returns a nonce for a client at host (an address without port: TCP clients change
// ports) in realm, issued at now.
func (n *nonces) issue(now time.Time, host, realm string) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "/" + n.mac(ts, host, realm)
}

// check reports whether nonce was issued by n for host and realm, and whether it is younger
// than lifetime at now.
func (n *nonces) check(nonce string, now time.Time, host, realm string, lifetime time.Duration) nonceState {
	ts, mac, ok := strings.Cut(nonce, "/")
	if !ok {
		return nonceInvalid
	}
	issued, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nonceInvalid
	}
	if subtle.ConstantTimeCompare([]byte(mac), []byte(n.mac(ts, host, realm))) != 1 {
		return nonceInvalid
	}
	age := now.Sub(time.Unix(issued, 0))
	if age < -time.Second { // from the future: not ours, whatever the MAC says
		return nonceInvalid
	}
	if age > lifetime {
		return nonceStale
	}
	return nonceValid
}
