package astvalue

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBoolReadsAsteriskTruthValues(t *testing.T) {
	for _, in := range []string{"yes", "YES", "true", "True", "y", "t", "1", "on", "On", " yes "} {
		b, err := Bool(in)
		require.NoError(t, err, in)
		assert.True(t, b, in)
	}
	for _, in := range []string{"no", "NO", "false", "n", "f", "0", "off", "\toff\n"} {
		b, err := Bool(in)
		require.NoError(t, err, in)
		assert.False(t, b, in)
	}
}

func TestBoolRejectsWhatAsteriskReadsAsNeither(t *testing.T) {
	for _, in := range []string{"", " ", "yess", "2", "enabled", "nope", "ja", "truefalse", "o"} {
		_, err := Bool(in)
		assert.Error(t, err, in)
	}
}

func TestCountAndSecondsTakeDigitsOnly(t *testing.T) {
	n, err := Count(" 42 ")
	require.NoError(t, err)
	assert.Equal(t, 42, n)
	d, err := Seconds("60")
	require.NoError(t, err)
	assert.Equal(t, time.Minute, d)
	// sscanf("%30u") would read these as 60, 1, 60 and a wrapped-around number.
	for _, in := range []string{"60s", "1.5", " 60x", "-1", "+5", "", "1e3"} {
		_, err := Count(in)
		assert.Error(t, err, in)
		_, err = Seconds(in)
		assert.Error(t, err, in)
	}
	_, err = Count("2147483648")
	assert.ErrorIs(t, err, errRange)
	_, err = Seconds("9223372037")
	assert.ErrorIs(t, err, errRange)
	d, err = Seconds("9223372036")
	require.NoError(t, err)
	assert.Equal(t, 9223372036*time.Second, d)
}

func TestDurationReadsSecondsAndGoSyntaxExactly(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"60": time.Minute, "1.5": 1500 * time.Millisecond, "0": 0, "0.1": 100 * time.Millisecond,
		"0.000000001": 1, "-2": -2 * time.Second, "+3": 3 * time.Second, "250ms": 250 * time.Millisecond,
		" 2m ": 2 * time.Minute, "1m30s": 90 * time.Second, "-1.5s": -1500 * time.Millisecond,
		"9223372036.854775807": math.MaxInt64,
	} {
		got, err := Duration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "1e3", "inf", "NaN", "1.", ".5", "1.0000000001", "9223372036.854775808", "99999999999", "5 s", "--1"} {
		_, err := Duration(in)
		assert.Error(t, err, in)
	}
}

func TestFormatDurationReadsBack(t *testing.T) {
	assert.Equal(t, "60", FormatDuration(time.Minute))
	assert.Equal(t, "1.5s", FormatDuration(1500*time.Millisecond))
	assert.Equal(t, "-2", FormatDuration(-2*time.Second))
	for _, d := range []time.Duration{0, 1, time.Minute, -time.Nanosecond, math.MaxInt64, math.MinInt64 + 1} {
		got, err := Duration(FormatDuration(d))
		require.NoError(t, err, d)
		assert.Equal(t, d, got)
	}
}

func TestLikeRegexp(t *testing.T) {
	assert.Equal(t, `(?s)^a.*b\.c.$`, LikeRegexp("a%b.c_"))
	assert.Equal(t, `(?s)^ü%$`, LikeRegexp(`ü\%`))
	assert.Equal(t, `(?s)^a\\$`, LikeRegexp(`a\`))
	assert.Equal(t, `(?s)^\x{FFFD}$`, LikeRegexp("\xff"))
	re := regexp.MustCompile(LikeRegexp(`%100\%%`))
	assert.True(t, re.MatchString("sold 100% off"))
	assert.False(t, re.MatchString("sold 1000 off"))
}

func TestEscapeAndRewriteLike(t *testing.T) {
	assert.Equal(t, `a\%b\_c\\d`, EscapeLike(`a%b_c\d`, '\\'))
	assert.Equal(t, "plain", EscapeLike("plain", '\\'))
	assert.Equal(t, "a!%b!!c", EscapeLike("a%b!c", '!'))
	assert.Equal(t, `a%!_b!!c\`, RewriteLike(`a%\_b!c\`, '!'))
	assert.Equal(t, `x\y`, RewriteLike(`x\\y`, '!'))
}

// likeMatch is SQL's LIKE with escape character esc, byte by byte, written directly (by
// dynamic programming, in time linear in len(pattern)*len(s)) to check the translations
// against.
func likeMatch(pattern, s string, esc byte) bool {
	type tok struct {
		wild byte
		lit  byte
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '%' || c == '_':
			toks = append(toks, tok{wild: c})
		case c == esc && i+1 < len(pattern):
			i++
			toks = append(toks, tok{lit: pattern[i]})
		default:
			toks = append(toks, tok{lit: c})
		}
	}
	// match[j]: the tokens so far match s[:j].
	match := make([]bool, len(s)+1)
	match[0] = true
	next := make([]bool, len(s)+1)
	for _, tk := range toks {
		clear(next)
		for j := 0; j <= len(s); j++ {
			switch {
			case tk.wild == '%':
				next[j] = match[j] || j > 0 && next[j-1]
			case j == 0:
			case tk.wild == '_':
				next[j] = match[j-1]
			default:
				next[j] = match[j-1] && s[j-1] == tk.lit
			}
		}
		match, next = next, match
	}
	return match[len(s)]
}

func TestLikeTranslationsAgree(t *testing.T) {
	for _, tt := range []struct{ pattern, s string }{
		{"a%", "abc"}, {"%b%", "abc"}, {"_b_", "abc"}, {`a\%`, "a%"}, {`a\%`, "ab"}, {`a!b`, "a!b"},
		{`\_%`, "_x"}, {`\_%`, "xx"}, {`%\\`, `a\`},
	} {
		want := likeMatch(tt.pattern, tt.s, '\\')
		assert.Equal(t, want, likeMatch(RewriteLike(tt.pattern, '!'), tt.s, '!'), tt)
		assert.Equal(t, want, regexp.MustCompile(LikeRegexp(tt.pattern)).MatchString(tt.s), tt)
	}
	assert.True(t, strings.HasPrefix(LikeRegexp(""), "(?s)^"))
}
