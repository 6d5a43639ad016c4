package registrar

import (
	"testing"
	"time"

	"github.com/icholy/digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDigestResponseMatchesTheRFCExamples(t *testing.T) {
	tests := []struct {
		name                  string
		user, realm, password string
		method                string
		creds                 credentials
		want                  string
	}{
		{
			// RFC 2617 §3.5.
			name: "RFC 2617", user: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", method: "GET",
			creds: credentials{Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b"},
			want:  "6629fae49393a05397450978507c4ef1",
		},
		{
			// RFC 7616 §3.9.1, the MD5 response.
			name: "RFC 7616", user: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life", method: "GET",
			creds: credentials{
				Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", URI: "/dir/index.html", QOP: "auth", NC: "00000001",
				CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", Algorithm: "MD5",
			},
			want: "8ca523f5e9506fed4657c9700eebdbec",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := digestResponse(ha1(tt.user, tt.realm, tt.password), tt.method, tt.creds)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// An independent implementation (the one sipgo's client uses) answers our challenges; our
// verification must agree with it, with and without qop.
func TestDigestResponseAgreesWithAnIndependentClient(t *testing.T) {
	for _, qop := range []string{"auth", ""} {
		t.Run("qop="+qop, func(t *testing.T) {
			chal := &digest.Challenge{Realm: "asterisk", Nonce: "1700000000/0123456789abcdef", Algorithm: "MD5"}
			if qop != "" {
				chal.QOP = []string{qop}
			}
			cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1:5060", Username: "1001", Password: "s3cret", Count: 1})
			require.NoError(t, err)

			c, err := parseCredentials(cred.String())
			require.NoError(t, err, "credentials %q", cred.String())
			got, err := digestResponse(ha1("1001", "asterisk", "s3cret"), "REGISTER", c)
			require.NoError(t, err)
			assert.Equal(t, cred.Response, got, "credentials %q", cred.String())
		})
	}
}

func TestOurChallengeIsUnderstoodByAnIndependentClient(t *testing.T) {
	ch := challenge{Realm: `my "realm"`, Nonce: "1700000000/abc", Stale: true}
	parsed, err := digest.ParseChallenge(ch.String())
	require.NoError(t, err, "challenge %q", ch.String())
	assert.Equal(t, `my "realm"`, parsed.Realm)
	assert.Equal(t, "1700000000/abc", parsed.Nonce)
	assert.Equal(t, "MD5", parsed.Algorithm)
	assert.Equal(t, []string{"auth"}, parsed.QOP)
	assert.True(t, parsed.Stale)
}

func TestParseCredentialsReadsWhatClientsSend(t *testing.T) {
	// As sipp writes it.
	c, err := parseCredentials(`Digest username="1001",realm="asterisk",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="1795290233/ad89",response="6a7ffcea86e1d7bf4ed694506b473581",algorithm=MD5`)
	require.NoError(t, err)
	assert.Equal(t, credentials{
		Username: "1001", Realm: "asterisk", CNonce: "6b8b4567", NC: "00000001", QOP: "auth", URI: "sip:127.0.0.1:5060",
		Nonce: "1795290233/ad89", Response: "6a7ffcea86e1d7bf4ed694506b473581", Algorithm: "MD5",
	}, c)

	// Blanks, case, escapes and commas inside quotes.
	c, err = parseCredentials(`digest  USERNAME = "a\"b" , realm="r,1", nonce="n", uri="sip:x", response="R", opaque=""`)
	require.NoError(t, err)
	assert.Equal(t, `a"b`, c.Username)
	assert.Equal(t, "r,1", c.Realm)
	assert.Equal(t, "R", c.Response)
}

func TestParseCredentialsRejectsMalformedHeaders(t *testing.T) {
	for _, h := range []string{
		`Basic dXNlcjpwYXNz`,
		`Digest username="1001", realm="asterisk", nonce="n", uri="sip:x"`,                     // no response
		`Digest username="1001", realm="asterisk", nonce="n, uri="sip:x", response="r"`,        // unterminated quote
		`Digest username="1001", username="1002", realm="r", nonce="n", uri="u", response="r"`, // repeated
		`Digest username`,
	} {
		_, err := parseCredentials(h)
		assert.Error(t, err, "parseCredentials(%q)", h)
	}
}

func TestDigestResponseRefusesWhatItDoesNotImplement(t *testing.T) {
	for _, c := range []credentials{
		{Algorithm: "SHA-256", URI: "u", Nonce: "n"},
		{QOP: "auth-int", NC: "1", CNonce: "c", URI: "u", Nonce: "n"},
		{QOP: "auth", URI: "u", Nonce: "n"}, // no nc, cnonce
	} {
		_, err := digestResponse("ha1", "REGISTER", c)
		assert.ErrorIs(t, err, errUnsupportedDigest, "credentials %+v", c)
	}
}

func TestNoncesAreBoundToClientRealmAndLifetime(t *testing.T) {
	n, err := newNonces()
	require.NoError(t, err)
	issued := time.Unix(1_700_000_000, 0)
	nonce := n.issue(issued, "192.0.2.1", "asterisk")
	const lifetime = 32 * time.Second

	tests := []struct {
		name  string
		nonce string
		at    time.Time
		host  string
		realm string
		want  nonceState
	}{
		{"fresh", nonce, issued.Add(10 * time.Second), "192.0.2.1", "asterisk", nonceValid},
		{"at the end of its lifetime", nonce, issued.Add(lifetime), "192.0.2.1", "asterisk", nonceValid},
		{"past its lifetime", nonce, issued.Add(lifetime + time.Second), "192.0.2.1", "asterisk", nonceStale},
		{"another client", nonce, issued, "192.0.2.2", "asterisk", nonceInvalid},
		{"another realm", nonce, issued, "192.0.2.1", "other", nonceInvalid},
		{"tampered time", "1700000001" + nonce[len("1700000000"):], issued, "192.0.2.1", "asterisk", nonceInvalid},
		{"from the future", n.issue(issued.Add(time.Minute), "192.0.2.1", "asterisk"), issued, "192.0.2.1", "asterisk", nonceInvalid},
		{"garbage", "dcd98b7102dd2f0e8b11d0f600bfb0c093", issued, "192.0.2.1", "asterisk", nonceInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, n.check(tt.nonce, tt.at, tt.host, tt.realm, lifetime), "nonce %q", tt.nonce)
		})
	}

	other, err := newNonces()
	require.NoError(t, err)
	assert.Equal(t, nonceInvalid, other.check(nonce, issued, "192.0.2.1", "asterisk", lifetime), "a nonce of another registrar (or of before a restart)")
}
