package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/backends/config"
	"github.com/gosorcery/gosorcery/sorcery"
)

// genPjsip returns a pjsip.conf of n users, each an endpoint, an auth and an aor sharing one
// id and built on templates, as a large deployment writes it.
func genPjsip(n int) string {
	var b strings.Builder
	b.WriteString(`[transport-udp]
type=transport
protocol=udp
bind=0.0.0.0:5060

[phone](!)
type=endpoint
context=from-internal
disallow=all
allow=g722
allow=ulaw
allow=alaw
direct_media=no
rtp_symmetric=yes
force_rport=yes
rewrite_contact=yes
dtmf_mode=rfc4733

[user-auth](!)
type=auth
auth_type=userpass

[one-contact](!)
type=aor
max_contacts=1
remove_existing=yes
qualify_frequency=60
`)
	for i := range n {
		id := fmt.Sprintf("u%05d", i)
		fmt.Fprintf(&b, `
; user %d
[%s](phone)
callerid="User %d" <%d>
auth=%s
aors=%s
mailboxes=%d@default

[%s](user-auth)
username=%s
password=pw-%x

[%s](one-contact)
`, i, id, i, 10000+i, id, id, 10000+i, id, id, i*7919, id)
	}
	return b.String()
}

// benchFile writes a generated pjsip.conf of n users once per benchmark, settled in the past.
func benchFile(b *testing.B, n int) (path string, size int) {
	b.Helper()
	data := genPjsip(n)
	path = filepath.Join(b.TempDir(), "pjsip.conf")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		b.Fatal(err)
	}
	return path, len(data)
}

func BenchmarkParse10kEndpoints(b *testing.B) {
	path, size := benchFile(b, 10000)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		f, err := config.ParseFile(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Categories) != 3*10000+4 {
			b.Fatalf("%d categories", len(f.Categories))
		}
	}
}

func BenchmarkNew10kEndpoints(b *testing.B) {
	path, size := benchFile(b, 10000)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		w, err := config.New(path, &config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}})
		if err != nil {
			b.Fatal(err)
		}
		if n := w.Stats().Objects; n != 10000 {
			b.Fatalf("%d endpoints", n)
		}
	}
}

func benchWizard(b *testing.B) *config.Wizard {
	b.Helper()
	path, _ := benchFile(b, 10000)
	w, err := config.New(path, &config.Options{Criteria: sorcery.Fields{{Name: "type", Value: "endpoint"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	return w
}

func benchIDs() []string {
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%05d", i*9%10000)
	}
	return ids
}

func BenchmarkRetrieveHit(b *testing.B) {
	w := benchWizard(b)
	ids := benchIDs()
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, found, err := w.Retrieve(ctx, ids[i%len(ids)]); err != nil || !found {
			b.Fatal(found, err)
		}
		i++
	}
}

func BenchmarkRetrieveHitParallel(b *testing.B) {
	w := benchWizard(b)
	ids := benchIDs()
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, found, err := w.Retrieve(ctx, ids[i%len(ids)]); err != nil || !found {
				b.Error(found, err)
				return
			}
			i++
		}
	})
}

func BenchmarkRetrieveMiss(b *testing.B) {
	w := benchWizard(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := w.Retrieve(ctx, "nobody"); err != nil || found {
			b.Fatal(found, err)
		}
	}
}

func BenchmarkSearchByField10k(b *testing.B) {
	w := benchWizard(b)
	ctx := b.Context()
	q := sorcery.Query{Conditions: []sorcery.Condition{{Field: "mailboxes", Op: sorcery.OpEqual, Value: "15000@default"}}}
	b.ReportAllocs()
	for b.Loop() {
		rs, err := w.Search(ctx, q)
		if err != nil || len(rs) != 1 {
			b.Fatal(len(rs), err)
		}
	}
}

func BenchmarkReloadUnchanged10k(b *testing.B) {
	w := benchWizard(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Reload(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if w.Stats().Parses != 1 {
		b.Fatalf("%d parses", w.Stats().Parses)
	}
}
