package curl

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astvalue"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestEscapeLeavesOnlyAsteriskUnreservedBytes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"A-Z_a.z!0~9*'()", "A-Z_a.z!0~9*'()"},
		{"a b", "a%20b"},
		{"a&b=c", "a%26b%3Dc"},
		{"100%", "100%25"},
		{"a+b", "a%2Bb"},
		{"a;b", "a%3Bb"},
		{"über", "%C3%BCber"},
		{"/?#[]@$,:", "%2F%3F%23%5B%5D%40%24%2C%3A"},
		{"\r\n\x00\x7f\xff", "%0D%0A%00%7F%FF"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, escape(tt.in), "escape(%q)", tt.in)
	}
}

func TestUnescapeReplyDecodesPercentAndKeepsPlus(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a%20b", "a b"},
		{"a+b", "a+b"},
		{"%c3%BC", "ü"},
		{"100%", "100%"},
		{"%zz%4", "%zz%4"},
		{"%%41", "%A"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, unescapeReply(tt.in), "unescapeReply(%q)", tt.in)
	}
}

func TestEscapeRoundTripsThroughBothDecoders(t *testing.T) {
	for _, s := range []string{"a&b=c%d+e;f g", "ü€\x01", " ", "%20", "+"} {
		assert.Equal(t, s, unescapeReply(escape(s)), "reply decoder, %q", s)
		form, err := parseForm("k=" + escape(s))
		require.NoError(t, err)
		assert.Equal(t, s, form[0].Value, "form decoder, %q", s)
	}
}

func TestParseRowMapsWireToRecord(t *testing.T) {
	tests := []struct {
		name string
		line string
		want sorcery.Record
	}{
		{"plain", "id=alice&context=default", sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "default"}}}},
		{"id not first", "context=x&id=alice", sorcery.Record{ID: "alice", Fields: sorcery.Fields{{Name: "context", Value: "x"}}}},
		{"repeated keys in order", "id=a&allow=ulaw&allow=alaw&disallow=all&allow=g722",
			sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}, {Name: "disallow", Value: "all"}, {Name: "allow", Value: "g722"}}}},
		{"empty value is unset", "id=a&mailboxes=&context=c", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "context", Value: "c"}}}},
		{"piece without = is unset", "id=a&flag&context=c", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "context", Value: "c"}}}},
		{"single space is explicitly empty", "id=a&callerid=%20", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "callerid", Value: ""}}}},
		{"escapes decoded", "id=a%26b&x%3Dy=1%25%2B2%3B3%204&n=%C3%BC",
			sorcery.Record{ID: "a&b", Fields: sorcery.Fields{{Name: "x=y", Value: "1%+2;3 4"}, {Name: "n", Value: "ü"}}}},
		{"plus stays plus", "id=a&c=1+2", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "c", Value: "1+2"}}}},
		{"value splits at first =", "id=a&c=x=y", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "c", Value: "x=y"}}}},
		{"empty pieces skipped", "&id=a&&c=1&", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "c", Value: "1"}}}},
		{"empty name skipped", "id=a&=x", sorcery.Record{ID: "a"}},
		{"id matched without case", "ID=a", sorcery.Record{ID: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRow(tt.line)
			require.NoError(t, err, tt.line)
			assert.Equal(t, tt.want, got, tt.line)
		})
	}
}

func TestParseRowRefusesWhatIsNotARecord(t *testing.T) {
	for _, line := range []string{
		"context=default",
		"id=&context=x",
		"id=%20",
		"id=a&id=b",
		"<!DOCTYPE html>",
		`{"id":"alice"}`,
		"id=a&na%01me=x",
		"id=a&na\tme=x",
	} {
		_, err := parseRow(line)
		assert.Error(t, err, line)
	}
}

func TestParseSingleReadsFirstLineAndTrimsTrailingWhitespace(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		want  sorcery.Record
		found bool
	}{
		{"empty", "", sorcery.Record{}, false},
		{"whitespace only", " \r\n\t\n", sorcery.Record{}, false},
		{"trailing newline", "id=a&c=1\n", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "c", Value: "1"}}}, true},
		{"crlf and more rows", "id=a\r\nid=b\r\n", sorcery.Record{ID: "a"}, true},
		{"leading blank lines", "\n\nid=a", sorcery.Record{ID: "a"}, true},
		{"trailing space trimmed", "id=a&c=1   ", sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "c", Value: "1"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := parseSingle([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.found, found)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRepliesRefuseNULBytes(t *testing.T) {
	_, _, err := parseSingle([]byte("id=a\x00b"))
	assert.Error(t, err)
	_, err = parseMulti([]byte("id=a\nid=\x00"))
	assert.Error(t, err)
}

func TestParseMultiReadsOneRowPerLine(t *testing.T) {
	got, err := parseMulti([]byte("id=a&x=1\n\n\r\nid=b&allow=ulaw&allow=alaw\r\nid=c\n"))
	require.NoError(t, err)
	assert.Equal(t, []sorcery.Record{
		{ID: "a", Fields: sorcery.Fields{{Name: "x", Value: "1"}}},
		{ID: "b", Fields: sorcery.Fields{{Name: "allow", Value: "ulaw"}, {Name: "allow", Value: "alaw"}}},
		{ID: "c"},
	}, got)

	got, err = parseMulti([]byte("\n \n"))
	require.NoError(t, err)
	assert.Empty(t, got)

	_, err = parseMulti([]byte("id=a\nnot a row\n"))
	assert.Error(t, err, "one bad row spoils the reply")
}

func TestParseCountReadsLeadingIntegerLikeSscanf(t *testing.T) {
	tests := []struct {
		body string
		n    int64
		ok   bool
	}{
		{"1", 1, true},
		{"  \n 3\n", 3, true},
		{"0", 0, true},
		{"-1", -1, true},
		{"+2", 2, true},
		{"2 rows", 2, true},
		{"12abc", 12, true},
		{"", 0, false},
		{"ERROR: duplicate key", 0, false},
		{"-", 0, false},
		{"99999999999", 0, false},
	}
	for _, tt := range tests {
		n, ok := parseCount([]byte(tt.body))
		assert.Equal(t, tt.ok, ok, "parseCount(%q)", tt.body)
		assert.Equal(t, tt.n, n, "parseCount(%q)", tt.body)
	}
}

func TestLikeApproxIsASupersetOfTheRegex(t *testing.T) {
	tests := []struct{ re, want string }{
		{"", "%"},
		{"^abc", "abc%"},
		{"abc", "%abc%"},
		{"^abc.*d", "abc%"},
		{"a.c", "%a%"},
		{"(?i)abc", "%"},
		{"^a|^b", "%"},
		{"abc|abd", "%ab%"},
		{`^a\\b`, "a%"},
		{`^a_b`, "a_b%"},
		{"[", "%"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, likeApprox(tt.re), "likeApprox(%q)", tt.re)
	}
	// Every id the regex matches must match the LIKE pattern.
	ids := []string{"abc", "xabcx", "abd", "a.c", "aXc", "ABC", "a\\b", "a_b", "b"}
	for _, tt := range tests {
		re, err := regexp.Compile(tt.re)
		if err != nil {
			continue
		}
		like := regexp.MustCompile(astvalue.LikeRegexp(tt.want))
		for _, id := range ids {
			if re.MatchString(id) {
				assert.True(t, like.MatchString(id), "regex %q matches %q but LIKE %q does not", tt.re, id, tt.want)
			}
		}
	}
}

func TestParseFormKeepsOrderAndReadsPlusAsSpace(t *testing.T) {
	got, err := parseForm("id=a&allow=ulaw&allow=alaw&id%20LIKE=%25&x=a+b&&flag&e=")
	require.NoError(t, err)
	assert.Equal(t, []pair{{"id", "a"}, {"allow", "ulaw"}, {"allow", "alaw"}, {"id LIKE", "%"}, {"x", "a b"}, {"flag", ""}, {"e", ""}}, got)

	_, err = parseForm("id=%zz")
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestParseStaticGroupsLinesIntoCategories(t *testing.T) {
	body := "category=general&cat_metric=0&var_metric=0&var_name=bindport&var_val=5060\n" +
		"category=general&cat_metric=0&var_metric=1&var_name=allow&var_val=ulaw\n" +
		"category=alice&cat_metric=1&var_metric=0&var_name=type&var_val=endpoint\n" +
		"category=alice&cat_metric=2&var_metric=0&var_name=type&var_val=aor\n" +
		"category=alice&cat_metric=2&var_metric=1&var_name=note&var_val=\n"
	got, err := parseStatic([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, []sorcery.Record{
		{ID: "general", Fields: sorcery.Fields{{Name: "bindport", Value: "5060"}, {Name: "allow", Value: "ulaw"}}},
		{ID: "alice", Fields: sorcery.Fields{{Name: "type", Value: "endpoint"}}},
		{ID: "alice", Fields: sorcery.Fields{{Name: "type", Value: "aor"}, {Name: "note", Value: ""}}},
	}, got)

	_, err = parseStatic([]byte("category=a&cat_metric=x&var_name=n&var_val=v"))
	assert.Error(t, err)
	_, err = parseStatic([]byte("<html>"))
	assert.Error(t, err)
}
