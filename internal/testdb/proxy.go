package testdb

import (
	"testing"

	"github.com/gosorcery/gosorcery/internal/tcpproxy"
)

// Proxy is the loopback TCP proxy of package tcpproxy: a test connects to a server through
// it, then cuts the server off with Cut or Stall and brings it back with Restore, without
// touching the server itself.
type Proxy = tcpproxy.Proxy

// NewProxy starts a proxy on a free loopback port to target ("host:port"); it stops when the
// test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := tcpproxy.New(target)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
