package curl

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// Defaults used for the zero values of [Options] fields.
const (
	// DefaultConnectTimeout bounds establishing a connection when Options.ConnectTimeout is
	// zero. Asterisk's libcurl default is 300 s, far too long for a source with failover.
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

	// DefaultMaxRedirects is libcurl's limit on redirects followed when
	// Options.MaxRedirects is zero.
	DefaultMaxRedirects = 30
)

// Options configures a [Wizard]. The fields carry res_curl.conf's option names (in
// parentheses) and meanings; [ReadConfig] fills them from that file. A nil *Options and every
// zero field mean the documented default.
type Options struct {
	// ConnectTimeout bounds establishing a connection, the TLS handshake included
	// (conntimeout, in seconds in res_curl.conf). Zero: DefaultConnectTimeout.
	ConnectTimeout time.Duration

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

	// FollowRedirects follows HTTP 3xx replies (followlocation). Zero: a 3xx reply is an
	// error, as with Asterisk's default.
	FollowRedirects bool

	// MaxRedirects bounds the redirects followed when FollowRedirects is set (maxredirs).
	// Zero: DefaultMaxRedirects. Negative: no bound.
	MaxRedirects int

	// UserAgent is the User-Agent header (useragent). Zero: DefaultUserAgent.
	UserAgent string

	// Proxy is the URL of the proxy every request goes through (proxy, proxytype,
	// proxyport, proxyuserpwd): "http://host:port", "https://…", "socks5://user:pass@host:port"
	// or "socks5h://…". Zero: the HTTP_PROXY, HTTPS_PROXY and NO_PROXY environment
	// variables, as libcurl reads them too.
	Proxy string

	// InsecureSkipVerify accepts any server certificate (ssl_verifypeer=no). Zero: the
	// certificate must chain to a trusted root and name the host.
	InsecureSkipVerify bool

	// SkipHostVerify checks that the server certificate chains to a trusted root but not
	// that it names the host (ssl_verifyhost=0). Zero: the name is checked.
	SkipHostVerify bool

	// CAFile is a PEM file of root certificates to trust instead of the system's
	// (ssl_cainfo). Zero: the system roots, unless CAPath is set.
	CAFile string

	// CAPath is a directory whose PEM files hold root certificates to trust instead of the
	// system's (ssl_capath). Zero: the system roots, unless CAFile is set.
	CAPath string

	// CertFile is the client certificate presented to the server (ssl_cert). Zero: none.
	CertFile string

	// KeyFile is the private key of CertFile (ssl_key). Zero: the key is read from CertFile.
	KeyFile string

	// CertType is the encoding of CertFile, "PEM" or "DER" (ssl_certtype). Zero: "PEM".
	CertType string

	// KeyType is the encoding of KeyFile, "PEM" or "DER" (ssl_keytype). Zero: "PEM".
	KeyType string

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

	// Client sends the requests. Zero: a client of the wizard's own, with a keep-alive
	// connection pool that [Wizard.Close] closes. A Client given here is not closed, and
	// must then carry its own transport settings: New fails with errors.ErrInvalid when
	// ConnectTimeout, Proxy, a TLS field, FollowRedirects or MaxRedirects is set along with
	// it. Timeout, Header, credentials, UserAgent, FailureCodes and MaxReplyBytes still
	// apply.
	Client *http.Client
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
	if o.ConnectTimeout < 0 || o.Timeout < 0 {
		return r, errors.Errorf("curl: negative timeout: %w", errors.ErrInvalid)
	}
	if o.Client != nil {
		if o.ConnectTimeout != 0 || o.Proxy != "" || o.FollowRedirects || o.MaxRedirects != 0 ||
			o.InsecureSkipVerify || o.SkipHostVerify || o.CAFile != "" || o.CAPath != "" ||
			o.CertFile != "" || o.KeyFile != "" {
			return r, errors.Errorf("curl: transport options set along with Options.Client, which would not use them: %w", errors.ErrInvalid)
		}
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
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

// newClient builds the wizard's own client: a keep-alive transport with the connect timeout,
// proxy and TLS settings of o, and o's redirect policy.
func newClient(o *Options) (*http.Client, *http.Transport, error) {
	proxy := http.ProxyFromEnvironment
	if o.Proxy != "" {
		u, err := url.Parse(o.Proxy)
		if err != nil {
			return nil, nil, errors.Errorf("curl: proxy: %w: %w", err, errors.ErrInvalid)
		}
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return nil, nil, errors.Errorf("curl: proxy scheme %q: want http, https, socks5 or socks5h: %w", u.Scheme, errors.ErrInvalid)
		}
		if u.Host == "" {
			return nil, nil, errors.Errorf("curl: proxy %q has no host: %w", u.Redacted(), errors.ErrInvalid)
		}
		proxy = http.ProxyURL(u)
	}
	tlsConf, err := tlsConfig(o)
	if err != nil {
		return nil, nil, err
	}
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	client := &http.Client{Transport: tr}
	switch {
	case !o.FollowRedirects:
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	case o.MaxRedirects > 0:
		limit := o.MaxRedirects
		client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
			if len(via) > limit {
				return fmt.Errorf("stopped after %d redirects", limit)
			}
			return nil
		}
	default: // negative: unbounded
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
	}
	return client, tr, nil
}

// tlsConfig builds the TLS settings of o, or nil when o changes none.
func tlsConfig(o *Options) (*tls.Config, error) {
	if !o.InsecureSkipVerify && !o.SkipHostVerify && o.CAFile == "" && o.CAPath == "" && o.CertFile == "" && o.KeyFile == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" || o.CAPath != "" {
		pool := x509.NewCertPool()
		files := []string{}
		if o.CAFile != "" {
			files = append(files, o.CAFile)
		}
		if o.CAPath != "" {
			entries, err := os.ReadDir(o.CAPath)
			if err != nil {
				return nil, errors.Errorf("curl: ssl_capath: %w: %w", err, errors.ErrInvalid)
			}
			for _, e := range entries {
				if !e.IsDir() {
					files = append(files, filepath.Join(o.CAPath, e.Name()))
				}
			}
		}
		added := 0
		for _, f := range files {
			pemBytes, err := os.ReadFile(f)
			if err != nil {
				return nil, errors.Errorf("curl: CA certificates: %w: %w", err, errors.ErrInvalid)
			}
			if pool.AppendCertsFromPEM(pemBytes) {
				added++
			} else if o.CAFile == f {
				return nil, errors.Errorf("curl: ssl_cainfo %q holds no PEM certificate: %w", f, errors.ErrInvalid)
			}
		}
		if added == 0 {
			return nil, errors.Errorf("curl: ssl_capath %q holds no PEM certificate: %w", o.CAPath, errors.ErrInvalid)
		}
		conf.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := loadKeyPair(o)
		if err != nil {
			return nil, err
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	switch {
	case o.InsecureSkipVerify:
		conf.InsecureSkipVerify = true
	case o.SkipHostVerify:
		// Verify the chain, not the name: Go's verifier does both or neither, so it is turned
		// off and the chain is checked here.
		conf.InsecureSkipVerify = true
		roots := conf.RootCAs
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return conf, nil
}

// loadKeyPair reads the client certificate and key in PEM or DER.
func loadKeyPair(o *Options) (tls.Certificate, error) {
	if o.CertFile == "" {
		return tls.Certificate{}, errors.Errorf("curl: ssl_key set without ssl_cert: %w", errors.ErrInvalid)
	}
	certPEM, err := readPEM(o.CertFile, o.CertType, "CERTIFICATE")
	if err != nil {
		return tls.Certificate{}, err
	}
	keyFile, keyType := o.KeyFile, o.KeyType
	if keyFile == "" {
		keyFile, keyType = o.CertFile, o.CertType
	}
	keyPEM, err := readPEM(keyFile, keyType, "PRIVATE KEY")
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, errors.Errorf("curl: client certificate %q: %w: %w", o.CertFile, err, errors.ErrInvalid)
	}
	return cert, nil
}

// readPEM reads a file as PEM, wrapping it as one PEM block of blockType when its encoding
// is DER.
func readPEM(path, encoding, blockType string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Errorf("curl: %w: %w", err, errors.ErrInvalid)
	}
	switch strings.ToUpper(encoding) {
	case "", "PEM":
		return b, nil
	case "DER":
		return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: b}), nil
	}
	return nil, errors.Errorf("curl: encoding %q of %q: want PEM or DER: %w", encoding, path, errors.ErrInvalid)
}
