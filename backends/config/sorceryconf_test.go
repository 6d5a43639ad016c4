package config_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// Typed PJSIP objects, reduced to the options the test looks at. Options they do not model
// are ignored, as Asterisk's realtime does with extra columns.
type Endpoint struct {
	ID           string   `sorcery:"id"`
	Type         string   `sorcery:"type"`
	Context      string   `sorcery:"context,default=default"`
	Disallow     []string `sorcery:"disallow"`
	Allow        []string `sorcery:"allow"`
	DirectMedia  bool     `sorcery:"direct_media,default=yes"`
	Auth         string   `sorcery:"auth"`
	OutboundAuth string   `sorcery:"outbound_auth"`
	Aors         []string `sorcery:"aors"`
	Transport    string   `sorcery:"transport"`
	CallerID     string   `sorcery:"callerid"`
	Mailboxes    []string `sorcery:"mailboxes"`
	CallGroup    string   `sorcery:"named_call_group"`
}

type Auth struct {
	ID       string `sorcery:"id"`
	AuthType string `sorcery:"auth_type,default=userpass"`
	Username string `sorcery:"username"`
	Password string `sorcery:"password"`
}

type Aor struct {
	ID             string `sorcery:"id"`
	MaxContacts    int    `sorcery:"max_contacts"`
	RemoveExisting bool   `sorcery:"remove_existing"`
	QualifyFreq    int    `sorcery:"qualify_frequency"`
	Contact        string `sorcery:"contact"`
}

func register[T any](t *testing.T, s *sorcery.Sorcery, name string) *sorcery.Type[T] {
	t.Helper()
	typ, err := sorcery.Register[T](s, name, &sorcery.TypeOptions[T]{IgnoreUnknown: true})
	require.NoError(t, err)
	return typ
}

func TestPjsipConfThroughSorceryConfIntoTypedObjects(t *testing.T) {
	s := sorcery.New(&sorcery.Options{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Wizards: map[string]sorcery.WizardFactory{"config": config.Factory(&config.Options{Dir: "testdata"})},
	})
	defer s.Close()
	endpoints := register[Endpoint](t, s, "endpoint")
	auths := register[Auth](t, s, "auth")
	aors := register[Aor](t, s, "aor")
	transports := register[sorcery.Record](t, s, "transport")
	for _, name := range []string{"global", "system", "identify", "registration"} {
		register[sorcery.Record](t, s, name)
	}
	require.NoError(t, s.ApplyConfig("testdata/sorcery.conf", "res_pjsip"))
	require.NoError(t, s.ApplyConfig("testdata/sorcery.conf", "res_pjsip_endpoint_identifier_ip"))
	require.NoError(t, s.ApplyConfig("testdata/sorcery.conf", "res_pjsip_outbound_registration"))
	ctx := t.Context()

	alice, found, err := endpoints.Retrieve(ctx, "alice")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, Endpoint{
		ID: "alice", Type: "endpoint", Context: "from-internal", Disallow: []string{"all"},
		Allow: []string{"g722", "ulaw", "alaw"}, DirectMedia: false, Auth: "alice", Aors: []string{"alice"},
		CallerID: `"Alice Liddell" <1001>`, Mailboxes: []string{"1001@default"}, CallGroup: "sales",
	}, alice, "template options, own options and the (+) addition from the #tryinclude'd file")

	carol, _, err := endpoints.Retrieve(ctx, "carol")
	require.NoError(t, err)
	assert.Equal(t, []string{"g722", "ulaw", "alaw", "opus"}, carol.Allow, "a template inheriting a template")
	assert.Equal(t, "transport-tls", carol.Transport)

	bob, _, err := endpoints.Retrieve(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, []string{"1002@default", "1000@default"}, bob.Mailboxes, "+= appends to the value")

	trunk, _, err := endpoints.Retrieve(ctx, "trunk")
	require.NoError(t, err)
	assert.Equal(t, "from-trunk", trunk.Context, "from the #include'd file")
	assert.Equal(t, "trunk", trunk.OutboundAuth)

	_, found, err = endpoints.Retrieve(ctx, "dave")
	require.NoError(t, err)
	assert.False(t, found, "dave is inside a block comment")
	_, found, err = endpoints.Retrieve(ctx, "desk-phone")
	require.NoError(t, err)
	assert.False(t, found, "templates are never objects")

	auth, _, err := auths.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, Auth{ID: "alice", AuthType: "userpass", Username: "alice", Password: "Wh1te;Rabbit"}, auth)
	trunkAuth, _, err := auths.Retrieve(ctx, "trunk")
	require.NoError(t, err)
	assert.Equal(t, "Tr0nk=Secret", trunkAuth.Password)

	aor, _, err := aors.Retrieve(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, Aor{ID: "alice", MaxContacts: 3, RemoveExisting: true, QualifyFreq: 60}, aor, "the (+) addition overrides the template")
	aor, _, err = aors.Retrieve(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, 2, aor.MaxContacts)

	all, err := endpoints.Search(ctx, sorcery.Query{})
	require.NoError(t, err)
	var ids []string
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	assert.Equal(t, []string{"alice", "bob", "carol", "trunk"}, ids)
	internal, err := endpoints.Search(ctx, sorcery.Query{Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpEqual, Value: "from-internal"}}})
	require.NoError(t, err)
	assert.Len(t, internal, 3)

	// The endpoint cache of sorcery.conf sits in front of the file.
	c := endpoints.Cache()
	require.NotNil(t, c, "endpoint/cache in sorcery.conf")
	for range 3 {
		_, _, err := endpoints.Retrieve(ctx, "alice")
		require.NoError(t, err)
	}
	st := c.Stats()
	assert.EqualValues(t, 3, st.Hits, "retrievals after the first are cache hits")
	assert.Equal(t, 4, st.Objects, "alice, bob, carol and trunk are cached")

	// Files are read-only: writes say so.
	assert.ErrorIs(t, endpoints.Create(ctx, Endpoint{ID: "zoe"}), errors.ErrReadOnly)

	udp, found, err := transports.Retrieve(ctx, "transport-udp")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []string{"192.168.10.0/24", "10.8.0.0/16"}, udp.Fields.Values("local_net"), "untyped access keeps repeated options")

	// expire_on_reload=yes: a reload empties the endpoint cache.
	require.NoError(t, s.Reload(ctx))
	assert.Zero(t, c.Len())
}
