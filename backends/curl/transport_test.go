package curl_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/errors"
)

// pki is a test certificate authority with a server and a client certificate, written to
// files as res_curl.conf would name them.
type pki struct {
	caPEM, caDir            string
	serverCert              tls.Certificate
	pool                    *x509.CertPool
	clientPEM, clientKeyPEM string
	clientDER, clientKeyDER string
	clientBundle            string // certificate and key in one PEM file
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		require.NoError(t, err)
		return der, k
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return der
	}

	var p pki
	p.caPEM = write("ca.pem", pemOf("CERTIFICATE", caDER))
	p.caDir = filepath.Join(dir, "cas")
	require.NoError(t, os.Mkdir(p.caDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(p.caDir, "ca.crt"), pemOf("CERTIFICATE", caDER), 0o600))
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)

	srvDER, srvKey := issue(2, "provisioning", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	cliDER, cliKey := issue(3, "asterisk", x509.ExtKeyUsageClientAuth, nil)
	p.clientPEM = write("client.pem", pemOf("CERTIFICATE", cliDER))
	p.clientKeyPEM = write("client.key", pemOf("PRIVATE KEY", keyDER(cliKey)))
	p.clientDER = write("client.der", cliDER)
	p.clientKeyDER = write("client.key.der", keyDER(cliKey))
	p.clientBundle = write("client-bundle.pem", append(pemOf("CERTIFICATE", cliDER), pemOf("PRIVATE KEY", keyDER(cliKey))...))
	return p
}

// tlsServer serves "id=alice" over TLS with p's server certificate, asking for a client
// certificate from p's CA when requireClient is set, and reports the client's name.
func tlsServer(t *testing.T, p pki, requireClient bool) (*httptest.Server, *atomic.Value) {
	t.Helper()
	var clientCN atomic.Value
	clientCN.Store("")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			clientCN.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		_, _ = io.WriteString(w, "id=alice")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.serverCert}}
	if requireClient {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = p.pool
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &clientCN
}

func TestTLSOptionsVerifyTheServer(t *testing.T) {
	p := newPKI(t)
	srv, _ := tlsServer(t, p, false)
	byIP := srv.URL // https://127.0.0.1:port, the name in the certificate
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name string
		base string
		conf []string
		ok   bool
	}{
		{"unknown CA is refused", byIP, nil, false},
		{"ssl_cainfo", byIP, []string{"ssl_cainfo=" + p.caPEM}, true},
		{"ssl_capath", byIP, []string{"ssl_capath=" + p.caDir}, true},
		{"wrong host name is refused", byName, []string{"ssl_cainfo=" + p.caPEM}, false},
		{"ssl_verifyhost=0 accepts the wrong name", byName, []string{"ssl_cainfo=" + p.caPEM, "ssl_verifyhost=0"}, true},
		{"ssl_verifyhost=0 still checks the chain", byName, []string{"ssl_verifyhost=0"}, false},
		{"ssl_verifypeer=no accepts anything", byName, []string{"ssl_verifypeer=no"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newClient(t, tt.base, confOptions(t, append(tt.conf, "httptimeout=5")...))
			r, found, err := w.Retrieve(t.Context(), "alice")
			if tt.ok {
				require.NoError(t, err)
				assert.True(t, found)
				assert.Equal(t, "alice", r.ID)
				return
			}
			assert.False(t, found)
			assert.ErrorIs(t, err, errors.ErrUnavailable)
		})
	}
}

func TestTLSClientCertificates(t *testing.T) {
	p := newPKI(t)
	srv, clientCN := tlsServer(t, p, true)
	tests := []struct {
		name string
		conf []string
	}{
		{"PEM", []string{"ssl_cert=" + p.clientPEM, "ssl_key=" + p.clientKeyPEM}},
		{"DER", []string{"ssl_cert=" + p.clientDER, "ssl_certtype=DER", "ssl_key=" + p.clientKeyDER, "ssl_keytype=der"}},
		{"key in the certificate file", []string{"ssl_cert=" + p.clientBundle}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientCN.Store("")
			w := newClient(t, srv.URL, confOptions(t, append(tt.conf, "ssl_cainfo="+p.caPEM)...))
			_, found, err := w.Retrieve(t.Context(), "alice")
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, "asterisk", clientCN.Load())
		})
	}
	w := newClient(t, srv.URL, confOptions(t, "ssl_cainfo="+p.caPEM))
	_, _, err := w.Retrieve(t.Context(), "alice")
	assert.ErrorIs(t, err, errors.ErrUnavailable, "the server refuses a client without a certificate")

	_, err = curl.ReadConfig(writeConf(t, "ssl_cert="+p.clientPEM, "ssl_key="+p.caPEM))
	assert.ErrorIs(t, err, errors.ErrInvalid, "a key file without a key")
	_, err = curl.ReadConfig(writeConf(t, "ssl_cert="+p.clientPEM, "ssl_key="+p.clientKeyPEM, "ssl_certtype=P12"))
	assert.ErrorIs(t, err, errors.ErrInvalid, "an unknown encoding")
}

func TestProxyCarriesEveryRequest(t *testing.T) {
	var mu sync.Mutex // guards gotURI and gotAuth
	var gotURI, gotAuth string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotURI, gotAuth = r.RequestURI, r.Header.Get("Proxy-Authorization")
		mu.Unlock()
		_, _ = io.WriteString(w, "id=alice")
	}))
	t.Cleanup(proxy.Close)
	// The origin is never reached: the proxy answers. Port 9 (discard) is closed.
	host, port, err := net.SplitHostPort(strings.TrimPrefix(proxy.URL, "http://"))
	require.NoError(t, err)
	w := newClient(t, "http://127.0.0.1:9/prov", confOptions(t, "proxy="+host, "proxyport="+port, "proxyuserpwd=ast:pw"))
	r, found, err := w.Retrieve(t.Context(), "alice")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "alice", r.ID)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "http://127.0.0.1:9/prov/single", gotURI, "the proxy gets the absolute URL")
	assert.Equal(t, "Basic YXN0OnB3", gotAuth)
}

func newClient(t *testing.T, base string, opts *curl.Options) *curl.Wizard {
	t.Helper()
	w, err := curl.New(base, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// writeConf writes a res_curl.conf whose [globals] section holds lines, and returns its path.
func writeConf(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "res_curl.conf")
	require.NoError(t, os.WriteFile(path, []byte("[globals]\n"+strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

// confOptions reads a res_curl.conf of lines, as a user would.
func confOptions(t *testing.T, lines ...string) *curl.Options {
	t.Helper()
	opts, err := curl.ReadConfig(writeConf(t, lines...))
	require.NoError(t, err)
	require.NotNil(t, opts.Client)
	return opts
}
