// Package tcpproxy is a loopback TCP proxy for tests that cut a connection on purpose: the
// network outage of an invalidation bus, a database or a provisioning service.
//
// A [Proxy] listens on 127.0.0.1 and forwards every connection to one loopback target. [Proxy.Cut]
// closes every connection it carries and refuses new ones (it accepts and closes them at once,
// as a peer that resets would) until [Proxy.Restore]. It refuses targets outside the loopback
// range, so a test cannot send traffic off the machine by mistake.
//
// [Proxy.Stall] is the silent outage instead: connections stay open but every byte sent
// either way is dropped, as behind a firewall that discards packets; only a client that
// pings notices.
//
// A Proxy owns one goroutine to accept and two per connection to copy; [Proxy.Close] stops and
// waits for all of them. Its methods are safe for concurrent use.
package tcpproxy

import (
	"net"
	"sync"

	"github.com/gosorcery/gosorcery/errors"
)

// Proxy forwards TCP connections from a loopback address to a loopback target.
type Proxy struct {
	target string
	ln     net.Listener
	wg     sync.WaitGroup // the accept loop and the copiers

	mu       sync.Mutex // guards the fields below
	conns    map[net.Conn]struct{}
	cut      bool
	stalled  bool
	closed   bool
	accepted int
	refused  int
}

// New starts a proxy on 127.0.0.1 (a free port) to target, a host:port whose host is a
// loopback address or "localhost". Anything else is errors.ErrInvalid.
func New(target string) (*Proxy, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, errors.Errorf("tcpproxy: target %q: %w (%w)", target, err, errors.ErrInvalid)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, errors.Errorf("tcpproxy: target %q is not on the loopback: %w", target, errors.ErrInvalid)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Errorf("tcpproxy: listen: %w (%w)", err, errors.ErrUnavailable)
	}
	p := &Proxy{target: target, ln: ln, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr returns the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port returns the proxy's port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Cut closes every connection the proxy carries, both ways, and refuses new ones until
// Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Stall keeps the connections open but drops every byte sent either way, until Restore.
// New connections are accepted and stalled too.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// Restore ends a Cut or a Stall: new connections go through again, and so does the traffic
// of stalled connections that are still open.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	p.stalled = false
}

func (p *Proxy) isStalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// Counts returns the number of connections forwarded and refused so far, and open now.
func (p *Proxy) Counts() (accepted, refused, open int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted, p.refused, len(p.conns) / 2
}

// Close stops the proxy: it closes the listener and every connection, and waits for its
// goroutines. Later calls return errors.ErrClosed.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.ErrClosed
	}
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		refuse := p.cut || p.closed
		if refuse {
			p.refused++
		}
		p.mu.Unlock()
		if refuse {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.cut || p.closed {
			p.refused++
			p.mu.Unlock()
			in.Close()
			out.Close()
			continue
		}
		p.accepted++
		p.conns[in] = struct{}{}
		p.conns[out] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(out, in) })
		p.wg.Go(func() { p.pipe(in, out) })
	}
}

// pipe copies from src to dst until either fails, then closes both. While the proxy is
// stalled, what it reads is dropped.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isStalled() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.mu.Lock()
	delete(p.conns, src)
	delete(p.conns, dst)
	p.mu.Unlock()
	src.Close()
	dst.Close()
}
