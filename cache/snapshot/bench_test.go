package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/cache/snapshot"
)

// benchEndpoint is an object of the size of a PJSIP endpoint as a provisioning service
// returns it: a dozen short fields.
type benchEndpoint struct {
	ID, Context, Transport, AORs, Auth, Allow, DirectMedia, DTMFMode string
	CallerID, MailBoxes, FromDomain, RTPSymmetric, ForceRPort        string
	RewriteContact                                                   string
}

func newBenchEndpoint(i int) benchEndpoint {
	id := fmt.Sprintf("endpoint-%06d", i)
	return benchEndpoint{
		ID: id, Context: "from-internal", Transport: "transport-udp", AORs: id, Auth: id + "-auth",
		Allow: "!all,ulaw,alaw,g722", DirectMedia: "no", DTMFMode: "rfc4733",
		CallerID: fmt.Sprintf(`"Extension %d" <%d>`, i, 100000+i), MailBoxes: fmt.Sprintf("%d@default", 100000+i),
		FromDomain: "pbx.example.com", RTPSymmetric: "yes", ForceRPort: "yes", RewriteContact: "yes",
	}
}

const benchSnapshotObjects = 100_000

// BenchmarkSnapshot100k writes and restores the snapshot of 100,000 endpoints encoded with
// encoding/json (the default).
func BenchmarkSnapshot100k(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "endpoint.snap")
	load := func(ctx context.Context, id string) (benchEndpoint, bool, error) { return benchEndpoint{}, false, nil }
	opts := &cache.Options{LifetimeStale: time.Minute, LifetimeMaximum: time.Hour}
	c, err := cache.New(load, opts)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := snapshot.New(c, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchSnapshotObjects {
		e := newBenchEndpoint(i)
		c.Set(e.ID, e)
	}

	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := snap.Write(ctx); err != nil {
				b.Fatal(err)
			}
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
	})
	if err := snap.Close(); err != nil {
		b.Fatal(err)
	}
	c.Close()

	b.Run("restore", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := cache.New(load, opts)
			if err != nil {
				b.Fatal(err)
			}
			rs, err := snapshot.New(r, path, nil)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := rs.Restore(ctx); err != nil || n != benchSnapshotObjects {
				b.Fatalf("restored %d objects: %v", n, err)
			}
			rs.Close() // writes nothing: nothing changed
			r.Close()
		}
	})
}
