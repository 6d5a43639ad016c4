package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestQuickstartServesThroughTheOutage(t *testing.T) {
	var out strings.Builder
	start := time.Now()
	if err := run(&out, 0); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the quickstart took %v, more than 15 s", d)
	}
	text := out.String()
	for _, want := range []string{
		`endpoint lobby  → context=lobby allow=ulaw`,
		`endpoint alice  → context=from-internal allow=opus,ulaw`,
		`auth mallory → no such user: answer 404`,
		`auth carol  → unknown, and the source is failing (unavailable=true): answer 503, not 404`,
		`auth alice  → password "N3w-Passw0rd"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	outage := text[strings.Index(text, "3. the provisioning"):strings.Index(text, "4. alice")]
	if n := strings.Count(outage, `auth alice  → password "Wh1te-Rabbit"`); n != 3 {
		t.Errorf("alice served %d times during the outage, want 3:\n%s", n, text)
	}
	if !strings.Contains(outage, `auth bob    → password "CanWeFixIt"`) {
		t.Errorf("bob not served during the outage:\n%s", text)
	}
	if !regexp.MustCompile(`operator's view at http://127\.0\.0\.1:\d+/debug/sorcery/: a red line on auth/cache; served past a failed refresh: .*alice`).MatchString(outage) {
		t.Errorf("the operator's view does not list alice as extended during the outage:\n%s", text)
	}
	if strings.Contains(outage, " 0 served past a failed refresh") {
		t.Errorf("no extension shown during the outage:\n%s", text)
	}
}
