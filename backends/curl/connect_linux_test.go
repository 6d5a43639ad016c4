//go:build linux

package curl_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/errors"
)

// fullListener returns the address of a loopback socket that listens with a backlog of
// zero and never accepts, its one queue slot already taken: Linux drops further SYNs, so a
// connection attempt hangs as one to a dead host does.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	filler, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { filler.Close() })
	return addr
}

func TestConnectTimeoutBoundsAConnectionThatHangs(t *testing.T) {
	checkGoroutines(t)
	addr := fullListener(t)
	const connect = 200 * time.Millisecond
	w, err := curl.New("http://"+addr+"/prov", confOptions(t, "conntimeout=0.2", "httptimeout=60"))
	require.NoError(t, err)
	defer w.Close()

	start := time.Now()
	_, found, err := w.Retrieve(t.Context(), "alice")
	elapsed := time.Since(start)
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.GreaterOrEqual(t, elapsed, connect)
	assert.LessOrEqual(t, elapsed, connect+margin, "the connect timeout, not the request timeout, ends it: %v", err)
}
