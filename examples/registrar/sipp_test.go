package registrar

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
)

// requireSippEnv names the variable that makes a missing sipp a failure instead of a skip;
// CI sets it.
const requireSippEnv = "SORCERY_TEST_REQUIRE_SIPP"

// lookSipp returns the path of the sipp binary, skipping the test when there is none unless
// SORCERY_TEST_REQUIRE_SIPP=1.
func lookSipp(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err == nil {
		return path
	}
	if os.Getenv(requireSippEnv) == "1" {
		t.Fatalf("sipp is required (%s=1) but not found: %v; install it with: apt-get install -y sip-tester", requireSippEnv, err)
	}
	t.Skipf("sipp not found (%v): install it with `apt-get install -y sip-tester`, or set %s=1 to make this a failure", err, requireSippEnv)
	return ""
}

// user is one phone's credentials. sipp reads them from its injection file and its
// [authentication] keyword: neither may hold a blank or a semicolon.
type user struct{ name, password string }

// sipp runs sipp scenarios against one SIP server.
type sipp struct {
	path   string
	server net.Addr
	dir    string // where the runs keep their files
	runs   atomic.Int64
}

// newSipp returns a runner of the sipp at path (see lookSipp) against server.
func newSipp(t *testing.T, path string, server net.Addr) *sipp {
	return &sipp{path: path, server: server, dir: t.TempDir()}
}

// sippRun is one run of sipp: a scenario of testdata played once per call, the calls
// spread at rate per second, each taking the next user of users (round robin).
type sippRun struct {
	scenario string // file name in testdata
	users    []user
	calls    int
	rate     float64 // calls per second; zero means as fast as possible (1000/s)
	expires  int     // the Expires header the scenario sends; zero means 300
	timeout  time.Duration
	// mayFail keeps a run whose calls fail out of the test log: the caller retries it.
	mayFail bool
	// port is sipp's own UDP port, in its Contact URIs; zero means a free one. Runs with
	// the same port register the same contacts.
	port int
}

// sippResult is what a run of sipp reported.
type sippResult struct {
	exitCode   int // 0: every call succeeded; 1: some failed; other: sipp could not run
	successful int // calls that went through the scenario to its end
	failed     int
	took       time.Duration
	dir        string
}

// run plays r and returns its result, read from sipp's exit code and statistics file. The
// run's files (statistics, errors, messages, screen) stay in result.dir; on a failed call,
// the errors and final screen are logged unless r.mayFail.
func (s *sipp) run(t *testing.T, r sippRun) sippResult {
	t.Helper()
	n := s.runs.Add(1)
	dir := filepath.Join(s.dir, fmt.Sprintf("%02d-%s", n, strings.TrimSuffix(r.scenario, ".xml")))
	require.NoError(t, os.MkdirAll(dir, 0o755))

	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for _, u := range r.users {
		fmt.Fprintf(&csv, "%s;[authentication username=%s password=%s]\n", u.name, u.name, u.password)
	}
	inf := filepath.Join(dir, "users.csv")
	require.NoError(t, os.WriteFile(inf, []byte(csv.String()), 0o644))
	scenario, err := filepath.Abs(filepath.Join("testdata", r.scenario))
	require.NoError(t, err)

	rate := r.rate
	if rate <= 0 {
		rate = 1000
	}
	timeout := r.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	expires := r.expires
	if expires == 0 {
		expires = 300
	}
	args := []string{
		s.server.String(),
		"-sf", scenario,
		"-inf", inf,
		"-key", "expires", strconv.Itoa(expires),
		"-m", strconv.Itoa(r.calls),
		// Rate per 100 ms rather than per second, so that the calls spread evenly.
		"-r", strconv.FormatFloat(rate/10, 'f', -1, 64), "-rp", "100",
		"-i", "127.0.0.1", "-p", strconv.Itoa(cmp.Or(r.port, freeUDPPort(t))),
		"-nostdin",
		"-timeout", strconv.Itoa(int(timeout / time.Second)), "-timeout_error",
		"-recv_timeout", "8000", // ms; retransmissions over UDP go on meanwhile
		"-default_behaviors", "all,-bye",
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"),
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.path, args...)
	cmd.Dir = dir
	cmd.WaitDelay = time.Second
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	require.NoError(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out

	start := time.Now()
	err = cmd.Run()
	res := sippResult{took: time.Since(start), dir: dir}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
	default:
		require.NoError(t, err, "running sipp %s", strings.Join(args, " "))
	}
	res.successful, res.failed = sippCounts(t, filepath.Join(dir, "stat.csv"))
	if (res.exitCode != 0 || res.failed > 0) && !r.mayFail {
		t.Logf("sipp %s: exit %d, %d successful, %d failed; sipp %s", r.scenario, res.exitCode, res.successful, res.failed, strings.Join(args, " "))
		for _, name := range []string{"errors.log", "screen.log"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil && len(b) > 0 {
				t.Logf("sipp %s:\n%s", name, truncate(string(b), 4000))
			}
		}
	}
	return res
}

// sippCounts reads the cumulative successful and failed calls from the last line of a sipp
// statistics file.
func sippCounts(t *testing.T, path string) (successful, failed int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err, "sipp wrote no statistics")
	defer f.Close()
	var header, last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	require.NoError(t, sc.Err())
	require.NotNil(t, last, "sipp statistics %s have no data line", path)
	col := func(name string) int {
		for i, h := range header {
			if h == name && i < len(last) {
				n, err := strconv.Atoi(last[i])
				require.NoError(t, err, "sipp statistics column %s", name)
				return n
			}
		}
		require.Failf(t, "no column in sipp statistics", "%s", name)
		return 0
	}
	return col("SuccessfulCall(C)"), col("FailedCall(C)")
}

// freeUDPPort returns a UDP port of 127.0.0.1 that was free a moment ago, for sipp's own
// socket (sipp's default is 5060, which other programs may hold).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n…"
}
