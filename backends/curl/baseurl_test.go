package curl

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// A provisioning service mounted at /prov/endpoint, as a Go service or a web server would
// mount it: anything else on the host answers 404.
func newMountedService(t *testing.T) (*httptest.Server, *memory.Wizard) {
	t.Helper()
	src := memory.New()
	src.Put(sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "office"}}})
	mux := http.NewServeMux()
	mux.Handle("/prov/endpoint/", NewHandler(src, nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, src
}

func TestWrongBaseURLGivesErrorsNotAbsences(t *testing.T) {
	srv, _ := newMountedService(t)
	ctx := t.Context()

	good := newTestWizard(t, srv.URL+"/prov/endpoint", nil)
	_, found, err := good.Retrieve(ctx, "alice")
	require.NoError(t, err)
	require.True(t, found, "the right URL finds alice")
	_, found, err = good.Retrieve(ctx, "nobody")
	require.NoError(t, err, "the service answers an empty 200 for no such object")
	require.False(t, found)

	typo := newTestWizard(t, srv.URL+"/prov/endpiont", nil)
	for _, id := range []string{"alice", "nobody"} {
		_, found, err := typo.Retrieve(ctx, id)
		assert.False(t, found)
		require.Error(t, err, "a mistyped base URL is an error for %q, not an absence", id)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusNotFound, se.Code)
		assert.Contains(t, err.Error(), "base URL")
	}
	_, err = typo.Search(ctx, sorcery.Query{})
	assert.Error(t, err, "search")
	err = typo.Update(ctx, sorcery.Record{ID: "alice"})
	assert.Error(t, err, "update")
	assert.NotErrorIs(t, err, errors.ErrNotFound, "a 404 is not zero rows")
	err = typo.Delete(ctx, "alice")
	assert.Error(t, err, "destroy")
	assert.NotErrorIs(t, err, errors.ErrNotFound, "a 404 is not zero rows")

	// Through a type: the chain reports the failure, and does not answer "no such object".
	s := sorcery.New(nil)
	defer s.Close()
	typ, err := sorcery.Register[sorcery.Record](s, "endpoint", nil)
	require.NoError(t, err)
	require.NoError(t, typ.AddWizard("curl", typo, &sorcery.MappingOptions{ReadOnly: true}))
	_, found, err = typ.Retrieve(ctx, "alice")
	assert.False(t, found)
	assert.Error(t, err)

	// A service that means "no such object" by 404 says so in Options.
	absent := newTestWizard(t, srv.URL+"/prov/endpiont", &Options{NotFoundCodes: []int{http.StatusNotFound}})
	_, found, err = absent.Retrieve(ctx, "alice")
	assert.NoError(t, err)
	assert.False(t, found)
}

func TestNotFoundCodesAreChecked(t *testing.T) {
	for _, o := range []Options{
		{NotFoundCodes: []int{99}},
		{NotFoundCodes: []int{503}},
		{NotFoundCodes: []int{429}},
		{NotFoundCodes: []int{404}, FailureCodes: []int{404}},
	} {
		_, err := New("http://127.0.0.1:1/x", &o)
		assert.ErrorIs(t, err, errors.ErrInvalid, "%+v", o)
	}
}
