package astvalue

import (
	"regexp"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzBool(f *testing.F) {
	for _, s := range []string{"yes", "No", " on ", "", "truex", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Bool(s)
		if err != nil {
			return
		}
		again, err := Bool(FormatBool(b))
		if err != nil || again != b {
			t.Fatalf("%q: %v does not read back: %v, %v", s, b, again, err)
		}
	})
}

func FuzzDuration(f *testing.F) {
	for _, s := range []string{"60", "1.5", "-2", "1m30s", "9223372036.854775807", "1e300", "NaN", ".5s", "+0.000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Duration(s)
		if err != nil {
			return
		}
		back, err := Duration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("%q: %v does not read back: %v, %v", s, d, back, err)
		}
		if w, err := Seconds(s); err == nil && w != d {
			t.Fatalf("%q: Seconds %v, Duration %v", s, w, d)
		}
		if n, err := Count(s); err == nil && time.Duration(n)*time.Second != d {
			t.Fatalf("%q: Count %v, Duration %v", s, n, d)
		}
	})
}

func FuzzLike(f *testing.F) {
	for _, s := range [][2]string{{"a%", "abc"}, {`\%_`, "%x"}, {`a\`, `a\`}, {"!_!", "!x!"}, {"%\xff%", "\xff"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := regexp.Compile(LikeRegexp(pattern))
		if err != nil {
			t.Fatalf("%q: %v", pattern, err)
		}
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return // the byte-wise reference does not read runes
		}
		want := likeMatch(pattern, s, '\\')
		if rewritten := RewriteLike(pattern, '!'); likeMatch(rewritten, s, '!') != want {
			t.Fatalf("%q rewritten %q on %q: want %v", pattern, rewritten, s, want)
		}
		if !hasMultiByte(pattern+s) && re.MatchString(s) != want {
			t.Fatalf("%q on %q: regexp %v, LIKE %v", pattern, s, !want, want)
		}
		if e := EscapeLike(s, '\\'); !likeMatch(e, s, '\\') {
			t.Fatalf("escaped %q does not match itself", s)
		}
	})
}

// hasMultiByte reports whether s holds a character of more than one byte, which _ matches
// whole in the regexp and byte by byte in likeMatch.
func hasMultiByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}
