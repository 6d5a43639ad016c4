package astvalue

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// A LIKE pattern, as sorcery.Query's OpLike takes it and Asterisk's realtime drivers send
// it: % is any run of characters, _ is any one character, and a backslash makes the next
// character (a whole UTF-8 sequence) literal; a backslash at the end is itself literal.

// likeElem is one element of a LIKE pattern: a wildcard ('%' or '_') with lit empty, or
// literal text (one character) with wild 0.
type likeElem struct {
	wild byte
	lit  string
}

// scanLike calls fn for each element of pattern, in order.
func scanLike(pattern string, fn func(likeElem)) {
	for i := 0; i < len(pattern); {
		switch c := pattern[i]; c {
		case '%', '_':
			fn(likeElem{wild: c})
			i++
		case '\\':
			if i+1 == len(pattern) {
				fn(likeElem{lit: `\`})
				i++
				continue
			}
			_, size := utf8.DecodeRuneInString(pattern[i+1:])
			fn(likeElem{lit: pattern[i+1 : i+1+size]})
			i += 1 + size
		default:
			_, size := utf8.DecodeRuneInString(pattern[i:])
			fn(likeElem{lit: pattern[i : i+size]})
			i += size
		}
	}
}

// LikeRegexp translates a LIKE pattern into an anchored regular expression that matches
// exactly the strings the pattern does. A byte that is not UTF-8 matches what Go's regexp
// reads in its place, the replacement character U+FFFD.
func LikeRegexp(pattern string) string {
	var b strings.Builder
	b.Grow(len(pattern) + 8)
	b.WriteString("(?s)^")
	scanLike(pattern, func(e likeElem) {
		switch {
		case e.wild == '%':
			b.WriteString(".*")
		case e.wild == '_':
			b.WriteString(".")
		default:
			if r, size := utf8.DecodeRuneInString(e.lit); r == utf8.RuneError && size == 1 {
				b.WriteString(`\x{FFFD}`)
			} else {
				b.WriteString(regexp.QuoteMeta(e.lit))
			}
		}
	})
	b.WriteString("$")
	return b.String()
}

// EscapeLike escapes s for use inside a LIKE pattern whose escape character is esc, so that
// %, _ and esc in s match themselves.
func EscapeLike(s string, esc byte) string {
	special := func(c byte) bool { return c == '%' || c == '_' || c == esc }
	n := 0
	for i := 0; i < len(s); i++ {
		if special(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + n)
	for i := 0; i < len(s); i++ {
		if special(s[i]) {
			b.WriteByte(esc)
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// RewriteLike rewrites a LIKE pattern, whose escape is the backslash, for the escape
// character esc (for SQL's explicit ESCAPE clause), so that it matches the same strings.
func RewriteLike(pattern string, esc byte) string {
	var b strings.Builder
	b.Grow(len(pattern) + 4)
	scanLike(pattern, func(e likeElem) {
		if e.wild != 0 {
			b.WriteByte(e.wild)
			return
		}
		b.WriteString(EscapeLike(e.lit, esc))
	})
	return b.String()
}
