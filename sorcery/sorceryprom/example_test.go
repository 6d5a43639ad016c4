package sorceryprom_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/errors"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorceryprom"
)

// Serve a Sorcery's metrics on /metrics with promhttp, on a registry of your own.
func Example() {
	s := sorcery.New(&sorcery.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()
	type Aor struct {
		ID string `sorcery:"id"`
	}
	aors, _ := sorcery.Register[Aor](s, "aor", nil)
	aors.AddCache(&cache.Options{Name: "aors"})
	src := memory.New()
	aors.AddWizard("provisioning", src, nil)
	src.Put(sorcery.Record{ID: "alice"})

	reg := prometheus.NewRegistry()
	reg.MustRegister(sorceryprom.NewCollector(s, nil))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	aors.Retrieve(ctx, "alice") // a miss, loaded
	aors.Retrieve(ctx, "alice") // a hit
	src.SetError(errors.ErrUnavailable)
	aors.Retrieve(ctx, "bob") // the source fails

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "sorcery_wizard_calls_total") || strings.HasPrefix(line, "sorcery_type_degraded") ||
			strings.HasPrefix(line, `sorcery_cache_requests_total{cache="aors",result="hit"`) {
			fmt.Println(line)
		}
	}
	// Output:
	// sorcery_cache_requests_total{cache="aors",result="hit",type="aor"} 1
	// sorcery_type_degraded{type="aor"} 1
	// sorcery_wizard_calls_total{operation="retrieve",outcome="error",type="aor",wizard="provisioning"} 1
	// sorcery_wizard_calls_total{operation="retrieve",outcome="found",type="aor",wizard="provisioning"} 1
	// sorcery_wizard_calls_total{operation="retrieve",outcome="not_found",type="aor",wizard="provisioning"} 0
}
