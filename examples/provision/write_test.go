package main

import (
	"bytes"
	"database/sql"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/sorcery"
)

func TestWrittenValuesReadBackTheSame(t *testing.T) {
	values := []string{
		"plain",
		"a;b",                    // a semicolon would start a comment
		`a\;b`,                   // a backslash before a semicolon stays
		`ends with a backslash\`, // nothing follows it on the line
		";-- not a block comment --;",
		"--; not the end of one",
		">starts with greater-than", // name=>value is name => value
		"=starts with equals",
		"x=y=z",
		"[bracketed]",
		"#include not a directive",
		`"quoted" <1001>`,
		"ünïcödé ☎",
		"inner   white\tspace",
	}
	var fields sorcery.Fields
	for _, v := range values {
		fields.Add("set_var", v)
	}
	objs := []*object{
		{typ: lookupType("endpoint"), id: "id;with;semicolons", fields: fields},
		{typ: lookupType("endpoint"), id: "[odd(id)", fields: sorcery.Fields{{Name: "context", Value: "x"}}},
	}
	var buf bytes.Buffer
	require.NoError(t, writeConf(&buf, "test", objs))

	f, err := config.Parse("export.conf", buf.Bytes(), nil)
	require.NoError(t, err, buf.String())
	require.Len(t, f.Categories, 2, buf.String())
	assert.Equal(t, "id;with;semicolons", f.Categories[0].Name)
	assert.Equal(t, "endpoint", f.Categories[0].Vars[0].Value, "type= first")
	assert.Equal(t, values, f.Categories[0].Values("set_var"), buf.String())
	assert.Equal(t, "[odd(id)", f.Categories[1].Name)
}

func TestWriteRefusesWhatPjsipConfCannotHold(t *testing.T) {
	endpoint := lookupType("endpoint")
	tests := []struct {
		name string
		obj  *object
		want string
	}{
		{"a line feed in a value", &object{typ: endpoint, id: "1", fields: sorcery.Fields{{Name: "callerid", Value: "a\nb"}}},
			"endpoint 1: the value of callerid holds a line break or a NUL byte, which pjsip.conf cannot hold"},
		{"white space at the end of a value", &object{typ: endpoint, id: "1", fields: sorcery.Fields{{Name: "callerid", Value: "Alice "}}},
			"endpoint 1: the value of callerid has white space at an end, which pjsip.conf trims"},
		{"']' in an id", &object{typ: endpoint, id: "a]b"},
			`endpoint a]b: the id holds ']', which ends a category name`},
		{"an empty id", &object{typ: endpoint, id: ""},
			`endpoint "": the id is empty`},
		{"an option called type", &object{typ: endpoint, id: "1", fields: sorcery.Fields{{Name: "type", Value: "aor"}}},
			`endpoint 1: option "type" is type, which names the object's type`},
		{"a name ending with +", &object{typ: endpoint, id: "1", fields: sorcery.Fields{{Name: "allow+", Value: "ulaw"}}},
			`endpoint 1: option "allow+" ends with '+', which would make the line a += line`},
		{"a line too long", &object{typ: endpoint, id: "1", fields: sorcery.Fields{{Name: "callerid", Value: strings.Repeat("x", config.MaxLineLength)}}},
			"endpoint 1: the line of callerid would be 8199 bytes long, over the limit of 8190"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := writeConf(&buf, "test", []*object{tt.obj})
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.Zero(t, buf.Len(), "nothing written")
		})
	}
}

func TestExportRefusesRowsPjsipConfCannotHold(t *testing.T) {
	db := sqliteDB(t)
	mustRun(t, exitOK, "import", testConf, "-db", db, "-types", "endpoint")
	sqlDB, err := sql.Open("sqlite", strings.TrimPrefix(db, "sqlite:"))
	require.NoError(t, err)
	defer sqlDB.Close()
	_, err = sqlDB.Exec("UPDATE ps_endpoints SET callerid = 'Alice' || char(10) || '<1001>' WHERE id = '1001'")
	require.NoError(t, err)

	code, out, errOut := runTool(t, "export", "-db", db)
	assert.Equal(t, exitFailure, code)
	assert.Empty(t, out, "nothing written")
	assert.Equal(t, "provision: endpoint 1001: the value of callerid holds a line break or a NUL byte, which pjsip.conf cannot hold\n", errOut)
}
