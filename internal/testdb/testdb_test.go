package testdb

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDSNsAreRewrittenToTheProxy(t *testing.T) {
	target, via, err := postgresVia("postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5432", target)
	assert.Equal(t, "postgres://postgres@127.0.0.1:4000/test?sslmode=disable", via("127.0.0.1:4000"))
	target, _, err = postgresVia("postgres://u:p@db/test")
	require.NoError(t, err)
	assert.Equal(t, "db:5432", target)
	_, _, err = postgresVia("host=db user=u")
	assert.Error(t, err, "key=value DSNs are not rewritten")

	target, via, err = mysqlVia("root@tcp(127.0.0.1:3306)/test")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:3306", target)
	assert.Equal(t, "root@tcp(127.0.0.1:4000)/test", via("127.0.0.1:4000"))
	target, via, err = mysqlVia("u:p@/test?parseTime=true")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:3306", target)
	assert.Equal(t, "u:p@tcp(127.0.0.1:4000)/test?parseTime=true", via("127.0.0.1:4000"))
	_, _, err = mysqlVia("u@unix(/run/mysqld.sock)/test")
	assert.Error(t, err)

	assert.Equal(t, "postgres://u:xxx@db/test", redact("postgres://u:secret@db/test"))
	assert.Equal(t, "u:xxx@tcp(db)/test", redact("u:secret@tcp(db)/test"))
}

func TestNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n := Name(t, "T")
		assert.Regexp(t, `^t_[a-z0-9]{10}$`, n)
		assert.False(t, seen[n], n)
		seen[n] = true
	}
}

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			})
		}
	})
	return ln.Addr().String()
}

// roundTrip sends a line through addr and reads the answer within d.
func roundTrip(addr string, d time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestProxyForwardsRefusesHangsAndRecovers(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	got, err := roundTrip(p.Addr(), 2*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ping\n", got)

	held, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer held.Close()
	_, err = held.Write([]byte("a\n"))
	require.NoError(t, err)
	_, err = bufio.NewReader(held).ReadString('\n')
	require.NoError(t, err)

	p.Stall()
	_ = held.SetDeadline(time.Now().Add(200 * time.Millisecond))
	_, _ = held.Write([]byte("b\n"))
	_, err = bufio.NewReader(held).ReadString('\n')
	var ne net.Error
	require.ErrorAs(t, err, &ne, "an open connection is held unanswered")
	assert.True(t, ne.Timeout())
	_, err = roundTrip(p.Addr(), 200*time.Millisecond)
	require.ErrorAs(t, err, &ne, "a new connection is accepted and held")
	assert.True(t, ne.Timeout())

	p.Cut()
	_, err = roundTrip(p.Addr(), time.Second)
	assert.Error(t, err, "refused while down")

	p.Restore()
	got, err = roundTrip(p.Addr(), 2*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "ping\n", got, "forwards again on the same address")
}
