package registrar

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
)

// sipp, a real SIP client, gets every answer of the registrar as a SIP client expects it:
// the digest challenge and 200, 403 for a wrong password, 404 for an unknown user, 503 when
// the source is down and nothing is cached.
func TestSippGetsEveryAnswerOfTheRegistrar(t *testing.T) {
	path := lookSipp(t)
	f := newFixture(t)
	s := newSipp(t, path, f.addr)

	res := s.run(t, sippRun{scenario: "register.xml", users: []user{{"1001", "secret"}, {"1003", "md5-password"}}, calls: 10, rate: 100})
	assert.Equal(t, 0, res.exitCode, "sipp exit code")
	assert.Equal(t, 10, res.successful, "REGISTERs through digest authentication to 200")
	require.Len(t, contactsOf(t, f.r, "1001"), 1)
	require.Len(t, contactsOf(t, f.r, "1003"), 1)

	res = s.run(t, sippRun{scenario: "register_forbidden.xml", users: []user{{"1001", "not the secret"}}, calls: 2})
	assert.Equal(t, 0, res.exitCode, "sipp exit code")
	assert.Equal(t, 2, res.successful, "wrong passwords refused with 403")

	res = s.run(t, sippRun{scenario: "register_not_found.xml", users: []user{{"9999", "x"}}, calls: 1})
	assert.Equal(t, 0, res.exitCode, "sipp exit code")
	assert.Equal(t, 1, res.successful, "an unknown user refused with 404")

	f.endpoints.SetError(fmt.Errorf("connection refused: %w", errors.ErrUnavailable))
	res = s.run(t, sippRun{scenario: "register_unavailable.xml", users: []user{{"1001", "secret"}, {"9999", "x"}}, calls: 2})
	assert.Equal(t, 0, res.exitCode, "sipp exit code")
	assert.Equal(t, 2, res.successful, "503 while the source is down and nothing is cached, for known and unknown users alike")

	// And the scenario that expects 200 does fail when the answer is not 200.
	res = s.run(t, sippRun{scenario: "register.xml", users: []user{{"1001", "secret"}}, calls: 1})
	assert.Equal(t, 1, res.exitCode, "sipp exit code of a failed call")
	assert.Equal(t, 1, res.failed)
}
