package sqldb

import (
	"regexp/syntax"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astvalue"
	"github.com/gosorcery/gosorcery/sorcery"
)

// How a Query becomes SQL.
//
// The SQL selects a superset of the answer wherever the answer is defined on the decoded
// values (=, !=, LIKE, regular expressions, the id's prefix and regular expression), and the
// query's sorcery.Matcher then keeps exactly the records that satisfy it: so a search means
// the same on every dialect and on every wizard, whatever the column's collation (MySQL's
// usual ones ignore case) and whether a value holds a ';'-joined list. The ordering
// comparisons (<, <=, >, >=) are left to the database, which compares by the column's type.
//
// A superset because: rows whose value holds ';' or '^' (lists and escapes, which decode to
// something else) always pass the SQL on text columns; MySQL's != is not case-exact, so there
// it only asks for a value; SQLite has no regular expressions, so there the SQL asks for a
// literal every match must contain (LIKE, which is case-insensitive in SQLite, a superset
// again).

// searchPlan is a Query made SQL.
type searchPlan struct {
	sql   string
	args  []any
	match *sorcery.Matcher // the exact test; nil when the SQL is exact
}

// likeEscape is the escape character of every LIKE the wizard writes. Not a backslash:
// MySQL reads backslashes in string literals, and PostgreSQL may too
// (standard_conforming_strings=off).
const likeEscape = '!'

// planSearch builds the SELECT for q.
func (w *Wizard) planSearch(t *table, q sorcery.Query) (*searchPlan, error) {
	d := t.dialect
	var (
		where []string
		args  []any
		exact sorcery.Query // what the Matcher checks
	)
	param := func(v any) string {
		args = append(args, v)
		return d.placeholder(len(args))
	}
	idCol := t.cols[t.id].asText
	for _, c := range q.Conditions {
		col, isID := t.cols[t.id], true
		if !strings.EqualFold(c.Field, "id") {
			i, err := t.lookup(c.Field)
			if err != nil {
				return nil, err
			}
			col, isID = t.cols[i], i == t.id
		}
		// Values of the column may be lists or escaped: rows holding ';' or '^' pass the SQL
		// and are judged decoded. An id is never a list, but escaped: = and != compare its
		// encoded form.
		listed := col.textual && !w.opts.Verbatim
		value := c.Value
		if isID {
			value = w.encodeID(c.Value)
			listed = listed && (c.Op == sorcery.OpLike || c.Op == sorcery.OpRegex)
		}
		text := col.asText // the column as text, for LIKE and regular expressions
		var cond string
		switch c.Op {
		case sorcery.OpEqual:
			cond = col.quoted + " = " + param(value)
		case sorcery.OpNotEqual:
			if d == MySQL && col.textual {
				cond = col.quoted + " IS NOT NULL"
			} else {
				cond = col.quoted + " <> " + param(value)
			}
		case sorcery.OpLess, sorcery.OpLessEqual, sorcery.OpGreater, sorcery.OpGreaterEqual:
			// The database decides, by the column's type.
			where = append(where, col.quoted+" "+c.Op.String()+" "+param(c.Value))
			continue
		case sorcery.OpLike:
			cond = text + " LIKE " + param(likePattern(c.Value)) + " ESCAPE '!'"
		case sorcery.OpRegex:
			cond = regexCondition(d, text, c.Value, param)
		default:
			return nil, errors.Errorf("sqldb: condition on %q: unknown operator %d: %w", c.Field, int(c.Op), errors.ErrInvalid)
		}
		if listed {
			cond = "(" + cond + " OR " + text + " LIKE '%;%' OR " + text + " LIKE '%^%')"
		}
		where = append(where, cond)
		exact.Conditions = append(exact.Conditions, c)
	}
	if q.IDPrefix != "" {
		// Encoding maps each byte on its own, so an id starts with the prefix exactly when
		// its encoded form starts with the prefix encoded.
		where = append(where, idCol+" LIKE "+param(escapeLike(w.encodeID(q.IDPrefix))+"%")+" ESCAPE '!'")
		exact.IDPrefix = q.IDPrefix
	}
	if q.IDRegex != "" {
		cond := regexCondition(d, idCol, q.IDRegex, param)
		if !w.opts.Verbatim {
			cond = "(" + cond + " OR " + idCol + " LIKE '%^%')"
		}
		where = append(where, cond)
		exact.IDRegex = q.IDRegex
	}
	m, err := exact.Compile()
	if err != nil {
		return nil, err
	}
	p := &searchPlan{args: args}
	if !exact.IsAll() {
		p.match = m
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.quoted)
	}
	b.WriteString(" FROM ")
	b.WriteString(t.quoted)
	for i, cond := range where {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(cond)
	}
	p.sql = b.String()
	return p, nil
}

// regexCondition returns the SQL that keeps the values of text (an SQL expression) that may
// match the regular expression re: the database's own operator where it has one, else a
// LIKE on a literal every match holds, else a test for a value.
func regexCondition(d Dialect, text, re string, param func(any) string) string {
	switch d {
	case PostgreSQL:
		return text + " ~ " + param(re)
	case MySQL:
		return text + " REGEXP " + param(re)
	}
	prefix, inner := regexLiterals(re)
	switch {
	case prefix != "":
		return text + " LIKE " + param(escapeLike(prefix)+"%") + " ESCAPE '!'"
	case inner != "":
		return text + " LIKE " + param("%"+escapeLike(inner)+"%") + " ESCAPE '!'"
	}
	return text + " IS NOT NULL"
}

// regexLiterals returns what every match of the regular expression re holds: a literal it
// starts with when re is anchored at the start of the text, and the longest literal it holds
// anywhere. Literals that ignore case are left out. A bad re yields nothing; Compile reports
// it.
func regexLiterals(re string) (prefix, inner string) {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", ""
	}
	r = r.Simplify()
	subs := []*syntax.Regexp{r}
	if r.Op == syntax.OpConcat {
		subs = r.Sub
	}
	anchored := len(subs) > 0 && subs[0].Op == syntax.OpBeginText
	run := ""
	atStart := anchored
	for i, s := range subs {
		if anchored && i == 0 {
			continue
		}
		if s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0 {
			run += string(s.Rune)
			continue
		}
		if atStart {
			prefix = run
			atStart = false
		}
		if len(run) > len(inner) {
			inner = run
		}
		run = ""
	}
	if atStart {
		prefix = run
	}
	if len(run) > len(inner) {
		inner = run
	}
	return prefix, inner
}

// escapeLike escapes s for a LIKE pattern whose escape character is likeEscape.
func escapeLike(s string) string { return astvalue.EscapeLike(s, likeEscape) }

// likePattern rewrites a sorcery LIKE pattern, whose escape is the backslash, for the
// escape character likeEscape.
func likePattern(p string) string { return astvalue.RewriteLike(p, likeEscape) }
