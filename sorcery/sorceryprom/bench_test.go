package sorceryprom_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryprom"
)

// BenchmarkRetrieveHit measures Type.Retrieve answered by the cache without and with a
// collector registered and scraped: the collector reads counters at scrape time and adds
// nothing to the hit path.
func BenchmarkRetrieveHit(b *testing.B) {
	for _, withCollector := range []bool{false, true} {
		name := "without_collector"
		if withCollector {
			name = "with_collector"
		}
		b.Run(name, func(b *testing.B) {
			s, aors, src := newSorcery(b)
			defer s.Close()
			src.Put(sorcery.Record{ID: "alice"})
			ctx := b.Context()
			if _, found, err := aors.Retrieve(ctx, "alice"); !found || err != nil {
				b.Fatal(found, err)
			}
			var reg *prometheus.Registry
			if withCollector {
				reg = prometheus.NewPedanticRegistry()
				require.NoError(b, reg.Register(sorceryprom.NewCollector(s, nil)))
				_, err := reg.Gather()
				require.NoError(b, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, found, _ := aors.Retrieve(ctx, "alice"); !found {
					b.Fatal("miss")
				}
			}
			b.StopTimer()
			if reg != nil {
				_, err := reg.Gather()
				require.NoError(b, err)
			}
		})
	}
}
