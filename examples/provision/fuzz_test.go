package main

import (
	"strings"
	"testing"
)

// FuzzParseDB feeds arbitrary -db specs to the parser: no panic, and a password written as
// user:password@ (here the user u and the password s3cr3t) never shows in an error or in the
// name used for messages. The corpus keeps the spec that once leaked one.
func FuzzParseDB(f *testing.F) {
	for _, s := range []string{
		"sqlite:provision.db", "sqlite://x.db?_pragma=foreign_keys(1)", "postgres://u:s3cr3t@127.0.0.1:5432/test?sslmode=disable",
		"mysql://rootu:s3cr3t@127.0.0.1:3306/test", "mysql:rootu:s3cr3t@tcp(127.0.0.1:3306)/test", "mariadb:", "oracle://x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := parseDB(s)
		if err != nil {
			if strings.Contains(s, "u:s3cr3t@") && strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("parseDB(%q): error %q shows the password", s, err)
			}
			return
		}
		if strings.Contains(s, "u:s3cr3t@") && strings.Contains(spec.name, "s3cr3t") && spec.driver != "sqlite" {
			t.Fatalf("parseDB(%q): name %q shows the password", s, spec.name)
		}
	})
}
