package sorcery_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/backends/realtime"
	"github.com/gosorcery/gosorcery/backends/sqldb"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// TestErrorsNameTheLibraryOnce walks representative errors of every package, as a caller
// receives them, and checks that each message (each line, for joined errors) starts with
// "sorcery: " and names the library nowhere else.
func TestErrorsNameTheLibraryOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var errs []struct {
		what string
		err  error
	}
	add := func(what string, err error) {
		errs = append(errs, struct {
			what string
			err  error
		}{what, err})
	}
	for _, s := range []error{errors.ErrUnavailable, errors.ErrInvalid, errors.ErrNotFound, errors.ErrExists,
		errors.ErrReadOnly, errors.ErrUnsupported, errors.ErrClosed} {
		add("sentinel", s)
	}

	// cache
	_, err := cache.ParseOptions("maximum_objects=lots")
	add("cache options", err)
	_, err = cache.New[int](nil, nil)
	add("cache without loader", err)

	// sorcery: the chain, the codec, queries, sorcery.conf
	s := sorcery.New(&sorcery.Options{Wizards: map[string]sorcery.WizardFactory{
		"memory": memory.Factory(), "config": config.Factory(&config.Options{Dir: dir}),
		"realtime": realtime.Factory(nil),
	}})
	defer s.Close()
	typ, err := sorcery.Register[Endpoint](s, "endpoint", nil)
	require.NoError(t, err)
	down, bad := memory.New(), memory.New()
	down.SetError(errors.Errorf("connection refused: %w", errors.ErrUnavailable))
	bad.Put(rec("alice", "direct_media", "maybe"))
	require.NoError(t, typ.AddWizard("down", down, nil))
	require.NoError(t, typ.AddWizard("bad", bad, nil))
	_, _, err = typ.Retrieve(ctx, "alice")
	add("retrieve: a failing wizard and an invalid record", err)
	bad.SetError(errors.Errorf("timeout: %w", errors.ErrUnavailable))
	add("create on every failing wizard", typ.Create(ctx, Endpoint{ID: "bob"}))
	_, err = typ.Codec().Decode(rec("x", "nosuch", "1"))
	add("codec", err)
	_, err = sorcery.Query{IDRegex: "("}.Compile()
	add("query", err)
	add("apply", s.Apply("endpoint", "ldap", ""))
	add("apply config data", s.Apply("endpoint", "config", "pjsip.conf,single_object=maybe"))
	add("apply realtime data", s.Apply("endpoint", "realtime", ""))
	conf := filepath.Join(dir, "sorcery.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[res_pjsip]\nendpoint=memory\n"), 0o600))
	add("apply config: no section", s.ApplyConfig(conf, "nosuch"))

	// config: a file that does not parse
	pjsip := filepath.Join(dir, "pjsip.conf")
	require.NoError(t, os.WriteFile(pjsip, []byte("[alice]\ntype=endpoint\n[bob](nosuch)\n"), 0o600))
	_, err = config.New(pjsip, nil)
	add("config file", err)

	// curl: a port where nothing listens, and res_curl.conf
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	w, err := curl.New("http://"+addr+"/prov", &curl.Options{Timeout: time.Second})
	require.NoError(t, err)
	_, _, err = w.Retrieve(ctx, "alice")
	add("curl retrieve", err)
	resCurl := filepath.Join(dir, "res_curl.conf")
	require.NoError(t, os.WriteFile(resCurl, []byte("[globals]\nssl_verifypeer=maybe\n"), 0o600))
	_, err = curl.ReadConfig(resCurl)
	add("res_curl.conf", err)

	// sqldb: a database that cannot be reached
	_, err = sqldb.Schema("nosuch")
	add("sqldb schema", err)
	sw, err := sqldb.New(sql.OpenDB(unreachable{}), "ps_endpoints", nil)
	require.NoError(t, err)
	_, _, err = sw.Retrieve(ctx, "alice")
	add("sqldb unreachable", err)

	for _, e := range errs {
		if !assert.Error(t, e.err, e.what) {
			continue
		}
		t.Logf("%s: %v", e.what, e.err)
		for line := range strings.SplitSeq(e.err.Error(), "\n") {
			assert.True(t, strings.HasPrefix(line, "sorcery: "), "%s: %q starts with the library's name", e.what, line)
			assert.Equal(t, 1, strings.Count(line, "sorcery:"), "%s: %q names the library once", e.what, line)
		}
	}
}

// unreachable is a database whose every connection is refused.
type unreachable struct{}

func (unreachable) Connect(context.Context) (driver.Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

func (u unreachable) Driver() driver.Driver { return unreachableDriver{} }

type unreachableDriver struct{}

func (unreachableDriver) Open(string) (driver.Conn, error) {
	return unreachable{}.Connect(context.Background())
}
