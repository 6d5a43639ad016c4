package curl

import (
	"net/http"
	"slices"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// Defaults used for zero [Options] fields and by the clients this package builds.
const (
	// DefaultConnectTimeout bounds establishing a connection, the TLS handshake included,
	// for the wizard's own client and for a client [ReadConfig] builds from a res_curl.conf
	// without conntimeout. Asterisk's libcurl default is 300 s, far too long for a source with failover.
	DefaultConnectTimeout = 5 * time.Second

	// DefaultTimeout bounds a whole request when Options.Timeout is zero. func_curl's default
	// is 180 s; a cache in front of this wizard wants to know much sooner.
	DefaultTimeout = 10 * time.Second

	// DefaultMaxReplyBytes is the largest reply body read when Options.MaxReplyBytes is zero:
	// 16 MiB, room for a /multi of tens of thousands of objects.
	DefaultMaxReplyBytes = 16 << 20

	// DefaultUserAgent is Asterisk's own, sent when Options.UserAgent is empty, so a
	// provisioning service that looks at it sees what it always saw.
	DefaultUserAgent = "asterisk-libcurl-agent/1.0"

	// DefaultMaxRedirects is libcurl's limit on the redirects a client [ReadConfig] builds
	// follows under followlocation when maxredirs is not set.
	DefaultMaxRedirects = 30
)

// Options configures a [Wizard]. The fields carry res_curl.conf's option names (in
// parentheses) and meanings; [ReadConfig] fills them from that file. A nil *Options and every
// zero field mean the documented default.
type Options struct {
	// Timeout bounds a whole request, from dialling to the last byte of the reply
	// (httptimeout, in seconds in res_curl.conf). A ctx deadline that comes sooner wins. A
	// request that runs out of time fails with errors.ErrUnavailable. Zero: DefaultTimeout.
	Timeout time.Duration

	// Header holds extra headers sent with every request (httpheader "Name: value" lines,
	// referer, cookie). Zero: none besides Content-Type, User-Agent and Accept. A
	// Content-Type set here replaces the form type.
	Header http.Header

	// Username and Password authenticate every request with HTTP basic authentication
	// (userpwd "user:pass"). Zero: no authentication, unless the base URL carries
	// user:pass@ itself.
	Username, Password string

	// UserAgent is the User-Agent header (useragent). Zero: DefaultUserAgent.
	UserAgent string

	// FailureCodes lists HTTP status codes that are failures, errors.ErrUnavailable, on top
	// of every 5xx and 429 (failurecodes). Zero: only 5xx and 429. Any other status that is
	// not 2xx is an error too, of its own class.
	FailureCodes []int

	// NotFoundCodes lists HTTP status codes that mean "no such object" on a read (/single,
	// /multi, /static) and "no rows changed" on an update or a destroy, as an empty 200
	// does. Zero: none. Asterisk's protocol answers an empty 200 when there is no such
	// object, and a 404 is what a mistyped base URL gets: read as absence it would make
	// every object vanish, so by default a 404 is an error like any other 4xx. List 404
	// here for a service that answers 404 for a missing object. A code may not be in both
	// lists, and 5xx and 429 may not be listed.
	NotFoundCodes []int

	// Variables are substituted for ${NAME} in the base URL, like Asterisk's ${ENTITYID}.
	// The map is copied by [New]; a ${NAME} it lacks fails New with errors.ErrInvalid.
	// Zero: the base URL must not contain ${…}.
	Variables map[string]string

	// MaxReplyBytes bounds the body of a reply: a longer reply is errors.ErrInvalid and is
	// read no further. Zero: DefaultMaxReplyBytes. Negative: no bound.
	MaxReplyBytes int64

	// Client sends the requests and carries every transport concern: connect timeout,
	// proxy, TLS, redirects. Zero: a client of the wizard's own, with a keep-alive
	// connection pool, DefaultConnectTimeout, the proxy of the HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY environment variables, the system's roots, and no redirects followed (a 3xx
	// reply is an error, as with Asterisk's default); [Wizard.Close] closes its idle
	// connections. [ReadConfig] builds one from res_curl.conf's conntimeout, proxy, TLS and
	// redirect options; a wizard given the Client that ReadConfig put in these Options
	// closes its idle connections on Close too (others sharing it just reconnect). Any
	// other Client is the caller's: the wizard never closes it. Timeout, Header,
	// credentials, UserAgent, FailureCodes and MaxReplyBytes apply whatever the Client.
	Client *http.Client

	// built is the client ReadConfig built, closed by the wizard when it is still Client.
	built *http.Client
}

// resolved is Options with the defaults filled in.
type resolved struct {
	Options
	maxReply int64
}

func resolve(opts *Options) (resolved, error) {
	var r resolved
	if opts != nil {
		r.Options = *opts
	}
	o := &r.Options
	if o.Timeout < 0 {
		return r, errors.Errorf("curl: negative timeout: %w", errors.ErrInvalid)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	switch {
	case o.MaxReplyBytes == 0:
		r.maxReply = DefaultMaxReplyBytes
	case o.MaxReplyBytes < 0:
		r.maxReply = -1
	default:
		r.maxReply = o.MaxReplyBytes
	}
	for _, c := range o.FailureCodes {
		if c < 100 || c > 999 {
			return r, errors.Errorf("curl: failure code %d is not an HTTP status: %w", c, errors.ErrInvalid)
		}
	}
	for _, c := range o.NotFoundCodes {
		if c < 100 || c > 999 {
			return r, errors.Errorf("curl: not-found code %d is not an HTTP status: %w", c, errors.ErrInvalid)
		}
		if c >= 500 || c == http.StatusTooManyRequests || slices.Contains(o.FailureCodes, c) {
			return r, errors.Errorf("curl: status %d cannot be both a failure and not-found: %w", c, errors.ErrInvalid)
		}
	}
	o.FailureCodes = slices.Clone(o.FailureCodes)
	o.NotFoundCodes = slices.Clone(o.NotFoundCodes)
	o.Header = o.Header.Clone()
	if o.Variables != nil {
		vars := make(map[string]string, len(o.Variables))
		for k, v := range o.Variables {
			vars[k] = v
		}
		o.Variables = vars
	}
	return r, nil
}
