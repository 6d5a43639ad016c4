package sorceryhttp_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium returns the path of a headless-capable Chromium, skipping the test when there is
// none, unless SORCERY_TEST_REQUIRE_BROWSER=1 (set by CI, which installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SORCERY_TEST_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium on PATH and SORCERY_TEST_REQUIRE_BROWSER=1: install Debian's chromium package (.ci/run does)")
	}
	t.Skip("no chromium on PATH: the page is not checked in a browser (set SORCERY_TEST_REQUIRE_BROWSER=1 to fail instead)")
	return ""
}

// headless runs Chromium headless on url with the extra flags, bounded in time, and returns
// its standard output.
func headless(t *testing.T, browser, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--disable-background-networking",
		"--user-data-dir=" + t.TempDir(),
	}, flags...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, browser, args...)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return string(out)
}

func TestPageInABrowserShowsTheOutage(t *testing.T) {
	browser := chromium(t)
	f := newFixture(t, nil)
	f.outage(t, "alice", "carol")

	dom := headless(t, browser, f.srv.URL+"/", "--dump-dom")
	require.Contains(t, dom, "</html>", "a whole document")
	// The red line, as the browser built it from the page.
	line := regexp.MustCompile(`<p class="redline" role="alert">([^<]*)</p>`).FindStringSubmatch(dom)
	require.NotNil(t, line, "no red line in the DOM:\n%s", dom)
	assert.Contains(t, line[1], "Cache auth/cache is covering for an outage: 2 objects served past a failed refresh")
	assert.Contains(t, line[1], "failing: curl")
	// The extended objects, each a row with its buttons, and only those.
	rows := regexp.MustCompile(`<tr class="extended-object" data-id="([^"]+)">`).FindAllStringSubmatch(dom, -1)
	var ids []string
	for _, r := range rows {
		ids = append(ids, r[1])
	}
	assert.ElementsMatch(t, []string{"alice", "carol"}, ids)
	assert.Contains(t, dom, `class="wizard failing"`, "the failing wizard is marked")
	assert.Regexp(t, `failing: unavailable \(retrieve\)`, dom)
	assert.Equal(t, 1, strings.Count(dom, `class="type outage"`), "only the auth type is in an outage")
	for _, id := range users {
		assert.NotContains(t, dom, secretOf(id))
	}

	// The cache's own page lists its entries, the extended ones among them.
	dom = headless(t, browser, f.srv.URL+"/types/auth/caches/cache?state=extended", "--dump-dom")
	assert.Contains(t, dom, `<tr data-id="alice">`)
	assert.Contains(t, dom, `<tr data-id="carol">`)
	assert.NotContains(t, dom, `<tr data-id="bob">`)

	// SORCERY_ADMIN_SCREENSHOT=path writes a screenshot of the page (docs/admin.png); a
	// relative path is relative to this package's directory.
	if path := os.Getenv("SORCERY_ADMIN_SCREENSHOT"); path != "" {
		abs, err := filepath.Abs(path)
		require.NoError(t, err)
		headless(t, browser, f.srv.URL+"/", "--screenshot="+abs, "--window-size=1200,720", "--hide-scrollbars")
		st, err := os.Stat(abs)
		require.NoError(t, err)
		t.Logf("screenshot: %s, %d bytes", abs, st.Size())
	}
}
