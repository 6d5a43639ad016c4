package curl_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorcerytest"
)

// serve starts a loopback server of w's objects under /prov/endpoint and returns a client of
// it.
func serve(t *testing.T, w sorcery.Wizard) *curl.Wizard {
	t.Helper()
	srv := httptest.NewServer(curl.NewHandler(w, nil))
	t.Cleanup(srv.Close)
	c, err := curl.New(srv.URL+"/prov/endpoint", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func memoryWith(seed []sorcery.Record) *memory.Wizard {
	m := memory.New()
	m.Put(seed...)
	return m
}

// TestClientOverHandlerConforms runs the conformance suite against the client talking to the
// handler over a memory wizard.
func TestClientOverHandlerConforms(t *testing.T) {
	sorcerytest.Run(t, func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
		return serve(t, memoryWith(seed))
	})
}

// TestHandlerOverClientConforms runs the suite the other way round: the handler serves a curl
// client, which talks to a second handler over a memory wizard, so the handler is checked
// with a remote wizard behind it and the client with a handler in front of a client.
func TestHandlerOverClientConforms(t *testing.T) {
	sorcerytest.Run(t, func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
		inner := serve(t, memoryWith(seed))
		return serve(t, inner)
	})
}
