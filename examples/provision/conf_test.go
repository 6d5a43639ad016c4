package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
)

// fieldsOf returns "name=value" for each field of o, in order.
func fieldsOf(o *object) []string {
	out := make([]string, len(o.fields))
	for i, f := range o.fields {
		out[i] = f.Name + "=" + f.Value
	}
	return out
}

func TestConfObjectsResolveTemplatesIncludesAndOverrides(t *testing.T) {
	set, err := loadConf(context.Background(), testConf)
	require.NoError(t, err)
	assert.Equal(t, "4 endpoints, 4 auths, 4 aors, 1 identify, 1 domain_alias, 1 registration, 1 transport, 1 global", set.count())

	endpoint, auth, aor := lookupType("endpoint"), lookupType("auth"), lookupType("aor")

	bob := set.get(endpoint, "1002")
	require.NotNil(t, bob)
	assert.Equal(t, []string{
		"context=from-internal",
		"direct_media=no", "rtp_symmetric=yes", "force_rport=yes", "rewrite_contact=yes",
		"dtmf_mode=rfc4733",
		"language=fr", // Bob's own value, at the template's place
		"auth=1002", "aors=1002", `callerid="Bob Builder" <1002>`,
		"disallow=all", "allow=g722,alaw", // Bob's disallow=all cancels the template's codec lines
	}, fieldsOf(bob))
	assert.Equal(t, location{testUsers, 16}, bob.where)
	assert.Equal(t, location{testUsers, 22}, bob.at[6], "language= is where Bob's line is")
	assert.Equal(t, location{testConf, 24}, bob.at[0], "context= is where the template's line is")

	reception := set.get(endpoint, "1003")
	require.NotNil(t, reception)
	assert.Equal(t, []string{"CHANNEL(language)=en", "GROUP()=reception"}, reception.fields.Values("set_var"))
	assert.Equal(t, []string{"opus", "g722", "ulaw"}, reception.fields.Values("allow"))
	assert.Equal(t, "Reception <1003>", reception.fields.Value("callerid"), "added by [1003](+type=^endpoint$)")

	alice := set.get(auth, "1001")
	require.NotNil(t, alice)
	assert.Equal(t, []string{"auth_type=userpass", "realm=office.example.com", "username=1001", "password=Secr3t;1001"}, fieldsOf(alice))
	assert.Nil(t, set.get(auth, "1001").fields.Values("callerid"), "the auth [1001] is not the endpoint [1001]")

	bobAOR := set.get(aor, "1002")
	require.NotNil(t, bobAOR)
	assert.Equal(t, []string{"max_contacts=3", "remove_existing=no", "qualify_frequency=60"}, fieldsOf(bobAOR))

	assert.Nil(t, set.get(endpoint, "endpoint-phone"), "templates are not objects")
}

func TestEffectiveAppliesOptionsAsAsteriskDoes(t *testing.T) {
	endpoint, aor, transport, global := lookupType("endpoint"), lookupType("aor"), lookupType("transport"), lookupType("global")
	tests := []struct {
		name string
		typ  *objectType
		in   []string
		want []string
	}{
		{"a later line overrides a plain option in place", endpoint,
			[]string{"context=a", "language=en", "Context=b"}, []string{"context=b", "language=en"}},
		{"codec lines accumulate", endpoint,
			[]string{"allow=ulaw", "allow=alaw", "disallow=g729"}, []string{"allow=ulaw", "allow=alaw", "disallow=g729"}},
		{"disallow=all cancels the codec lines before it", endpoint,
			[]string{"disallow=all", "allow=ulaw", "context=x", "disallow=all", "allow=opus"},
			[]string{"context=x", "disallow=all", "allow=opus"}},
		{"disallow naming all in a list cancels too", endpoint,
			[]string{"allow=ulaw", "disallow=g729, ALL"}, []string{"disallow=g729, ALL"}},
		{"acl and set_var lines accumulate", endpoint,
			[]string{"deny=0.0.0.0/0", "permit=10.0.0.0/8", "permit=192.168.0.0/16", "set_var=A=1", "set_var=B=2"},
			[]string{"deny=0.0.0.0/0", "permit=10.0.0.0/8", "permit=192.168.0.0/16", "set_var=A=1", "set_var=B=2"}},
		{"an aor's contacts accumulate", aor,
			[]string{"contact=sip:a@x", "max_contacts=1", "contact=sip:b@x", "max_contacts=2"},
			[]string{"contact=sip:a@x", "max_contacts=2", "contact=sip:b@x"}},
		{"codec rules are the endpoint's only", aor,
			[]string{"mailboxes=1@a", "disallow=all", "mailboxes=2@a"}, []string{"mailboxes=2@a", "disallow=all"}},
		{"a transport's local_net lines accumulate", transport,
			[]string{"local_net=10.0.0.0/8", "bind=0.0.0.0", "local_net=192.168.0.0/16"},
			[]string{"local_net=10.0.0.0/8", "bind=0.0.0.0", "local_net=192.168.0.0/16"}},
		{"a type not modelled keeps every line", global,
			[]string{"user_agent=a", "user_agent=b"}, []string{"user_agent=a", "user_agent=b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in sorcery.Fields
			var at []location
			for i, s := range tt.in {
				name, value, _ := strings.Cut(s, "=")
				in.Add(name, value)
				at = append(at, location{"f.conf", i + 1})
			}
			got, gotAt := effective(tt.typ, in, at)
			o := &object{typ: tt.typ, fields: got}
			assert.Equal(t, tt.want, fieldsOf(o), "%v", tt.in)
			require.Len(t, gotAt, len(got))
			for i, f := range got {
				line := tt.in[gotAt[i].Line-1]
				name, value, _ := strings.Cut(line, "=")
				assert.True(t, name == f.Name || name == "Context", "field %d at the line that set it: %s", i, line)
				assert.Equal(t, value, f.Value, "field %d at the line that set it", i)
			}
		})
	}
}

func TestConfErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // the error, after "provision: ", with DIR for the directory
	}{
		{"syntax error in an included file",
			map[string]string{"pjsip.conf": "[a]\ntype=aor\n#include inc.conf\n", "inc.conf": "; users\n[b]\nnot an option\n"},
			"DIR/inc.conf:3: not a name = value line (13 bytes, not quoted: values carry passwords)"},
		{"missing include",
			map[string]string{"pjsip.conf": "[a]\ntype=aor\n\n#include nowhere.conf\n"},
			"DIR/pjsip.conf:4: "},
		{"category without type",
			map[string]string{"pjsip.conf": "[a]\ntype=aor\n\n[base]\ncontext=x\n"},
			"DIR/pjsip.conf:4: [base] has no type=; a category only inherited from is a template: [base](!)"},
		{"unknown type",
			map[string]string{"pjsip.conf": "[a]\ncontext=x\ntype=endpiont\n"},
			"DIR/pjsip.conf:3: [a]: unknown type=endpiont; known types: endpoint,auth,aor,"},
		{"two types",
			map[string]string{"pjsip.conf": "[tpl](!)\ntype=aor\n[a](tpl)\ntype=endpoint\n"},
			"DIR/pjsip.conf:4: [a]: type=endpoint, but type=aor at DIR/pjsip.conf:2"},
		{"an object defined twice",
			map[string]string{"pjsip.conf": "[a]\ntype=aor\n[a]\ntype=endpoint\n[a]\ntype=aor\n"},
			"DIR/pjsip.conf:5: aor a is defined twice: first at DIR/pjsip.conf:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			want := "provision: " + strings.ReplaceAll(tt.want, "DIR", dir)
			for _, args := range [][]string{
				{"import", filepath.Join(dir, "pjsip.conf"), "-db", sqliteDB(t)},
				{"diff", filepath.Join(dir, "pjsip.conf"), testConf},
			} {
				code, out, errOut := runTool(t, args...)
				assert.NotEqual(t, exitOK, code, "%v", args)
				assert.Empty(t, out)
				assert.Contains(t, errOut, want, "%v", args)
			}
		})
	}
}

func TestReportListsFiftyProblemsAndCountsTheRest(t *testing.T) {
	var ps problems
	for i := 1; i <= 60; i++ {
		ps = append(ps, problemf(location{"pjsip.conf", i}, "problem %d", i))
	}
	var buf strings.Builder
	report(&buf, ps)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 51)
	assert.Equal(t, "provision: pjsip.conf:1: problem 1", lines[0])
	assert.Equal(t, "provision: pjsip.conf:50: problem 50", lines[49])
	assert.Equal(t, "provision: … and 10 more", lines[50])

	buf.Reset()
	report(&buf, errors.Errorf("database x: %w", errors.ErrUnavailable))
	assert.Equal(t, "provision: database x: source unavailable\n", buf.String())
}
