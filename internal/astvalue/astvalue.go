package astvalue

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the parsers. They describe the value's form, never the value itself,
// which may be a secret.
var (
	errTruth    = errors.New("not a truth value (yes/no, true/false, on/off, y/n, t/f, 1/0)")
	errCount    = errors.New("not a whole number")
	errSeconds  = errors.New("not a whole number of seconds")
	errDuration = errors.New("not a duration (seconds, or Go syntax such as 1m30s)")
	errRange    = errors.New("out of range")
)

// Bool reads an Asterisk truth value: the words of ast_true (yes, true, y, t, 1, on) are
// true, those of ast_false (no, false, n, f, 0, off) false, without regard to case and
// surrounding blanks. Anything else, the empty string included, is an error.
func Bool(s string) (bool, error) {
	s = strings.TrimSpace(s)
	if len(s) > 5 {
		return false, errTruth
	}
	var buf [5]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(s)]) {
	case "yes", "true", "y", "t", "1", "on":
		return true, nil
	case "no", "false", "n", "f", "0", "off":
		return false, nil
	}
	return false, errTruth
}

// FormatBool writes b as Asterisk writes truth values: yes or no.
func FormatBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Count reads a whole non-negative number that fits in 32 bits, as Asterisk's unsigned
// options hold: digits only, surrounding blanks allowed.
func Count(s string) (int, error) {
	s = strings.TrimSpace(s)
	if !digits(s) {
		return 0, errCount
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > math.MaxInt32 {
		return 0, errRange
	}
	return int(n), nil
}

// maxSeconds is the largest number of whole seconds a time.Duration holds.
const maxSeconds = uint64(math.MaxInt64 / int64(time.Second))

// Seconds reads a whole non-negative number of seconds: digits only, surrounding blanks
// allowed. It is how Asterisk writes lifetimes such as object_lifetime_stale.
func Seconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !digits(s) {
		return 0, errSeconds
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxSeconds {
		return 0, errRange
	}
	return time.Duration(n) * time.Second, nil
}

// Duration reads a duration written as a number of seconds, with a sign and a decimal
// fraction of at most nine digits allowed ("60", "1.5", "-2"), as Asterisk writes timeouts,
// or in Go's syntax ("1m30s", "250ms"). Surrounding blanks are allowed. The value is exact:
// no floating point is involved.
func Duration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok, err := decimalSeconds(s); ok {
		return d, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errDuration
	}
	return d, nil
}

// decimalSeconds reads [+-]digits[.digits]. ok is false when s is not of that form.
func decimalSeconds(s string) (d time.Duration, ok bool, err error) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if !digits(whole) || hasDot && !digits(frac) {
		return 0, false, nil
	}
	if len(frac) > 9 {
		return 0, true, errDuration
	}
	n, perr := strconv.ParseUint(whole, 10, 64)
	if perr != nil || n > maxSeconds {
		return 0, true, errRange
	}
	var ns uint64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += uint64(frac[i] - '0')
		}
	}
	total := n*uint64(time.Second) + ns
	if total > math.MaxInt64 {
		return 0, true, errRange
	}
	d = time.Duration(total)
	if neg {
		d = -d
	}
	return d, true, nil
}

// FormatDuration writes d as a bare number of seconds when it is a whole number of them, and
// in Go's syntax otherwise, so that [Duration] reads it back exactly.
func FormatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
