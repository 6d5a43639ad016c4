package sorcery

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/internal/astvalue"
)

// Op is a comparison of a [Condition].
type Op int

// The comparisons a [Condition] can make. Ordering comparisons are numeric when both sides
// are numbers and byte-wise otherwise; a database compares by its column's type.
const (
	OpEqual        Op = iota // field = value
	OpNotEqual               // field != value
	OpLess                   // field < value
	OpLessEqual              // field <= value
	OpGreater                // field > value
	OpGreaterEqual           // field >= value
	OpLike                   // field LIKE value: % is any run, _ any one character, \ escapes
	OpRegex                  // field matches the regular expression value (unanchored)
)

var opNames = [...]string{
	OpEqual:        "=",
	OpNotEqual:     "!=",
	OpLess:         "<",
	OpLessEqual:    "<=",
	OpGreater:      ">",
	OpGreaterEqual: ">=",
	OpLike:         "LIKE",
	OpRegex:        "REGEXP",
}

// String returns the operator as Asterisk's realtime engines write it: "=", "!=", "<", "<=",
// ">", ">=", "LIKE" or "REGEXP".
func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// parseOp parses an operator as written after a field name in Asterisk's realtime lookups.
// It accepts =, ==, !=, <>, <, <=, >, >=, LIKE, REGEXP and ~, the words in any case.
func parseOp(s string) (Op, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "=", "==":
		return OpEqual, nil
	case "!=", "<>":
		return OpNotEqual, nil
	case "<":
		return OpLess, nil
	case "<=":
		return OpLessEqual, nil
	case ">":
		return OpGreater, nil
	case ">=":
		return OpGreaterEqual, nil
	case "LIKE":
		return OpLike, nil
	case "REGEXP", "~":
		return OpRegex, nil
	}
	return 0, errors.Errorf("unknown operator %q: %w", s, errors.ErrInvalid)
}

// Condition is one test a [Query] makes of an object's field. The field "id" is the object id.
type Condition struct {
	Field string
	Op    Op
	Value string
}

// ParseCondition parses a field name carrying an operator, the way Asterisk's realtime
// lookups write it — "name LIKE", "qualify_frequency >", or a bare "name" for equality — and
// pairs it with value.
func ParseCondition(name, value string) (Condition, error) {
	name = strings.TrimSpace(name)
	field, op, hasOp := strings.Cut(name, " ")
	if field == "" {
		return Condition{}, errors.Errorf("condition %q has no field name: %w", name, errors.ErrInvalid)
	}
	c := Condition{Field: field, Op: OpEqual, Value: value}
	if hasOp {
		o, err := parseOp(op)
		if err != nil {
			return Condition{}, errors.Errorf("condition %q: %w", name, err)
		}
		c.Op = o
	}
	return c, nil
}

// Name returns the field name with its operator as Asterisk's realtime protocols carry it:
// the bare field for equality, "field OP" otherwise.
func (c Condition) Name() string {
	if c.Op == OpEqual {
		return c.Field
	}
	return c.Field + " " + c.Op.String()
}

// String returns the condition as "field OP value".
func (c Condition) String() string {
	return c.Field + " " + c.Op.String() + " " + strconv.Quote(c.Value)
}

// Query selects objects. Every condition must hold, the id must match IDRegex when it is set
// and start with IDPrefix when it is set; the zero Query selects every object.
type Query struct {
	Conditions []Condition // all must hold; none means every object
	IDRegex    string      // regular expression on the id, unanchored
	IDPrefix   string      // the id starts with it
}

// IsAll reports whether q selects every object.
func (q Query) IsAll() bool {
	return len(q.Conditions) == 0 && q.IDRegex == "" && q.IDPrefix == ""
}

// Matcher is a compiled [Query] for wizards that search in memory.
type Matcher struct {
	q     Query
	idRE  *regexp.Regexp
	conds []compiledCondition
}

type compiledCondition struct {
	Condition
	re   *regexp.Regexp
	num  float64
	isNu bool
}

// Compile checks q and prepares it for [Matcher.Match]. A bad regular expression or operator
// is errors.ErrInvalid.
func (q Query) Compile() (*Matcher, error) {
	m := &Matcher{q: q}
	if q.IDRegex != "" {
		re, err := regexp.Compile(q.IDRegex)
		if err != nil {
			return nil, errors.Errorf("id regex %q: %w: %w", q.IDRegex, err, errors.ErrInvalid)
		}
		m.idRE = re
	}
	for _, c := range q.Conditions {
		cc := compiledCondition{Condition: c}
		switch c.Op {
		case OpEqual, OpNotEqual:
		case OpLess, OpLessEqual, OpGreater, OpGreaterEqual:
			if f, err := strconv.ParseFloat(strings.TrimSpace(c.Value), 64); err == nil {
				cc.num, cc.isNu = f, true
			}
		case OpLike:
			re, err := regexp.Compile(astvalue.LikeRegexp(c.Value))
			if err != nil {
				return nil, errors.Errorf("condition %s: %w: %w", c, err, errors.ErrInvalid)
			}
			cc.re = re
		case OpRegex:
			re, err := regexp.Compile(c.Value)
			if err != nil {
				return nil, errors.Errorf("condition %s: %w: %w", c, err, errors.ErrInvalid)
			}
			cc.re = re
		default:
			return nil, errors.Errorf("condition on %q: unknown operator %d: %w", c.Field, int(c.Op), errors.ErrInvalid)
		}
		m.conds = append(m.conds, cc)
	}
	return m, nil
}

// Query returns the query m was compiled from.
func (m *Matcher) Query() Query { return m.q }

// Match reports whether r satisfies the query. A condition on a field r lacks does not hold,
// as with SQL's NULL; on a field with several values it holds when one of them satisfies it.
func (m *Matcher) Match(r Record) bool {
	if m.q.IDPrefix != "" && !strings.HasPrefix(r.ID, m.q.IDPrefix) {
		return false
	}
	if m.idRE != nil && !m.idRE.MatchString(r.ID) {
		return false
	}
	for i := range m.conds {
		if !m.conds[i].holds(r) {
			return false
		}
	}
	return true
}

func (c *compiledCondition) holds(r Record) bool {
	if strings.EqualFold(c.Field, "id") {
		return c.test(r.ID)
	}
	for i := range r.Fields {
		if strings.EqualFold(r.Fields[i].Name, c.Field) && c.test(r.Fields[i].Value) {
			return true
		}
	}
	return false
}

func (c *compiledCondition) test(v string) bool {
	switch c.Op {
	case OpEqual:
		return v == c.Value
	case OpNotEqual:
		return v != c.Value
	case OpLike, OpRegex:
		return c.re.MatchString(v)
	}
	var cmp int
	if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && c.isNu {
		switch {
		case f < c.num:
			cmp = -1
		case f > c.num:
			cmp = 1
		}
	} else {
		cmp = strings.Compare(v, c.Value)
	}
	switch c.Op {
	case OpLess:
		return cmp < 0
	case OpLessEqual:
		return cmp <= 0
	case OpGreater:
		return cmp > 0
	default: // OpGreaterEqual
		return cmp >= 0
	}
}

// EscapeLike escapes s for use inside a LIKE pattern ([OpLike]), whose escape character is
// the backslash, so that %, _ and \ in s match themselves. A program needs it to search for
// text it does not control: Condition{Field: "callerid", Op: OpLike, Value: "%" +
// EscapeLike(name) + "%"}.
func EscapeLike(s string) string { return astvalue.EscapeLike(s, '\\') }
