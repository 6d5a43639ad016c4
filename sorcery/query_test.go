package sorcery_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestParseCondition(t *testing.T) {
	cases := []struct {
		name string
		want sorcery.Condition
	}{
		{"context", sorcery.Condition{Field: "context", Op: sorcery.OpEqual, Value: "v"}},
		{"name LIKE", sorcery.Condition{Field: "name", Op: sorcery.OpLike, Value: "v"}},
		{"name like", sorcery.Condition{Field: "name", Op: sorcery.OpLike, Value: "v"}},
		{"qualify_frequency >", sorcery.Condition{Field: "qualify_frequency", Op: sorcery.OpGreater, Value: "v"}},
		{"n >=", sorcery.Condition{Field: "n", Op: sorcery.OpGreaterEqual, Value: "v"}},
		{"n <", sorcery.Condition{Field: "n", Op: sorcery.OpLess, Value: "v"}},
		{"n <=", sorcery.Condition{Field: "n", Op: sorcery.OpLessEqual, Value: "v"}},
		{"n !=", sorcery.Condition{Field: "n", Op: sorcery.OpNotEqual, Value: "v"}},
		{"n <>", sorcery.Condition{Field: "n", Op: sorcery.OpNotEqual, Value: "v"}},
		{"n =", sorcery.Condition{Field: "n", Op: sorcery.OpEqual, Value: "v"}},
		{"id REGEXP", sorcery.Condition{Field: "id", Op: sorcery.OpRegex, Value: "v"}},
		{" id ~ ", sorcery.Condition{Field: "id", Op: sorcery.OpRegex, Value: "v"}},
	}
	for _, tc := range cases {
		got, err := sorcery.ParseCondition(tc.name, "v")
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	for _, bad := range []string{"", " ", "n BETWEEN", "n = ="} {
		_, err := sorcery.ParseCondition(bad, "v")
		assert.ErrorIs(t, err, errors.ErrInvalid, "%q", bad)
	}
	c, _ := sorcery.ParseCondition("qualify_frequency >", "5")
	assert.Equal(t, "qualify_frequency >", c.Name())
	c, _ = sorcery.ParseCondition("context", "x")
	assert.Equal(t, "context", c.Name())
}

func TestMatcher(t *testing.T) {
	r := rec("alice", "context", "default", "max_contacts", "5", "allow", "ulaw", "allow", "alaw", "name", "50% off_")
	cases := []struct {
		q    sorcery.Query
		want bool
	}{
		{sorcery.Query{}, true},
		{sorcery.Query{IDPrefix: "al"}, true},
		{sorcery.Query{IDPrefix: "AL"}, false},
		{sorcery.Query{IDRegex: "ice$"}, true},
		{sorcery.Query{IDRegex: "^ice"}, false},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "context", Op: sorcery.OpEqual, Value: "default"}}}, true},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "missing", Op: sorcery.OpNotEqual, Value: "x"}}}, false},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "max_contacts", Op: sorcery.OpGreater, Value: "10"}}}, false},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "max_contacts", Op: sorcery.OpLess, Value: "10"}}}, true},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "allow", Op: sorcery.OpEqual, Value: "alaw"}}}, true},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.OpLike, Value: `50\% off\_`}}}, true},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.OpLike, Value: `50\%_off%`}}}, true},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.OpLike, Value: `5_\%`}}}, false},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "id", Op: sorcery.OpRegex, Value: "^a.i"}}}, true},
		{sorcery.Query{Conditions: []sorcery.Condition{{Field: "ID", Op: sorcery.OpEqual, Value: "alice"}}}, true},
	}
	for _, tc := range cases {
		m, err := tc.q.Compile()
		require.NoError(t, err, "%+v", tc.q)
		assert.Equal(t, tc.want, m.Match(r), "%+v", tc.q)
	}
	_, err := sorcery.Query{Conditions: []sorcery.Condition{{Field: "x", Op: sorcery.OpRegex, Value: "("}}}.Compile()
	assert.ErrorIs(t, err, errors.ErrInvalid)
	_, err = sorcery.Query{Conditions: []sorcery.Condition{{Field: "x", Op: sorcery.Op(99)}}}.Compile()
	assert.ErrorIs(t, err, errors.ErrInvalid)
}

func TestEscapeLikeMatchesTheTextItself(t *testing.T) {
	assert.Equal(t, `a\%b\_c\\d`, sorcery.EscapeLike(`a%b_c\d`))
	assert.Equal(t, "plain", sorcery.EscapeLike("plain"))
	m, err := sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.OpLike, Value: "%" + sorcery.EscapeLike("100%_") + "%"}}}.Compile()
	require.NoError(t, err)
	assert.True(t, m.Match(sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "name", Value: "a 100%_ b"}}}))
	assert.False(t, m.Match(sorcery.Record{ID: "a", Fields: sorcery.Fields{{Name: "name", Value: "a 1000x b"}}}))
}

func TestFields(t *testing.T) {
	var f sorcery.Fields
	f.Add("allow", "ulaw")
	f.Add("context", "a")
	f.Add("Allow", "alaw")
	assert.Equal(t, []string{"ulaw", "alaw"}, f.Values("ALLOW"))
	v, ok := f.Get("context")
	assert.True(t, ok)
	assert.Equal(t, "a", v)
	assert.False(t, f.Has("nope"))
	assert.Equal(t, []string{"allow", "context"}, f.Names())
	f.Set("allow", "opus")
	assert.Equal(t, sorcery.Fields{{Name: "allow", Value: "opus"}, {Name: "context", Value: "a"}}, f)
	f.Set("new", "x")
	f.Del("context")
	assert.Equal(t, sorcery.Fields{{Name: "allow", Value: "opus"}, {Name: "new", Value: "x"}}, f)
	c := f.Clone()
	c[0].Value = "changed"
	assert.Equal(t, "opus", f[0].Value)
	assert.Nil(t, sorcery.Fields(nil).Clone())
}

func TestLikeWithInvalidUTF8MatchesInsteadOfPanicking(t *testing.T) {
	q := sorcery.Query{Conditions: []sorcery.Condition{{Field: "name", Op: sorcery.OpLike, Value: "a\x9d%"}}}
	m, err := q.Compile()
	require.NoError(t, err, "a LIKE pattern with a byte that is not UTF-8 (found by FuzzParseCondition)")
	assert.True(t, m.Match(rec("x", "name", "a\x9dz")))
	assert.False(t, m.Match(rec("x", "name", "abz")))
}
