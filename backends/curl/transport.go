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
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
)

// transport holds res_curl.conf's transport options, the ones that shape the *http.Client
// rather than the protocol. The zero value is the wizard's own client: DefaultConnectTimeout,
// the environment's proxy, the system's roots, no redirects followed.
type transport struct {
	ConnectTimeout time.Duration // conntimeout; zero: DefaultConnectTimeout
	// FollowRedirects follows 3xx replies (followlocation); MaxRedirects bounds them
	// (maxredirs; zero: DefaultMaxRedirects, negative: no bound).
	FollowRedirects bool
	MaxRedirects    int
	// Proxy is the proxy URL (proxy, proxytype, proxyport, proxyuserpwd); zero: the
	// HTTP_PROXY, HTTPS_PROXY and NO_PROXY environment variables, as libcurl reads them.
	Proxy string
	// InsecureSkipVerify accepts any server certificate (ssl_verifypeer=no); SkipHostVerify
	// checks the chain but not the name (ssl_verifyhost=0).
	InsecureSkipVerify, SkipHostVerify bool
	// CAFile and CAPath replace the system roots (ssl_cainfo, ssl_capath).
	CAFile, CAPath string
	// CertFile and KeyFile are the client certificate and its key (ssl_cert, ssl_key; the key
	// is read from CertFile when KeyFile is empty), CertType and KeyType their encodings,
	// "PEM" (zero) or "DER" (ssl_certtype, ssl_keytype).
	CertFile, KeyFile, CertType, KeyType string
}

// client builds an *http.Client with a keep-alive transport of t's connect timeout, proxy
// and TLS settings, and t's redirect policy. A setting that cannot be honoured (a missing CA
// file, a bad proxy URL) is errors.ErrInvalid.
func (t *transport) client() (*http.Client, error) {
	o := *t
	if o.ConnectTimeout < 0 {
		return nil, errors.Errorf("curl: negative connect timeout: %w", errors.ErrInvalid)
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	proxy := http.ProxyFromEnvironment
	if o.Proxy != "" {
		u, err := url.Parse(o.Proxy)
		if err != nil {
			return nil, errors.Errorf("curl: proxy: %w: %w", err, errors.ErrInvalid)
		}
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return nil, errors.Errorf("curl: proxy scheme %q: want http, https, socks5 or socks5h: %w", u.Scheme, errors.ErrInvalid)
		}
		if u.Host == "" {
			return nil, errors.Errorf("curl: proxy %q has no host: %w", u.Redacted(), errors.ErrInvalid)
		}
		proxy = http.ProxyURL(u)
	}
	tlsConf, err := tlsConfig(&o)
	if err != nil {
		return nil, err
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
	return client, nil
}

// tlsConfig builds the TLS settings of o, or nil when o changes none.
func tlsConfig(o *transport) (*tls.Config, error) {
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
func loadKeyPair(o *transport) (tls.Certificate, error) {
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
