package curl_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/errors"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// stallingBody yields its text, then blocks until ctx ends.
type stallingBody struct {
	ctx  context.Context
	text io.Reader
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if n, _ := b.text.Read(p); n > 0 {
		return n, nil
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func (b *stallingBody) Close() error { return nil }

// These run in a synctest bubble, where time is virtual: the timeout must end the request at
// exactly its deadline, not merely before some margin. The loopback tests in fault_test.go
// check the same against real sockets with a margin.
func TestTimeoutEndsARequestExactlyOnTime(t *testing.T) {
	stallHeaders := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	stallBody := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, ContentLength: -1, Request: r,
			Body: &stallingBody{ctx: r.Context(), text: strings.NewReader("id=alice&cont")}}, nil
	})
	tests := []struct {
		name     string
		rt       http.RoundTripper
		timeout  time.Duration
		deadline time.Duration // of the caller's ctx; zero: none
		want     time.Duration
	}{
		{"no headers", stallHeaders, 3 * time.Second, 0, 3 * time.Second},
		{"half a body", stallBody, 3 * time.Second, 0, 3 * time.Second},
		{"caller's deadline first", stallHeaders, 3 * time.Second, time.Second, time.Second},
		{"timeout before caller's deadline", stallBody, 2 * time.Second, time.Minute, 2 * time.Second},
		{"default timeout", stallHeaders, 0, 0, curl.DefaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w, err := curl.New("http://127.0.0.1/prov", &curl.Options{Client: &http.Client{Transport: tt.rt}, Timeout: tt.timeout})
				require.NoError(t, err)
				defer w.Close()
				ctx := t.Context()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				start := time.Now()
				_, found, err := w.Retrieve(ctx, "alice")
				assert.Equal(t, tt.want, time.Since(start))
				assert.False(t, found)
				assert.ErrorIs(t, err, errors.ErrUnavailable)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
	}
}
