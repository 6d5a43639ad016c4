package curl_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// checkGoroutines fails the test when, after every later cleanup has run, more goroutines
// are left than there were when it was called. Call it first in a test.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines leaked (%d before, %d after):\n%s", n-before, before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// rawServer is a loopback TCP server that misbehaves as told: it reads each request and
// answers it with serve, then waits for the client to close the connection. It counts the
// connections the client has not closed yet.
type rawServer struct {
	ln    net.Listener
	serve func(c net.Conn, stop <-chan struct{})
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex // guards conns
	conns map[net.Conn]bool
}

func newRawServer(t *testing.T, serve func(c net.Conn, stop <-chan struct{})) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{ln: ln, serve: serve, stop: make(chan struct{}), conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			s.serve(c, s.stop)
			// Wait for the client to close its end (a read error), or for the test to end.
			_, _ = io.Copy(io.Discard, br)
		})
	}
}

// open returns how many accepted connections the client has not closed.
func (s *rawServer) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *rawServer) close() {
	close(s.stop)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func writeString(c net.Conn, s string) { _, _ = io.WriteString(c, s) }

func status(code int, body string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, _ <-chan struct{}) {
		writeString(c, fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Length: %d\r\n\r\n%s", code, http.StatusText(code), len(body), body))
	}
}

// hang answers nothing more and returns when the client closes the connection (or the test
// ends, which closes it too).
func hang(c net.Conn, _ <-chan struct{}) { _, _ = io.Copy(io.Discard, c) }

const (
	faultTimeout = 300 * time.Millisecond
	// margin is how late past its timeout a failure may come: scheduling on a loaded
	// two-core machine under the race detector.
	margin = 500 * time.Millisecond
)

func TestFaultsGiveTheRightClassInTimeWithoutLeaks(t *testing.T) {
	tests := []struct {
		name  string
		serve func(net.Conn, <-chan struct{})
		opts  curl.Options
		class error
		// slow is true when the failure is the timeout: it must come no sooner than it.
		// Otherwise it must come before it.
		slow bool
	}{
		{name: "accepts and never answers", serve: hang, class: errors.ErrUnavailable, slow: true},
		{name: "answers half the headers and hangs", serve: func(c net.Conn, stop <-chan struct{}) {
			writeString(c, "HTTP/1.1 200 OK\r\nContent-Le")
			hang(c, stop)
		}, class: errors.ErrUnavailable, slow: true},
		{name: "answers half a body and hangs", serve: func(c net.Conn, stop <-chan struct{}) {
			writeString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nid=alice&contex")
			hang(c, stop)
		}, class: errors.ErrUnavailable, slow: true},
		{name: "answers half a chunked body and hangs", serve: func(c net.Conn, stop <-chan struct{}) {
			writeString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nid=alice\r\n")
			hang(c, stop)
		}, class: errors.ErrUnavailable, slow: true},
		{name: "answers half a body and closes", serve: func(c net.Conn, _ <-chan struct{}) {
			writeString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nid=alice&contex")
			c.Close()
		}, class: errors.ErrUnavailable},
		{name: "closes without answering", serve: func(c net.Conn, _ <-chan struct{}) { c.Close() }, class: errors.ErrUnavailable},
		{name: "speaks another protocol", serve: func(c net.Conn, _ <-chan struct{}) {
			writeString(c, "SSH-2.0-OpenSSH_9.6\r\n")
			c.Close()
		}, class: errors.ErrUnavailable},
		{name: "500", serve: status(500, "Internal Server Error"), class: errors.ErrUnavailable},
		{name: "503", serve: status(503, ""), class: errors.ErrUnavailable},
		{name: "503 with a body that never ends", serve: func(c net.Conn, stop <-chan struct{}) {
			writeString(c, "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbusy \r\n")
			hang(c, stop)
		}, class: errors.ErrUnavailable},
		{name: "429", serve: status(429, "slow down"), class: errors.ErrUnavailable},
		{name: "garbage", serve: status(200, "<html><body><h1>It works!</h1></body></html>"), class: errors.ErrInvalid},
		{name: "binary garbage", serve: status(200, "\x00\x01\x02\xff\xfe id=alice"), class: errors.ErrInvalid},
		{name: "oversized body with a length", serve: func(c net.Conn, stop <-chan struct{}) {
			writeString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\nid=alice&x=")
			hang(c, stop)
		}, opts: curl.Options{MaxReplyBytes: 1024}, class: errors.ErrInvalid},
		{name: "oversized body without end", serve: func(c net.Conn, stop <-chan struct{}) {
			writeString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			chunk := "400\r\n" + strings.Repeat("x", 0x400) + "\r\n"
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
		}, opts: curl.Options{MaxReplyBytes: 4096}, class: errors.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			srv := newRawServer(t, tt.serve)
			opts := tt.opts
			opts.Timeout = faultTimeout
			w, err := curl.New(srv.URL(), &opts)
			require.NoError(t, err)

			start := time.Now()
			got, found, err := w.Retrieve(t.Context(), "alice")
			elapsed := time.Since(start)

			assert.False(t, found)
			assert.Equal(t, sorcery.Record{}, got)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.class)
			assert.LessOrEqual(t, elapsed, faultTimeout+margin, "failure came too late: %v", err)
			if tt.slow {
				assert.GreaterOrEqual(t, elapsed, faultTimeout, "failure came before the timeout: %v", err)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			} else {
				assert.Less(t, elapsed, faultTimeout, "a failure that needs no waiting waited for the timeout: %v", err)
			}

			require.NoError(t, w.Close())
			assert.Eventually(t, func() bool { return srv.open() == 0 }, 2*time.Second, 10*time.Millisecond,
				"the client left connections open")
		})
	}
}

func TestConnectionRefusedIsUnavailableAtOnce(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	w, err := curl.New("http://"+addr+"/prov", &curl.Options{Timeout: faultTimeout})
	require.NoError(t, err)
	defer w.Close()
	ctx := t.Context()
	start := time.Now()
	_, found, err := w.Retrieve(ctx, "alice")
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorContains(t, err, "connection refused")
	_, err = w.Search(ctx, sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorIs(t, w.Create(ctx, sorcery.Record{ID: "a"}), errors.ErrUnavailable)
	assert.ErrorIs(t, w.Update(ctx, sorcery.Record{ID: "a"}), errors.ErrUnavailable)
	assert.ErrorIs(t, w.Delete(ctx, "a"), errors.ErrUnavailable)
	assert.Less(t, time.Since(start), faultTimeout, "refusals do not wait for the timeout")
}

func TestCallerDeadlineAndCancellationWin(t *testing.T) {
	checkGoroutines(t)
	srv := newRawServer(t, hang)
	w, err := curl.New(srv.URL(), &curl.Options{Timeout: time.Minute})
	require.NoError(t, err)
	defer w.Close()

	const deadline = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	_, found, err := w.Retrieve(ctx, "alice")
	elapsed := time.Since(start)
	assert.False(t, found)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, elapsed, deadline)
	assert.LessOrEqual(t, elapsed, deadline+margin)

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = w.Search(ctx, sorcery.Query{})
	assert.ErrorIs(t, err, errors.ErrUnavailable)
	assert.ErrorIs(t, err, context.Canceled)
	assert.LessOrEqual(t, time.Since(start), 100*time.Millisecond+margin)
}

func TestCloseClosesConnectionsOfRequestsUnderWay(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, stop <-chan struct{}) {
		select {
		case <-release:
		case <-stop:
			return
		}
		status(200, "id=alice")(c, stop)
	})
	w, err := curl.New(srv.URL(), &curl.Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, _, err := w.Retrieve(context.Background(), "alice")
		done <- err
	}()
	require.Eventually(t, func() bool { return srv.open() == 1 }, 2*time.Second, 5*time.Millisecond)
	require.NoError(t, w.Close())
	close(release)
	require.NoError(t, <-done, "a request under way at Close finishes")
	assert.Eventually(t, func() bool { return srv.open() == 0 }, 2*time.Second, 10*time.Millisecond,
		"its connection is closed, not kept idle")
}
