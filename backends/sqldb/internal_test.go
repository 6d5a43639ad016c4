package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestDecodeValue(t *testing.T) {
	cases := []struct {
		raw  string
		want []string
	}{
		{"", nil},
		{"ulaw", []string{"ulaw"}},
		{"ulaw;alaw", []string{"ulaw", "alaw"}},
		{" ulaw ;\talaw\n", []string{"ulaw", "alaw"}},
		{";;", nil},
		{"a;;b;", []string{"a", "b"}},
		{"a^3Bb", []string{"a;b"}},
		{"a^5Eb", []string{"a^b"}},
		{"^3B", []string{";"}},
		{"^5E3B", []string{"^3B"}},
		{"^20a;b^09", []string{" a", "b\t"}},
		{"a^3bc", []string{"a;c"}},
		{"a^3g", []string{"a^3g"}},
		{"a^", []string{"a^"}},
		{"a^4", []string{"a^4"}},
		{"^41^42", []string{"AB"}},
		{" lone ", []string{"lone"}},
		{"   ", nil},
		{" \t ", nil},
		{"^20lone^20", []string{" lone "}},
		{"ü;é", []string{"ü", "é"}},
		{"x\u00a0;y", []string{"x\u00a0", "y"}},
	}
	for _, c := range cases {
		fs := decodeValue(nil, "f", c.raw)
		assert.Equal(t, c.want, fs.Values("f"), "decode %q", c.raw)
	}
}

func TestEncodeValues(t *testing.T) {
	cases := []struct {
		values []string
		want   string
		ok     bool
	}{
		{nil, "", false},
		{[]string{""}, "", false},
		{[]string{"", ""}, "", false},
		{[]string{"ulaw"}, "ulaw", true},
		{[]string{" lone "}, "^20lone^20", true},
		{[]string{"   "}, "^20^20^20", true},
		{[]string{"ulaw", "alaw"}, "ulaw;alaw", true},
		{[]string{"ulaw", "", "alaw"}, "ulaw;alaw", true},
		{[]string{"a;b"}, "a^3Bb", true},
		{[]string{"a^b"}, "a^5Eb", true},
		{[]string{" a", "b\t"}, "^20a;b^09", true},
		{[]string{"^3B"}, "^5E3B", true},
		{[]string{"x\u00a0", "y"}, "x\u00a0;y", true},
	}
	for _, c := range cases {
		got, ok := encodeValues(c.values)
		assert.Equal(t, c.ok, ok, "encode %q", c.values)
		assert.Equal(t, c.want, got, "encode %q", c.values)
	}
}

// Whatever the values, white space and escapes included, decoding what encoding wrote gives
// them back; only empty values are dropped.
func FuzzEncodeDecodeRoundTrip(f *testing.F) {
	f.Add("ulaw", "alaw", "")
	f.Add("a;b", "^3B", " x ")
	f.Add("\t", ";", "^")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var want []string
		for _, v := range []string{a, b, c} {
			if v != "" {
				want = append(want, v)
			}
		}
		raw, ok := encodeValues([]string{a, b, c})
		require.Equal(t, len(want) > 0, ok)
		got := decodeValue(nil, "f", raw).Values("f")
		assert.Equal(t, want, got, "values %q stored as %q", []string{a, b, c}, raw)
	})
}

func TestRegexLiterals(t *testing.T) {
	cases := []struct {
		re, prefix, inner string
	}{
		{"^alice", "alice", "alice"},
		{"^a", "a", "a"},
		{"alice", "", "alice"},
		{"b$", "", "b"},
		{"^a.*bcd", "a", "bcd"},
		{"^(a|b)", "", ""},
		{"^a|b", "", ""},
		{"(?i)^alice", "", ""},
		{"^al(?i)ice", "al", "al"},
		{"", "", ""},
		{".*", "", ""},
		{"(", "", ""},
		{`^a\.b`, "a.b", "a.b"},
		{"^ab+c", "a", "a"},
	}
	for _, c := range cases {
		prefix, inner := regexLiterals(c.re)
		assert.Equal(t, c.prefix, prefix, "prefix of %q", c.re)
		assert.Equal(t, c.inner, inner, "inner literal of %q", c.re)
	}
}

func TestLikePatternUsesItsOwnEscape(t *testing.T) {
	cases := map[string]string{
		`abc`:    `abc`,
		`a%`:     `a%`,
		`a\%`:    `a!%`,
		`a\_b`:   `a!_b`,
		`a!b`:    `a!!b`,
		`a\\b`:   `a\b`,
		`a\`:     `a\`,
		`\!`:     `!!`,
		`\ü%`:    `ü%`,
		`100\%%`: `100!%%`,
	}
	for in, want := range cases {
		assert.Equal(t, want, likePattern(in), "likePattern(%q)", in)
	}
	assert.Equal(t, `a!_b!%c!!`, escapeLike(`a_b%c!`))
}

// fakeSQLState is an error with a SQLSTATE, like pgx's and lib/pq's.
type fakeSQLState string

func (e fakeSQLState) Error() string    { return "state " + string(e) }
func (e fakeSQLState) SQLState() string { return string(e) }

// MySQLError has the shape of go-sql-driver/mysql's error.
type MySQLError struct {
	Number   uint16
	SQLState [5]byte
	Message  string
}

func (e *MySQLError) Error() string { return fmt.Sprintf("Error %d: %s", e.Number, e.Message) }

// fakeSQLiteError has the shape of modernc.org/sqlite's error.
type fakeSQLiteError int

func (e fakeSQLiteError) Error() string { return fmt.Sprintf("sqlite %d", int(e)) }
func (e fakeSQLiteError) Code() int     { return int(e) }

type timeoutError struct{}

func (timeoutError) Error() string { return "timed out" }
func (timeoutError) Timeout() bool { return true }

type retryError struct{}

func (retryError) Error() string     { return "conn closed before sending" }
func (retryError) SafeToRetry() bool { return true }

func TestClassify(t *testing.T) {
	mysqlErr := func(n uint16, state string) error {
		e := &MySQLError{Number: n, Message: "m"}
		copy(e.SQLState[:], state)
		return e
	}
	cases := []struct {
		name string
		err  error
		want error // nil: no class
	}{
		{"bad conn", driver.ErrBadConn, errors.ErrUnavailable},
		{"conn done", sql.ErrConnDone, errors.ErrUnavailable},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), errors.ErrUnavailable},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, errors.ErrUnavailable},
		{"reset errno", fmt.Errorf("x: %w", syscall.ECONNRESET), errors.ErrUnavailable},
		{"dns", &net.DNSError{Err: "no such host", Name: "db"}, errors.ErrUnavailable},
		{"timeout", timeoutError{}, errors.ErrUnavailable},
		{"safe to retry", retryError{}, errors.ErrUnavailable},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), errors.ErrUnavailable},
		{"joined", errors.Join(errors.New("first"), driver.ErrBadConn), errors.ErrUnavailable},
		{"pg connection exception", fakeSQLState("08006"), errors.ErrUnavailable},
		{"pg admin shutdown", fakeSQLState("57P01"), errors.ErrUnavailable},
		{"pg cannot connect now", fakeSQLState("57P03"), errors.ErrUnavailable},
		{"pg too many connections", fakeSQLState("53300"), errors.ErrUnavailable},
		{"pg statement timeout", fakeSQLState("57014"), errors.ErrUnavailable},
		{"pg bad password", fakeSQLState("28P01"), errors.ErrUnavailable},
		{"pg bad integer", fakeSQLState("22P02"), errors.ErrInvalid},
		{"pg bad regex", fakeSQLState("2201B"), errors.ErrInvalid},
		{"pg not null", fakeSQLState("23502"), errors.ErrInvalid},
		{"pg unique", fakeSQLState("23505"), errors.ErrInvalid},
		{"pg undefined column", fakeSQLState("42703"), nil},
		{"mysql gone away", mysqlErr(2006, "HY000"), errors.ErrUnavailable},
		{"mysql lost", mysqlErr(2013, "HY000"), errors.ErrUnavailable},
		{"mysql can't connect", mysqlErr(2003, "HY000"), errors.ErrUnavailable},
		{"mysql shutdown", mysqlErr(1053, "08S01"), errors.ErrUnavailable},
		{"mysql comm link by state", mysqlErr(1999, "08S01"), errors.ErrUnavailable},
		{"mysql lock wait", mysqlErr(1205, "HY000"), errors.ErrUnavailable},
		{"mysql dup", mysqlErr(1062, "23000"), errors.ErrInvalid},
		{"mysql bad integer", mysqlErr(1366, "22007"), errors.ErrInvalid},
		{"mysql regex", mysqlErr(1139, "42000"), errors.ErrInvalid},
		{"mysql syntax", mysqlErr(1064, "42000"), nil},
		{"mysql invalid connection", errors.New("invalid connection"), errors.ErrUnavailable},
		{"sqlite busy", fakeSQLiteError(5), errors.ErrUnavailable},
		{"sqlite busy snapshot", fakeSQLiteError(517), errors.ErrUnavailable},
		{"sqlite constraint", fakeSQLiteError(19), errors.ErrInvalid},
		{"sqlite unique", fakeSQLiteError(2067), errors.ErrInvalid},
		{"sqlite error", fakeSQLiteError(1), nil},
		{"other", errors.New("something"), nil},
	}
	for _, c := range cases {
		got := classify(context.Background(), c.err)
		if c.want == nil {
			assert.NoError(t, got, "%s: %v", c.name, c.err)
			assert.ErrorIs(t, wrapDB(context.Background(), c.err), c.err, "%s: unclassified errors pass through", c.name)
			continue
		}
		assert.Equal(t, c.want, got, "%s: %v", c.name, c.err)
		wrapped := wrapDB(context.Background(), c.err)
		assert.ErrorIs(t, wrapped, c.want, c.name)
		assert.ErrorIs(t, wrapped, c.err, "%s keeps the driver's error", c.name)
	}

	assert.True(t, isDuplicate(mysqlErr(1062, "23000")))
	assert.True(t, isDuplicate(fmt.Errorf("x: %w", fakeSQLState("23505"))))
	assert.True(t, isDuplicate(fakeSQLiteError(1555)))
	assert.False(t, isDuplicate(fakeSQLiteError(19)))
	assert.False(t, isDuplicate(fakeSQLState("23502")))
}

// A call whose ctx was cancelled matches context.Canceled, not ErrUnavailable: the caller
// gave up, the source did not fail.
func TestCancelledContextIsNotUnavailable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := wrapDB(ctx, driver.ErrBadConn)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, errors.ErrUnavailable)

	ctx, cancel = context.WithTimeout(context.Background(), 0)
	defer cancel()
	err = wrapDB(ctx, errors.New("driver gave up"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, errors.ErrUnavailable)
}

func TestParseDialect(t *testing.T) {
	for in, want := range map[string]Dialect{
		"postgres": PostgreSQL, "PostgreSQL": PostgreSQL, "pgsql": PostgreSQL, "pgx": PostgreSQL,
		"mysql": MySQL, "MariaDB": MySQL, "sqlite3": SQLite, " sqlite ": SQLite,
	} {
		got, err := ParseDialect(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseDialect("odbc")
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

// Search plans push work to the database and leave to Go only what must be exact.
func TestSearchPlan(t *testing.T) {
	for _, d := range []Dialect{PostgreSQL, MySQL, SQLite} {
		cs := []column{newColumn(d, "id", "varchar"), newColumn(d, "name", "text"), newColumn(d, "max_contacts", "integer")}
		tb, err := newTable(d, "t", d.quote("t"), cs)
		require.NoError(t, err)
		w := &Wizard{}
		p, err := w.planSearch(tb, sorcery.Query{})
		require.NoError(t, err)
		assert.Nil(t, p.match, "%s: a query of everything needs no matcher", d)
		assert.NotContains(t, p.sql, "WHERE", d)

		p, err = w.planSearch(tb, sorcery.Query{Conditions: []sorcery.Condition{{Field: "max_contacts", Op: sorcery.OpGreater, Value: "3"}}})
		require.NoError(t, err)
		assert.Nil(t, p.match, "%s: ordering is left to the database", d)
		assert.Equal(t, []any{"3"}, p.args)

		p, err = w.planSearch(tb, sorcery.Query{IDRegex: "^ab"})
		require.NoError(t, err)
		require.NotNil(t, p.match, d)
		switch d {
		case PostgreSQL:
			assert.Contains(t, p.sql, `"id" ~ $1`)
		case MySQL:
			assert.Contains(t, p.sql, "`id` REGEXP ?")
		case SQLite:
			assert.Contains(t, p.sql, `"id" LIKE ? ESCAPE '!'`)
			assert.Equal(t, []any{"ab%"}, p.args)
		}

		_, err = w.planSearch(tb, sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.Op(99)}}})
		assert.ErrorIs(t, err, errors.ErrInvalid, "%s: unknown operator", d)
	}
}
