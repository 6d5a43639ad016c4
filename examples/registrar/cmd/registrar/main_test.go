package main

import (
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lines collects what run logs and signals each line.
type lines struct {
	mu    sync.Mutex // guards buf
	buf   strings.Builder
	wrote chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestRunServesTheDemoUsersUntilStopped(t *testing.T) {
	out := &lines{wrote: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{demo: 3, listen: []string{"udp:127.0.0.1:0"}, cache: "object_lifetime_stale=60", timeout: time.Second, realm: "asterisk"}, out)
	}()

	listening := regexp.MustCompile(`msg="registrar: listening" network=udp addr=(127\.0\.0\.1:\d+)`)
	var addr string
	require.Eventually(t, func() bool {
		m := listening.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "run logs the address it listens on:\n%s", out)

	res := registerDemoUser(t, addr, "1002", "secret1002")
	assert.Equal(t, sip.StatusOK, res.StatusCode, res.String())
	assert.Contains(t, out.String(), `msg="REGISTER 200 OK" outcome=registered status=200 user=1002`)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestRunRequiresAProvisioningService(t *testing.T) {
	err := run(context.Background(), config{listen: []string{"udp:127.0.0.1:0"}}, io.Discard)
	assert.ErrorContains(t, err, "-provisioning")
}

func registerDemoUser(t *testing.T, addr, user, password string) *sip.Response {
	t.Helper()
	return registerDemoUserFor(t, addr, user, password, 120)
}

// registerDemoUserFor registers user's contact at addr for expires seconds; 0 un-registers it.
func registerDemoUserFor(t *testing.T, addr, user, password string, expires int) *sip.Response {
	t.Helper()
	ua, err := sipgo.NewUA()
	require.NoError(t, err)
	defer ua.Close()
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	require.NoError(t, err)
	defer c.Close()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	var server sip.Uri
	require.NoError(t, sip.ParseUri("sip:"+host+":"+port, &server))
	req := sip.NewRequest(sip.REGISTER, server)
	aor := sip.Uri{Scheme: "sip", User: user, Host: host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+user+"@127.0.0.1:5099>"))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	require.NoError(t, err)
	require.Equal(t, sip.StatusUnauthorized, res.StatusCode, res.String())
	res, err = c.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
	require.NoError(t, err)
	return res
}
