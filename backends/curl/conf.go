package curl

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astconf"
	"github.com/gosorcery/gosorcery/internal/astvalue"
)

// ReadConfig reads the options of a res_curl.conf file, the file Asterisk's res_config_curl
// takes its libcurl settings from, from its [globals] section ([global] or [general] when
// there is none, as Asterisk does). The file is read with Asterisk's configuration syntax,
// #include and templates included. A file without any of those sections yields the
// defaults, as in Asterisk.
//
// Protocol options (httptimeout, httpheader, userpwd, useragent, failurecodes …) map to the
// [Options] field that documents them. Transport options (conntimeout, followlocation,
// maxredirs, proxy*, ssl_*) build Options.Client, a keep-alive *http.Client that the wizard
// given these Options closes the idle connections of on [Wizard.Close]; its defaults are the
// wizard's own client's. docs/asterisk.md lists every option.
// Options with no effect on HTTP here (dnstimeout, ftptimeout, ftptext) are accepted and
// ignored. An unknown option, a bad value, or one that cannot be honoured (header=yes,
// hashcompat, proxytype socks4, ssl_keytype ENG, ssl_keypasswd) is errors.ErrInvalid
// naming the file and line. A file that cannot be read is an error matching the cause
// (fs.ErrNotExist …).
func ReadConfig(path string) (*Options, error) {
	f, err := astconf.ParseFile(path, nil)
	if err != nil {
		return nil, err
	}
	for _, section := range confSections {
		c := f.Category(section)
		if c == nil {
			continue
		}
		vs := make([]confVar, 0, len(c.Vars))
		for _, v := range c.Vars {
			vs = append(vs, confVar{Name: v.Name, Value: v.Value, File: v.File, Line: v.Line})
		}
		return optionsFromConfig(vs)
	}
	return optionsFromConfig(nil)
}

// confVar is one option line of res_curl.conf: its name, its value and where it is.
type confVar struct {
	Name, Value string
	File        string
	Line        int
}

// confSections are the sections res_config_curl reads its options from: the first of them
// the file has.
var confSections = []string{"globals", "global", "general"}

// proxySettings gathers the four proxy options, which make one URL.
type proxySettings struct {
	host, kind, user string
	port             int
	set              bool
}

// optionsFromConfig maps the option lines of res_curl.conf's [globals] section to Options,
// with a Client built from the transport options.
func optionsFromConfig(vars []confVar) (*Options, error) {
	o, t, err := parseConfig(vars)
	if err != nil {
		return nil, err
	}
	c, err := t.client()
	if err != nil {
		return nil, errors.Errorf("%s: res_curl.conf: %w", confFile(vars), err)
	}
	o.Client, o.built = c, c
	return o, nil
}

// confFile names the file the options came from.
func confFile(vars []confVar) string {
	if len(vars) == 0 {
		return "res_curl.conf"
	}
	return vars[0].File
}

// parseConfig maps the option lines of res_curl.conf's [globals] section to Options and to
// the transport options,
// as res_config_curl and func_curl read them: names without regard to case, optionally
// written CURLOPT(name), a later line replacing an earlier one except httpheader, which adds.
// An unknown option, a bad value, or an option whose Asterisk meaning this package cannot
// honour is errors.ErrInvalid, naming the file and line.
func parseConfig(vars []confVar) (*Options, *transport, error) {
	o, t := &Options{}, &transport{}
	var px proxySettings
	for _, v := range vars {
		if err := setOption(o, t, &px, v); err != nil {
			where := v.File
			if v.Line > 0 {
				where += ":" + strconv.Itoa(v.Line)
			}
			return nil, nil, errors.Errorf("%s: res_curl.conf option %s: %w", where, v.Name, err)
		}
	}
	if px.set {
		proxy, err := px.url()
		if err != nil {
			return nil, nil, errors.Errorf("res_curl.conf proxy: %w", err)
		}
		t.Proxy = proxy
	}
	return o, t, nil
}

func invalidOption(format string, args ...any) error {
	return errors.Errorf(format+": %w", append(args, errors.ErrInvalid)...)
}

func setOption(o *Options, t *transport, px *proxySettings, v confVar) error {
	name := strings.ToLower(strings.TrimSpace(v.Name))
	if strings.HasPrefix(name, "curlopt(") && strings.HasSuffix(name, ")") {
		name = strings.TrimSpace(name[len("curlopt(") : len(name)-1])
	}
	value := strings.TrimSpace(v.Value)
	switch name {
	case "conntimeout":
		d, err := seconds(value)
		if err != nil {
			return err
		}
		t.ConnectTimeout = d
	case "httptimeout":
		d, err := seconds(value)
		if err != nil {
			return err
		}
		o.Timeout = d
	case "httpheader":
		// func_curl hands any text to libcurl's header list; an empty one (the sample
		// file's "httpheader=" uncommented) adds nothing, and libcurl reads "Name;" as a
		// header with an empty value.
		if strings.TrimSpace(value) == "" {
			return nil
		}
		if k, ok := strings.CutSuffix(strings.TrimSpace(value), ";"); ok && k != "" && !strings.ContainsAny(k, " \t:") {
			if o.Header == nil {
				o.Header = http.Header{}
			}
			o.Header.Add(k, "")
			return nil
		}
		k, val, ok := strings.Cut(value, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return invalidOption("%q is not a \"Name: value\" header", value)
		}
		if o.Header == nil {
			o.Header = http.Header{}
		}
		o.Header.Add(k, strings.TrimSpace(val))
	case "referer":
		setHeader(o, "Referer", value)
	case "cookie":
		setHeader(o, "Cookie", value)
	case "useragent":
		o.UserAgent = value
	case "userpwd":
		o.Username, o.Password, _ = strings.Cut(value, ":")
	case "followlocation":
		b, err := truth(value)
		if err != nil {
			return err
		}
		t.FollowRedirects = b
	case "maxredirs":
		n, err := strconv.Atoi(value)
		if err != nil || n < -1 {
			return invalidOption("%q is not a count of redirects or -1", value)
		}
		switch n {
		case 0:
			// libcurl refuses to redirect at all.
			t.MaxRedirects, t.FollowRedirects = 0, false
		default:
			t.MaxRedirects = n
		}
	case "proxy":
		px.host, px.set = value, true
	case "proxytype":
		px.kind = strings.ToLower(value)
	case "proxyport":
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 65535 {
			return invalidOption("%q is not a port", value)
		}
		px.port = n
	case "proxyuserpwd":
		px.user = value
	case "ssl_verifypeer":
		b, err := truth(value)
		if err != nil {
			return err
		}
		t.InsecureSkipVerify = !b
	case "ssl_verifyhost":
		switch value {
		case "0":
			t.SkipHostVerify = true
		case "1", "2":
			t.SkipHostVerify = false
		default:
			return invalidOption("%q: want 0 or 2", value)
		}
	case "ssl_cainfo":
		t.CAFile = value
	case "ssl_capath":
		t.CAPath = value
	case "ssl_cert":
		t.CertFile = value
	case "ssl_key":
		t.KeyFile = value
	case "ssl_certtype", "ssl_keytype":
		switch typ := strings.ToUpper(value); typ {
		case "PEM", "DER":
			if name == "ssl_certtype" {
				t.CertType = typ
			} else {
				t.KeyType = typ
			}
		default:
			return invalidOption("%q: want PEM or DER (engines are not supported)", value)
		}
	case "ssl_keypasswd":
		if value != "" {
			return invalidOption("encrypted private keys are not supported: decrypt the key file")
		}
	case "failurecodes":
		o.FailureCodes = nil
		for _, s := range strings.Split(value, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 100 || n > 999 {
				return invalidOption("%q is not an HTTP status", s)
			}
			o.FailureCodes = append(o.FailureCodes, n)
		}
	case "header":
		if b, err := truth(value); err != nil {
			return err
		} else if b {
			return invalidOption("header=yes puts the reply's headers in its body, which no realtime reply survives")
		}
	case "hashcompat":
		if strings.EqualFold(value, "legacy") {
			return invalidOption("hashcompat reformats replies for HASH() and breaks realtime replies")
		}
		if b, err := truth(value); err != nil {
			return err
		} else if b {
			return invalidOption("hashcompat reformats replies for HASH() and breaks realtime replies")
		}
	case "dnstimeout", "ftptimeout", "ftptext":
		// dnstimeout is libcurl's DNS cache lifetime, which has no counterpart here (the
		// resolver is asked every time a connection is made); the FTP options do not apply
		// to HTTP. They are accepted so that an Asterisk file reads unchanged.
	default:
		return invalidOption("unknown option")
	}
	return nil
}

func setHeader(o *Options, name, value string) {
	if o.Header == nil {
		o.Header = http.Header{}
	}
	if value == "" {
		o.Header.Del(name)
		return
	}
	o.Header.Set(name, value)
}

// seconds reads a timeout as func_curl does, in seconds with fractions allowed (Go's syntax,
// "500ms", is accepted too), to the millisecond. The rules are internal/astvalue's.
func seconds(s string) (time.Duration, error) {
	d, err := astvalue.Duration(s)
	if err != nil {
		return 0, invalidOption("%v", err)
	}
	if d < 0 {
		return 0, invalidOption("negative duration")
	}
	return d.Round(time.Millisecond), nil
}

// truth reads a boolean option. func_curl takes whatever ast_true (main/utils.c) does not
// know as false; here a word that is neither true nor false is an error, so that a typo in
// ssl_verifypeer cannot turn certificate checks off.
func truth(s string) (bool, error) {
	b, err := astvalue.Bool(s)
	if err != nil {
		return false, invalidOption("%v", err)
	}
	return b, nil
}

// url builds the proxy URL from res_curl.conf's proxy, proxytype, proxyport and
// proxyuserpwd, as libcurl combines them: a scheme written in proxy wins over proxytype, a
// port written in proxy over proxyport, and the port defaults to 1080 (443 for https).
func (px proxySettings) url() (string, error) {
	if px.host == "" {
		return "", nil
	}
	scheme := "http"
	switch px.kind {
	case "", "http":
	case "socks5":
		scheme = "socks5"
	case "socks5hostname":
		scheme = "socks5h"
	default:
		return "", invalidOption("proxytype %q is not supported: want http, socks5 or socks5hostname", px.kind)
	}
	raw := px.host
	if !strings.Contains(raw, "://") {
		raw = scheme + "://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", invalidOption("%q is not a proxy host", px.host)
	}
	if u.Scheme == "socks5hostname" {
		u.Scheme = "socks5h"
	}
	if u.Port() == "" {
		port := px.port
		if port == 0 {
			port = 1080
			if u.Scheme == "https" {
				port = 443
			}
		}
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	}
	if px.user != "" && u.User == nil {
		user, pass, hasPass := strings.Cut(px.user, ":")
		if hasPass {
			u.User = url.UserPassword(user, pass)
		} else {
			u.User = url.User(user)
		}
	}
	return u.String(), nil
}
