package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/examples/registrar"
	"github.com/gosorcery/gosorcery/internal/testbus"
	"github.com/gosorcery/gosorcery/internal/testdb"
)

// instance is a registrar started in-process with run.
type instance struct {
	name   string
	sip    string // udp address
	lookup string // base URL of the look-up endpoint
	out    *lines
}

// startInstance runs a registrar with cfg until the test ends, then stops it and waits for
// run to return.
func startInstance(t *testing.T, cfg config) *instance {
	t.Helper()
	out := &lines{wrote: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "run of %s", cfg.name)
		case <-time.After(10 * time.Second):
			t.Errorf("run of %s did not return after its context ended", cfg.name)
		}
	})

	listening := regexp.MustCompile(`msg="registrar: listening" network=udp addr=(127\.0\.0\.1:\d+)`)
	lookups := regexp.MustCompile(`msg="registrar: look-ups" url="?(http://127\.0\.0\.1:\d+)/aors/`)
	in := &instance{name: cfg.name, out: out}
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("run of %s returned early: %v\n%s", cfg.name, err, out)
		default:
		}
		s := out.String()
		l, h := listening.FindStringSubmatch(s), lookups.FindStringSubmatch(s)
		if l == nil || h == nil {
			return false
		}
		in.sip, in.lookup = l[1], h[1]
		return true
	}, 30*time.Second, 10*time.Millisecond, "run of %s logs its SIP and look-up addresses", cfg.name)
	return in
}

// locate asks in's look-up endpoint where aor is registered.
func (in *instance) locate(t *testing.T, aor string) (registrar.Location, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.lookup+"/aors/"+aor, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Logf("look-up at %s: %v", in.name, err)
		return registrar.Location{}, false
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Logf("look-up at %s: %s", in.name, res.Status)
		return registrar.Location{}, false
	}
	var loc registrar.Location
	require.NoError(t, json.NewDecoder(res.Body).Decode(&loc))
	return loc, true
}

func TestRunClusterSharesContactsOverTheBus(t *testing.T) {
	for _, tc := range []struct {
		name string
		bus  func(t *testing.T) string
	}{
		{"nats", func(t *testing.T) string { return testbus.NATSURL(t) }},
		{"redis", func(t *testing.T) string { return "redis://" + testbus.RedisAddr(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := tc.bus(t)
			dsn := testdb.PostgresDSN(t)
			table := testdb.Name(t, "ps_contacts")
			testdb.Cleanup(t, testdb.Postgres(t), "DROP TABLE IF EXISTS "+table) // after both instances stop

			cfg := func(name string) config {
				return config{
					demo: 3, listen: []string{"udp:127.0.0.1:0"}, cache: "object_lifetime_stale=60",
					timeout: time.Second, realm: "asterisk",
					// A contact cached at the other instance stays fresh for a minute: only the
					// bus can make a change visible within the test's bound.
					name: name, db: dsn, table: table, bus: bus, http: "127.0.0.1:0",
				}
			}
			reg1 := startInstance(t, cfg("reg1-"+tc.name))
			reg2 := startInstance(t, cfg("reg2-"+tc.name))

			// reg2 caches that 1002 is not registered before reg1 takes the registration.
			loc, ok := reg2.locate(t, "1002")
			require.True(t, ok, reg2.out)
			require.Empty(t, loc.Contacts)

			res := registerDemoUser(t, reg1.sip, "1002", "secret1002")
			require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
			require.Eventually(t, func() bool {
				loc, ok := reg2.locate(t, "1002")
				return ok && len(loc.Contacts) == 1 && loc.Contacts[0].RegServer == reg1.name &&
					loc.AnsweredBy == reg2.name
			}, 5*time.Second, 20*time.Millisecond, "reg2 sees reg1's registration of 1002 over the bus\nreg1:\n%s\nreg2:\n%s", reg1.out, reg2.out)

			res = registerDemoUserFor(t, reg1.sip, "1002", "secret1002", 0)
			require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
			require.Eventually(t, func() bool {
				loc, ok := reg2.locate(t, "1002")
				return ok && len(loc.Contacts) == 0
			}, 5*time.Second, 20*time.Millisecond, "reg2 sees reg1's un-registration of 1002 over the bus\nreg1:\n%s\nreg2:\n%s", reg1.out, reg2.out)

			// And the other way round: reg2 takes a registration that reg1 sees.
			loc, ok = reg1.locate(t, "1003")
			require.True(t, ok, reg1.out)
			require.Empty(t, loc.Contacts)
			res = registerDemoUser(t, reg2.sip, "1003", "secret1003")
			require.Equal(t, sip.StatusOK, res.StatusCode, res.String())
			require.Eventually(t, func() bool {
				loc, ok := reg1.locate(t, "1003")
				return ok && len(loc.Contacts) == 1 && loc.Contacts[0].RegServer == reg2.name
			}, 5*time.Second, 20*time.Millisecond, "reg1 sees reg2's registration of 1003 over the bus\nreg1:\n%s\nreg2:\n%s", reg1.out, reg2.out)
		})
	}
}
