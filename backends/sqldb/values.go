package sqldb

import (
	"strings"

	"github.com/gosorcery/gosorcery/sorcery"
)

// Asterisk's realtime value conventions, as its SQL realtime drivers apply them.
//
// Reading a column, as res_config_pgsql.c and res_config_odbc.c do (strsep on ';', then
// ast_strip and a skip of empty chunks): a NULL or empty value is no field. A value is split
// at each ';', each chunk trimmed of white space, and empty chunks dropped — a value of
// blanks only is no field; every ^XX (two hexadecimal digits) in a chunk is then decoded to
// the byte it names, so ^3B is ';' and ^5E is '^'.
//
// Writing a field: its values are encoded (';' as ^3B, '^' as ^5E, and white space at a
// value's ends as ^XX so that trimming cannot eat it), empty values are dropped, and the rest
// are joined with ';'. No value left is NULL.

// decodeValue appends the fields column name holds to fs.
func decodeValue(fs sorcery.Fields, name, raw string) sorcery.Fields {
	if raw == "" {
		return fs
	}
	if strings.IndexByte(raw, ';') < 0 {
		raw = strings.Trim(raw, asciiSpace)
		if strings.IndexByte(raw, '^') >= 0 {
			raw = decodeChunk(raw)
		}
		if raw != "" {
			fs = append(fs, sorcery.Field{Name: name, Value: raw})
		}
		return fs
	}
	for raw != "" {
		chunk := raw
		if i := strings.IndexByte(raw, ';'); i >= 0 {
			chunk, raw = raw[:i], raw[i+1:]
		} else {
			raw = ""
		}
		if v := decodeChunk(strings.Trim(chunk, asciiSpace)); v != "" {
			fs = append(fs, sorcery.Field{Name: name, Value: v})
		}
	}
	return fs
}

// decodeChunk decodes every ^XX in s, XX being two hexadecimal digits.
func decodeChunk(s string) string {
	i := strings.IndexByte(s, '^')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for ; i >= 0; i = strings.IndexByte(s, '^') {
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteString(s[:i])
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			s = s[i+3:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// encodeValues returns the column value for a field's values, and false when no value is
// left (the column is then NULL).
func encodeValues(values []string) (string, bool) {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	if n == 0 {
		return "", false
	}
	if n == 1 {
		for _, v := range values {
			if v != "" {
				return encodeChunk(v, true), true
			}
		}
	}
	var b strings.Builder
	first := true
	for _, v := range values {
		if v == "" {
			continue
		}
		if !first {
			b.WriteByte(';')
		}
		first = false
		b.WriteString(encodeChunk(v, true))
	}
	return b.String(), true
}

// encodeChunk encodes ';' and '^' in v, and, when edges is set, the white space at its ends.
func encodeChunk(v string, edges bool) string {
	lead, trail := 0, len(v)
	if edges {
		for lead < len(v) && isSpace(v[lead]) {
			lead++
		}
		for trail > lead && isSpace(v[trail-1]) {
			trail--
		}
	}
	if lead == 0 && trail == len(v) && !strings.ContainsAny(v, ";^") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v) + 8)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ';' || c == '^' || i < lead || i >= trail {
			b.WriteByte('^')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

// isSpace reports whether c is white space as C's isspace and strings.TrimSpace see it in
// ASCII.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// asciiSpace is the white space isSpace knows.
const asciiSpace = " \t\n\v\f\r"
