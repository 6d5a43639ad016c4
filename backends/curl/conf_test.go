package curl

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
)

func vars(kv ...string) []confVar {
	var vs []confVar
	for i := 0; i+1 < len(kv); i += 2 {
		vs = append(vs, confVar{Name: kv[i], Value: kv[i+1], File: "res_curl.conf", Line: i/2 + 3})
	}
	return vs
}

func TestConfigOptionsMapToOptions(t *testing.T) {
	tests := []struct {
		name string
		in   []confVar
		want Options
		tr   transport
	}{
		{"empty", nil, Options{}, transport{}},
		{"timeouts in seconds", vars("conntimeout", "2.5", "httptimeout", "10"), Options{Timeout: 10 * time.Second}, transport{ConnectTimeout: 2500 * time.Millisecond}},
		{"CURLOPT() form and case", vars("CURLOPT(HttpTimeout)", "0.25"), Options{Timeout: 250 * time.Millisecond}, transport{}},
		{"headers add, referer and cookie set", vars("httpheader", "X-Tenant: blue", "httpheader", "X-Tenant:green", "referer", "http://pbx/", "cookie", "a=1", "cookie", "b=2; c=3"),
			Options{Header: http.Header{"X-Tenant": {"blue", "green"}, "Referer": {"http://pbx/"}, "Cookie": {"b=2; c=3"}}}, transport{}},
		{"credentials and agent", vars("userpwd", "ast:pa:ss", "useragent", "pbx/1"), Options{Username: "ast", Password: "pa:ss", UserAgent: "pbx/1"}, transport{}},
		{"redirects", vars("followlocation", "yes", "maxredirs", "5"), Options{}, transport{FollowRedirects: true, MaxRedirects: 5}},
		{"unbounded redirects", vars("followlocation", "on", "maxredirs", "-1"), Options{}, transport{FollowRedirects: true, MaxRedirects: -1}},
		{"maxredirs 0 refuses redirects", vars("followlocation", "yes", "maxredirs", "0"), Options{}, transport{}},
		{"http proxy defaults to port 1080", vars("proxy", "proxy.example", "proxyuserpwd", "u:p"), Options{}, transport{Proxy: "http://u:p@proxy.example:1080"}},
		{"proxy port and type", vars("proxy", "10.0.0.1", "proxyport", "3128", "proxytype", "socks5hostname"), Options{}, transport{Proxy: "socks5h://10.0.0.1:3128"}},
		{"scheme and port in proxy win", vars("proxy", "https://p.example:8443", "proxyport", "3128", "proxytype", "socks5"), Options{}, transport{Proxy: "https://p.example:8443"}},
		{"tls", vars("ssl_verifypeer", "no", "ssl_verifyhost", "0", "ssl_cainfo", "/etc/ca.pem", "ssl_capath", "/etc/ca", "ssl_cert", "c.der", "ssl_certtype", "der", "ssl_key", "k.pem", "ssl_keytype", "PEM", "ssl_keypasswd", ""),
			Options{}, transport{InsecureSkipVerify: true, SkipHostVerify: true, CAFile: "/etc/ca.pem", CAPath: "/etc/ca", CertFile: "c.der", CertType: "DER", KeyFile: "k.pem", KeyType: "PEM"}},
		{"failure codes", vars("failurecodes", "404, 408,503,"), Options{FailureCodes: []int{404, 408, 503}}, transport{}},
		{"an empty httpheader adds nothing, as in res_curl.conf.sample uncommented", vars("httpheader", "", "httpheader", "  "), Options{}, transport{}},
		{"httpheader Name; is an empty header, as libcurl reads it", vars("httpheader", "X-Empty;"), Options{Header: http.Header{"X-Empty": {""}}}, transport{}},
		{"options without effect", vars("dnstimeout", "60", "ftptimeout", "0", "ftptext", "yes", "header", "no", "hashcompat", "no"), Options{}, transport{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tr, err := parseConfig(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, *got)
			assert.Equal(t, tt.tr, *tr)
		})
	}
}

func TestConfigRefusesWhatItCannotHonour(t *testing.T) {
	tests := []struct {
		name string
		in   []confVar
		msg  string
	}{
		{"unknown option", vars("timeout", "5"), "res_curl.conf:3: res_curl.conf option timeout: unknown option"},
		{"bad seconds", vars("useragent", "x", "httptimeout", "soon"), "res_curl.conf:4"},
		{"negative seconds", vars("conntimeout", "-1"), "negative duration"},
		{"unknown truth value", vars("ssl_verifypeer", "maybe"), "res_curl.conf option ssl_verifypeer: not a truth value"},
		{"unknown truth value for a redirect", vars("followlocation", "yess"), "not a truth value"},
		{"header without colon", vars("httpheader", "X-Tenant blue"), "not a \"Name: value\" header"},
		{"bad maxredirs", vars("maxredirs", "-2"), "redirects"},
		{"bad verifyhost", vars("ssl_verifyhost", "3"), "want 0 or 2"},
		{"engine keys", vars("ssl_keytype", "ENG"), "engines are not supported"},
		{"key passwords", vars("ssl_keypasswd", "secret"), "encrypted private keys"},
		{"bad failure code", vars("failurecodes", "404,abc"), "not an HTTP status"},
		{"headers in the body", vars("header", "yes"), "header=yes"},
		{"hashcompat", vars("hashcompat", "legacy"), "hashcompat"},
		{"socks4", vars("proxy", "p", "proxytype", "socks4"), "socks4"},
		{"bad proxy port", vars("proxyport", "70000"), "not a port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tr, err := parseConfig(tt.in)
			assert.Nil(t, got)
			assert.Nil(t, tr)
			assert.ErrorIs(t, err, errors.ErrInvalid)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestConfigOptionsOpenAWizard(t *testing.T) {
	o, err := optionsFromConfig(vars("conntimeout", "1", "httptimeout", "3", "proxy", "127.0.0.1", "proxyport", "3128", "failurecodes", "404"))
	require.NoError(t, err)
	w, err := New("http://127.0.0.1/prov", o)
	require.NoError(t, err)
	defer w.Close()
	assert.Equal(t, 3*time.Second, w.timeout)
	assert.Equal(t, []int{404}, w.failures)
	assert.Same(t, o.Client, w.client)
	assert.True(t, w.owned, "the wizard closes the idle connections of the client ReadConfig built")

	other, err := New("http://127.0.0.1/prov", &Options{Client: &http.Client{}})
	require.NoError(t, err)
	defer other.Close()
	assert.False(t, other.owned, "a client of the caller's is left alone")
}

func TestConfigTransportErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name string
		in   []confVar
	}{
		{"bad proxy scheme", vars("proxy", "socks4://127.0.0.1:1080")},
		{"missing CA file", vars("ssl_cainfo", "testdata/does-not-exist.pem")},
		{"key without cert", vars("ssl_key", "testdata/does-not-exist.pem")},
		{"missing certificate file", vars("ssl_cert", "testdata/does-not-exist.pem")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := optionsFromConfig(tt.in)
			assert.Nil(t, got)
			assert.ErrorIs(t, err, errors.ErrInvalid)
			assert.ErrorContains(t, err, "res_curl.conf: curl: ")
		})
	}
}

func TestReadConfigReadsAsteriskFile(t *testing.T) {
	got, err := ReadConfig("testdata/res_curl.conf")
	require.NoError(t, err)
	require.NotNil(t, got.Client)
	defer got.Client.CloseIdleConnections()
	got.Client, got.built = nil, nil
	assert.Equal(t, &Options{
		Timeout:      4 * time.Second,
		Header:       http.Header{"X-Tenant": {"blue"}, "X-Node": {"pbx-1"}},
		UserAgent:    "asterisk-pbx/20",
		Username:     "asterisk",
		Password:     "s3cret",
		FailureCodes: []int{404, 408},
	}, got)
	vs, err := astconf.ParseFile("testdata/res_curl.conf", nil)
	require.NoError(t, err)
	var lines []confVar
	for _, v := range vs.Category("globals").Vars {
		lines = append(lines, confVar{Name: v.Name, Value: v.Value, File: v.File, Line: v.Line})
	}
	_, tr, err := parseConfig(lines)
	require.NoError(t, err)
	assert.Equal(t, transport{ConnectTimeout: 1500 * time.Millisecond, FollowRedirects: true, MaxRedirects: 3, Proxy: "http://127.0.0.1:3128"}, *tr)
}

func TestReadConfigErrorsNameFileAndLine(t *testing.T) {
	_, err := ReadConfig("testdata/res_curl_bad.conf")
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, "testdata/res_curl_bad.conf:3: res_curl.conf option ssl_keytype")

	_, err = ReadConfig("testdata/missing.conf")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestReadConfigWithoutGlobalsYieldsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "res_curl.conf")
	require.NoError(t, os.WriteFile(path, []byte("[other]\nhttptimeout=1\n"), 0o600))
	got, err := ReadConfig(path)
	require.NoError(t, err)
	require.NotNil(t, got.Client, "the defaults' client")
	assert.Same(t, got.Client, got.built)
	got.Client.CloseIdleConnections()
	got.Client, got.built = nil, nil
	assert.Equal(t, &Options{}, got)
}
