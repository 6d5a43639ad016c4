package cache

import (
	"context"
	"strings"
	"testing"

	"github.com/gosorcery/gosorcery/errors"
)

// FuzzParseOptions feeds arbitrary memory_cache option strings to ParseOptions: it must
// never panic, every error must be ErrInvalid with the sorcery prefix, and accepted options
// must be valid for New.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		"", "name=ep,maximum_objects=10,object_lifetime_maximum=60,object_lifetime_stale=30",
		"expire_on_reload=yes,full_backend_cache=no", "stale_if_error=1m30s,error_recheck=500ms",
		"negative_lifetime=5,refresh_timeout=2,refresh_workers=4", "name=", "maximum_objects=-1",
		"bogus=1", "word", "snapshot_file=/tmp/x.snap,snapshot_interval=30", "full_backend_cache=yes,maximum_objects=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOptions(s)
		if err != nil {
			if !errors.Is(err, errors.ErrInvalid) {
				t.Fatalf("ParseOptions(%q): error %v does not match ErrInvalid", s, err)
			}
			if !strings.HasPrefix(err.Error(), "sorcery: ") {
				t.Fatalf("ParseOptions(%q): error %q lacks the sorcery: prefix", s, err)
			}
			return
		}
		if o.FullBackend {
			return // needs a whole-set loader: not this test's business
		}
		c, err := New(func(ctx context.Context, id string) (int, bool, error) { return 0, false, nil }, o)
		if err != nil {
			t.Fatalf("ParseOptions(%q) accepted options New rejects: %v", s, err)
		}
		c.Close()
	})
}
