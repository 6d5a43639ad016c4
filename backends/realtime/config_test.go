package realtime_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/backends/realtime"
	"github.com/gosorcery/gosorcery/errors"
)

func TestParseMapping(t *testing.T) {
	cases := []struct {
		value string
		want  realtime.Mapping
	}{
		{"odbc,asterisk", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "ps_endpoints", Priority: 1}},
		{"odbc,asterisk,endpoints", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "endpoints", Priority: 1}},
		{"pgsql,asterisk,ps_endpoints,2", realtime.Mapping{Driver: "pgsql", Database: "asterisk", Table: "ps_endpoints", Priority: 2}},
		{"pgsql, asterisk , ps_endpoints , 3", realtime.Mapping{Driver: "pgsql", Database: "asterisk", Table: "ps_endpoints", Priority: 3}},
		{"odbc,asterisk,,2", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "ps_endpoints", Priority: 2}},
		{`curl,"http://prov.example/pjsip?a=1,b=2",endpoints,2`, realtime.Mapping{Driver: "curl", Database: "http://prov.example/pjsip?a=1,b=2", Table: "endpoints", Priority: 2}},
		{`curl,"http://prov.example/pjsip"`, realtime.Mapping{Driver: "curl", Database: "http://prov.example/pjsip", Table: "ps_endpoints", Priority: 1}},
		{"odbc,asterisk,t,0", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "t", Priority: 1}},
		{"odbc,asterisk,t,x", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "t", Priority: 1}},
		{"odbc,asterisk,t,2nd", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "t", Priority: 2}},
		{"odbc,asterisk,t,2,extra", realtime.Mapping{Driver: "odbc", Database: "asterisk", Table: "t", Priority: 2}},
	}
	for _, c := range cases {
		got, err := realtime.ParseMapping("ps_endpoints", c.value)
		require.NoError(t, err, c.value)
		c.want.Family = "ps_endpoints"
		assert.Equal(t, c.want, got, c.value)
	}
	for _, bad := range []string{"", "odbc", "odbc,", ",asterisk", `curl,"unterminated`, "odbc,asterisk,t,-1"} {
		_, err := realtime.ParseMapping("ps_endpoints", bad)
		assert.ErrorIs(t, err, errors.ErrInvalid, "value %q", bad)
	}
	_, err := realtime.ParseMapping(" ", "odbc,asterisk")
	assert.ErrorIs(t, err, errors.ErrInvalid, "no family")
}

// Whatever a line says, parsing never panics, and what it yields is a usable mapping that
// reads back the same from its String form.
func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{"odbc,asterisk", `curl,"http://x/y,z",t,2`, "pgsql,db,t,3x", `a,"`, `a,b,"c"d,e`, "a,b,c,99999999999999"} {
		f.Add("ps_endpoints", s)
	}
	f.Fuzz(func(t *testing.T, family, value string) {
		m, err := realtime.ParseMapping(family, value)
		if err != nil {
			assert.ErrorIs(t, err, errors.ErrInvalid)
			return
		}
		assert.NotEmpty(t, m.Family)
		assert.NotEmpty(t, m.Driver)
		assert.NotEmpty(t, m.Database)
		assert.NotEmpty(t, m.Table)
		assert.GreaterOrEqual(t, m.Priority, 1)
		// A mapping reads back from its String form, unless it holds what extconfig.conf cannot
		// write: a double quote (Asterisk takes the first one of a line as the start of a quoted
		// database), or a comma in the table (a family with a comma, the table defaulting to it).
		if strings.Contains(m.Database, `"`) || strings.ContainsAny(m.Table, `,"`) {
			return
		}
		again, err := realtime.ParseMapping(m.Family, m.String()[len(m.Family)+len(" => "):])
		require.NoError(t, err, "mapping %+v written as %q", m, m.String())
		assert.Equal(t, m, again, "mapping written as %q", m.String())
	})
}

func TestConfigChains(t *testing.T) {
	src := `
[general]
ignored => odbc,nothing

[settings]
ps_endpoints => pgsql,main
ps_endpoints => pgsql,replica,ps_endpoints,2
PS_AUTHS = odbc,main,ps_auths,1
ps_auths => odbc,old,ps_auths,2
ps_auths => mysql,new,ps_auths,2     ; a repeated priority replaces the earlier line
ps_aors => odbc,main,ps_aors,1
ps_aors => odbc,far,ps_aors,3        ; a gap ends the chain: never used
ps_contacts => odbc,main,ps_contacts,2 ; no priority 1: no chain
sipfriends => mysql,main
iaxfriends => mysql,main,iax,1
extconfig.conf => odbc,main
`
	c, err := realtime.ParseConfig("extconfig.conf", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []string{"iaxpeers", "iaxusers", "ps_aors", "PS_AUTHS", "ps_endpoints", "sipfriends"}, c.Families())

	eps := c.Family("PS_Endpoints")
	require.Len(t, eps, 2)
	assert.Equal(t, "main", eps[0].Database)
	assert.Equal(t, "replica", eps[1].Database)
	assert.Equal(t, 6, eps[0].Line, "line of the mapping")

	auths := c.Family("ps_auths")
	require.Len(t, auths, 2)
	assert.Equal(t, "mysql", auths[1].Driver)
	assert.Equal(t, "new", auths[1].Database)

	assert.Len(t, c.Family("ps_aors"), 1)
	assert.Nil(t, c.Family("ps_contacts"))
	assert.Nil(t, c.Family("ignored"))
	assert.Nil(t, c.Family("extconfig.conf"))

	assert.Nil(t, c.Family("sippeers"), "main/config.c no longer aliases sipfriends to sippeers")
	sip := c.Family("sipfriends")
	require.Len(t, sip, 1)
	assert.Equal(t, "sipfriends", sip[0].Table)
	iax := c.Family("iaxusers")
	require.Len(t, iax, 1)
	assert.Equal(t, "iax", iax[0].Table)

	_, err = realtime.ParseConfig("extconfig.conf", []byte("[settings]\nps_endpoints => odbc\n"))
	assert.ErrorIs(t, err, errors.ErrInvalid)
	assert.ErrorContains(t, err, "extconfig.conf:2", "the error says where")
}

func TestReadConfigFollowsIncludes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extconfig.conf"), []byte("[settings]\n#include \"pjsip_realtime.conf\"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pjsip_realtime.conf"), []byte("ps_endpoints => odbc,asterisk\n"), 0o600))
	c, err := realtime.ReadConfig(filepath.Join(dir, "extconfig.conf"))
	require.NoError(t, err)
	eps := c.Family("ps_endpoints")
	require.Len(t, eps, 1)
	assert.Equal(t, filepath.Join(dir, "pjsip_realtime.conf"), eps[0].File)

	_, err = realtime.ReadConfig(filepath.Join(dir, "missing.conf"))
	assert.Error(t, err)
}
