package pjsip_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/examples/internal/pjsip"
	"github.com/gosorcery/gosorcery/sorcery"
)

func fields(kv ...string) sorcery.Fields {
	var fs sorcery.Fields
	for i := 0; i+1 < len(kv); i += 2 {
		fs.Add(kv[i], kv[i+1])
	}
	return fs
}

func TestObjectsDecodeAsteriskOptionsWithAsteriskDefaults(t *testing.T) {
	ctx := context.Background()
	s := sorcery.New(nil)
	defer s.Close()
	ts, err := pjsip.Register(s)
	require.NoError(t, err)
	src := memory.New()
	require.NoError(t, ts.Endpoints.AddWizard("memory", src, nil))
	require.NoError(t, ts.Auths.AddWizard("memory", src, nil))
	require.NoError(t, ts.Aors.AddWizard("memory", src, nil))

	src.Put(
		sorcery.Record{ID: "1001", Fields: fields(
			"type", "endpoint", "context", "office", "aors", "1001, 1001-desk", "auth", "1001",
			"disallow", "all", "allow", "opus,ulaw", "allow", "alaw", "direct_media", "no",
			"callerid", `"Alice" <1001>`,
			"rtp_timeout", "30", // an option the struct does not carry
		)},
		sorcery.Record{ID: "1001-auth", Fields: fields("type", "auth", "username", "1001", "password", "secret")},
		sorcery.Record{ID: "1001-aor", Fields: fields("type", "aor", "max_contacts", "2", "remove_existing", "yes", "contact", "sip:1001@192.0.2.1")},
	)

	ep, found, err := ts.Endpoints.Retrieve(ctx, "1001")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, pjsip.Endpoint{
		ID: "1001", Type: "endpoint", Context: "office", Aors: "1001, 1001-desk", Auth: "1001",
		Disallow: []string{"all"}, Allow: []string{"opus", "ulaw", "alaw"}, DirectMedia: false,
		CallerID: `"Alice" <1001>`, DTMFMode: "rfc4733", IdentifyBy: "username,ip", ForceRport: true,
	}, ep)
	assert.Equal(t, []string{"1001", "1001-desk"}, ep.AorList())
	assert.Equal(t, []string{"1001"}, ep.AuthList())

	auth, found, err := ts.Auths.Retrieve(ctx, "1001-auth")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, pjsip.Auth{ID: "1001-auth", Type: "auth", AuthType: "userpass", Username: "1001", Password: "secret", NonceLifetime: 32 * time.Second}, auth)
	assert.NoError(t, auth.Validate())

	aor, found, err := ts.Aors.Retrieve(ctx, "1001-aor")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, pjsip.Aor{
		ID: "1001-aor", Type: "aor", MaxContacts: 2, RemoveExisting: true,
		DefaultExpiration: time.Hour, MinimumExpiration: time.Minute, MaximumExpiration: 2 * time.Hour,
		Contact: []string{"sip:1001@192.0.2.1"},
	}, aor)
}

func TestObjectsRoundTripThroughRecords(t *testing.T) {
	codec, err := sorcery.NewCodec[pjsip.Contact](nil)
	require.NoError(t, err)
	c := pjsip.Contact{
		ID: "1001;@0123456789abcdef0123456789abcdef", URI: "sip:1001@127.0.0.1:5062;transport=udp",
		ExpirationTime: 1_700_000_000, UserAgent: "SIPp", Endpoint: "1001", ViaAddr: "127.0.0.1", ViaPort: 5062,
		CallID: "1-1@127.0.0.1",
	}
	rec, err := codec.Encode(c)
	require.NoError(t, err)
	assert.Equal(t, "1700000000", rec.Fields.Value("expiration_time"))
	back, err := codec.Decode(rec)
	require.NoError(t, err)
	assert.Equal(t, c, back)
	assert.Equal(t, time.Unix(1_700_000_000, 0), back.Expires())
}

func TestAuthValidateRejectsWhatCannotVerifyADigest(t *testing.T) {
	tests := []struct {
		name string
		auth pjsip.Auth
		ok   bool
	}{
		{"userpass", pjsip.Auth{ID: "a", AuthType: "userpass", Username: "u", Password: "p"}, true},
		{"userpass with an empty password", pjsip.Auth{ID: "a", AuthType: "userpass", Username: "u"}, true},
		{"md5", pjsip.Auth{ID: "a", AuthType: "md5", Username: "u", MD5Cred: "0123456789abcdef0123456789abcdef"}, true},
		{"md5 without md5_cred", pjsip.Auth{ID: "a", AuthType: "md5", Username: "u"}, false},
		{"no username", pjsip.Auth{ID: "a", AuthType: "userpass", Password: "p"}, false},
		{"google_oauth", pjsip.Auth{ID: "a", AuthType: "google_oauth", Username: "u"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.auth.Validate()
			assert.Equal(t, tt.ok, err == nil, "Validate(%+v) = %v", tt.auth, err)
		})
	}
}

func TestSplitListTrimsAndDropsEmptyItems(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, pjsip.SplitList(" a, b,,c ,"))
	assert.Nil(t, pjsip.SplitList(""))
}
