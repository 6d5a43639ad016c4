package tcpproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
)

// echo starts a loopback echo server that is closed with the test.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, msg string) (string, error) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestProxyForwardsCutsAndRestores(t *testing.T) {
	p, err := New(echo(t))
	require.NoError(t, err)
	defer p.Close()

	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	got, err := roundTrip(t, c, "hello")
	require.NoError(t, err)
	assert.Equal(t, "hello\n", got)

	p.Cut()
	_, err = roundTrip(t, c, "after cut")
	assert.Error(t, err, "a cut connection must fail")

	refused, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err, "the listener stays up while cut")
	_, err = roundTrip(t, refused, "while cut")
	assert.Error(t, err, "a connection made while cut must be closed at once")
	refused.Close()

	p.Restore()
	again, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer again.Close()
	got, err = roundTrip(t, again, "back")
	require.NoError(t, err)
	assert.Equal(t, "back\n", got)

	accepted, nrefused, open := p.Counts()
	assert.Equal(t, 2, accepted)
	assert.Equal(t, 1, nrefused)
	assert.Equal(t, 1, open)
}

func TestCloseEndsEveryConnectionAndIsIdempotent(t *testing.T) {
	p, err := New(echo(t))
	require.NoError(t, err)
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = roundTrip(t, c, "x")
	require.NoError(t, err)

	require.NoError(t, p.Close())
	_, err = roundTrip(t, c, "y")
	assert.Error(t, err)
	assert.ErrorIs(t, p.Close(), errors.ErrClosed)
}

func TestProxyRefusesTargetsOffTheLoopback(t *testing.T) {
	for _, target := range []string{"192.0.2.1:80", "example.com:80", "nonsense", "10.0.0.1:5432"} {
		_, err := New(target)
		assert.ErrorIs(t, err, errors.ErrInvalid, target)
	}
}

func TestStallDropsTrafficUntilRestore(t *testing.T) {
	p, err := New(echo(t))
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)

	p.Stall()
	_, err = io.WriteString(c, "dropped\n")
	require.NoError(t, err, "a stalled connection stays open")
	require.NoError(t, c.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
	_, err = r.ReadString('\n')
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "nothing comes back while stalled: %v", err)

	p.Restore()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(c, "through\n")
	require.NoError(t, err)
	got, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "through\n", got, "the stalled connection carries traffic again")
}
