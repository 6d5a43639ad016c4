package curl

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// This file holds the wire format shared by the client and the handler: Asterisk's escaping,
// the reply rows, the row counts of writes and the static configuration lines.

const upperHex = "0123456789ABCDEF"

// unreserved reports whether Asterisk's ast_uri_encode (ast_uri_http) leaves b as it is:
// letters, digits and - _ . ! ~ * ' ( ).
func unreserved(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case '-', '_', '.', '!', '~', '*', '\'', '(', ')':
		return true
	}
	return false
}

// appendEscaped appends s escaped as Asterisk escapes names and values: every byte that is
// not unreserved becomes %XX with uppercase hex, so a space is %20 and never +.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// escape returns s escaped as [appendEscaped] does.
func escape(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s))
		}
	}
	return s
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescapeReply decodes a name or a value of a reply as Asterisk's ast_uri_decode
// (ast_uri_http) does: %XX becomes the byte, a + stays a +, and a % that is not followed by
// two hex digits stays as it is.
func unescapeReply(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, c)
	}
	return string(b)
}

// pair is one name=value of a request, in the order it was sent.
type pair struct {
	Name, Value string
}

// parseForm decodes a form-encoded request body or query string the way PHP and net/http
// do: pieces split on &, each at its first =, %XX decoded and + read as a space (Asterisk
// escapes a + as %2B, so both kinds of client are read right). Empty pieces are skipped; a
// piece without = is a name with an empty value. Order and repeated names are kept. A bad
// %-escape is errors.ErrInvalid.
func parseForm(s string) ([]pair, error) {
	var ps []pair
	for s != "" {
		var piece string
		piece, s, _ = strings.Cut(s, "&")
		if piece == "" {
			continue
		}
		name, value, _ := strings.Cut(piece, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, errors.Errorf("curl: a request name has a bad %%-escape: %w", errors.ErrInvalid)
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			// Neither the value nor the escape is quoted: values carry passwords.
			return nil, errors.Errorf("curl: the request value of %q has a bad %%-escape: %w", truncate(n), errors.ErrInvalid)
		}
		ps = append(ps, pair{n, v})
	}
	return ps, nil
}

// wireValue is how a field's value travels: an empty value would mean "unset" on the wire,
// so an explicitly empty value is sent as a single space, as Asterisk's realtime does.
func wireValue(v string) string {
	if v == "" {
		return " "
	}
	return v
}

// fieldValue reads a value from the wire: a single space is an explicitly empty value. The
// caller has already dropped empty (unset) values.
func fieldValue(v string) string {
	if v == " " {
		return ""
	}
	return v
}

// appendPair appends name=value escaped, preceded by & unless it is the first pair.
func appendPair(dst []byte, name, value string) []byte {
	if len(dst) > 0 {
		dst = append(dst, '&')
	}
	dst = appendEscaped(dst, name)
	dst = append(dst, '=')
	return appendEscaped(dst, value)
}

// appendRecordKeyed appends r as a reply row whose first column, key, holds the id. A field
// of r named like key is left out: the id says it.
func appendRecordKeyed(dst []byte, key string, r sorcery.Record) []byte {
	dst = appendEscaped(dst, key)
	dst = append(dst, '=')
	dst = appendEscaped(dst, r.ID)
	for _, f := range r.Fields {
		if key != "id" && strings.EqualFold(f.Name, key) {
			continue
		}
		dst = append(dst, '&')
		dst = appendEscaped(dst, f.Name)
		dst = append(dst, '=')
		dst = appendEscaped(dst, wireValue(f.Value))
	}
	return dst
}

// invalidReply describes what is wrong with a reply. The client wraps it with
// errors.ErrInvalid and the operation. It never quotes the reply: a garbled reply may carry
// field values, passwords among them, and errors end up in logs.
func invalidReply(format string, args ...any) error {
	return errors.New("reply " + fmt.Sprintf(format, args...))
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// trimReply removes the trailing whitespace of a reply, as func_curl does, and refuses a
// reply holding a NUL byte: Asterisk would read such a reply only up to the NUL, and no text
// reply holds one.
func trimReply(body []byte) (string, error) {
	if bytes.IndexByte(body, 0) >= 0 {
		return "", invalidReply("holds a NUL byte")
	}
	return strings.TrimRight(string(body), " \t\r\n\v\f"), nil
}

// parseRow decodes one reply row, name=value pairs joined by &, into a record.
//
// Like Asterisk it splits pieces on & and each at its first =, decodes %XX (a + stays a +),
// keeps repeated names in order and skips a piece whose name is empty. An empty value is
// "unset" and leaves the field out; a single space is an explicitly empty value. Stricter than
// Asterisk, which would drop such a row silently, it refuses a row without a non-empty id, a
// row with two ids and a name holding a control character: those are not records.
func parseRow(line string) (sorcery.Record, error) {
	var r sorcery.Record
	if n := strings.Count(line, "&"); n > 0 {
		r.Fields = make(sorcery.Fields, 0, n)
	}
	hasID := false
	for s := line; s != ""; {
		var piece string
		piece, s, _ = strings.Cut(s, "&")
		rawName, rawValue, _ := strings.Cut(piece, "=")
		name := unescapeReply(rawName)
		if name == "" {
			continue
		}
		for i := 0; i < len(name); i++ {
			if name[i] < 0x20 || name[i] == 0x7f {
				return sorcery.Record{}, invalidReply("row has a field name holding a control character")
			}
		}
		value := unescapeReply(rawValue)
		if strings.EqualFold(name, "id") {
			if hasID {
				return sorcery.Record{}, invalidReply("row has two ids")
			}
			hasID = true
			r.ID = value
			continue
		}
		if value == "" {
			continue
		}
		r.Fields = append(r.Fields, sorcery.Field{Name: name, Value: fieldValue(value)})
	}
	if r.ID == "" || r.ID == " " {
		return sorcery.Record{}, invalidReply("row has no id")
	}
	if len(r.Fields) == 0 {
		r.Fields = nil
	}
	return r, nil
}

// parseSingle decodes the reply to /single: its first line that is not blank is the row; an
// empty reply is no row.
func parseSingle(body []byte) (sorcery.Record, bool, error) {
	s, err := trimReply(body)
	if err != nil {
		return sorcery.Record{}, false, err
	}
	s = strings.TrimLeft(s, "\r\n")
	if s == "" {
		return sorcery.Record{}, false, nil
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	r, err := parseRow(s)
	if err != nil {
		return sorcery.Record{}, false, err
	}
	return r, true, nil
}

// parseMulti decodes the reply to /multi: one row per line, blank lines skipped.
func parseMulti(body []byte) ([]sorcery.Record, error) {
	s, err := trimReply(body)
	if err != nil {
		return nil, err
	}
	var rs []sorcery.Record
	for lineNo := 1; s != ""; lineNo++ {
		var line string
		if i := strings.IndexAny(s, "\r\n"); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		if line == "" {
			continue
		}
		r, err := parseRow(line)
		if err != nil {
			return nil, errors.Errorf("line %d: %w", lineNo, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// parseCount decodes the reply to a write as Asterisk does: leading whitespace skipped, then
// a decimal integer, anything after it ignored. ok is false when the reply does not start
// with a number, which Asterisk reads as a failure, like -1.
func parseCount(body []byte) (n int64, ok bool) {
	s := strings.TrimLeft(string(body), " \t\r\n\v\f")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	digits := end
	for end < len(s) && '0' <= s[end] && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:end], 10, 32)
	if err != nil {
		return 0, false
	}
	return n, true
}

// appendStaticLine appends one line of a /static reply: one variable of a category.
func appendStaticLine(dst []byte, category string, catMetric, varMetric int, name, value string) []byte {
	dst = append(dst, "category="...)
	dst = appendEscaped(dst, category)
	dst = append(dst, "&cat_metric="...)
	dst = strconv.AppendInt(dst, int64(catMetric), 10)
	dst = append(dst, "&var_metric="...)
	dst = strconv.AppendInt(dst, int64(varMetric), 10)
	dst = append(dst, "&var_name="...)
	dst = appendEscaped(dst, name)
	dst = append(dst, "&var_val="...)
	dst = appendEscaped(dst, value)
	dst = append(dst, "&commented=0\n"...)
	return dst
}

// parseStatic decodes the reply to /static as Asterisk's config_curl does: each line names
// its category, cat_metric, var_name and var_val; consecutive lines with the same category
// and cat_metric form one category. It returns the categories in order, each as a record
// whose ID is the category name (names may repeat) and whose fields are its variables.
func parseStatic(body []byte) ([]sorcery.Record, error) {
	s, err := trimReply(body)
	if err != nil {
		return nil, err
	}
	var (
		cats       []sorcery.Record
		lastCat    string
		lastMetric = -1
		started    bool
		// Like Asterisk's, these carry over from one line to the next.
		category, name, value string
		metric                = -1
	)
	for i, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }) {
		lineNo := i + 1
		for rest := line; rest != ""; {
			var piece string
			piece, rest, _ = strings.Cut(rest, "&")
			k, v, _ := strings.Cut(piece, "=")
			k, v = unescapeReply(k), unescapeReply(v)
			switch strings.ToLower(k) {
			case "category":
				category = v
			case "var_name":
				name = v
			case "var_val":
				value = v
			case "cat_metric":
				m, err := strconv.Atoi(v)
				if err != nil {
					return nil, invalidReply("line %d: cat_metric is not a number", lineNo)
				}
				metric = m
			}
		}
		if name == "" {
			return nil, invalidReply("line %d: no var_name", lineNo)
		}
		if !started || category != lastCat || metric != lastMetric {
			cats = append(cats, sorcery.Record{ID: category})
			lastCat, lastMetric, started = category, metric, true
		}
		c := &cats[len(cats)-1]
		c.Fields = append(c.Fields, sorcery.Field{Name: name, Value: value})
	}
	return cats, nil
}

// likeApprox returns an SQL LIKE pattern that every id matching the regular expression re
// also matches, so the server returns a superset that the client then filters with the exact
// expression. It follows Asterisk's approximation — "^abc" becomes "abc%", "abc" becomes
// "%abc%" — but uses only the literal text the expression is sure to contain, so a pattern
// such as "a.c" becomes "%a%" rather than Asterisk's "%a.c%", which would miss "abc".
func likeApprox(re string) string {
	if re == "" {
		return "%"
	}
	if strings.HasPrefix(re, "^") {
		parsed, err := syntax.Parse(re, syntax.Perl)
		if err != nil {
			return "%"
		}
		parsed = parsed.Simplify()
		if parsed.Op != syntax.OpConcat || len(parsed.Sub) == 0 || parsed.Sub[0].Op != syntax.OpBeginText {
			return "%"
		}
		var lit strings.Builder
		for _, sub := range parsed.Sub[1:] {
			if sub.Op != syntax.OpLiteral || sub.Flags&syntax.FoldCase != 0 {
				break
			}
			lit.WriteString(string(sub.Rune))
		}
		return likePrefix(lit.String()) + "%"
	}
	compiled, err := regexp.Compile(re)
	if err != nil {
		return "%"
	}
	lit, _ := compiled.LiteralPrefix()
	if lit = likePrefix(lit); lit == "" {
		return "%"
	}
	return "%" + lit + "%"
}

// likePrefix returns literal text for a LIKE pattern. % and _ are left as they are, as
// Asterisk leaves them: they can only widen the match, and the client filters afterwards. The
// text is cut at its first backslash, which servers read as an escape and which would
// narrow the match.
func likePrefix(s string) string {
	if i := strings.IndexByte(s, '\\'); i >= 0 {
		return s[:i]
	}
	return s
}
