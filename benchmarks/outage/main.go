// Command outage measures what a reader sees through a provisioning outage and its recovery:
// read latency (p50, p99, max) and calls reaching the source, per half second, for a chain
// cache → curl → provisioning service on loopback. It writes a CSV and an SVG chart.
//
//	go run ./outage -o ../docs          # from the benchmarks module
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosorcery/gosorcery/backends/curl"
	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/cache"
	"github.com/gosorcery/gosorcery/sorcery"
)

type Auth struct {
	ID       string `sorcery:"id"`
	Username string `sorcery:"username"`
	Password string `sorcery:"password"`
}

type config struct {
	objects  int
	readers  int
	interval time.Duration // between two reads of one reader
	bucket   time.Duration
	phases   [3]time.Duration // before, during and after the outage
	stale    time.Duration
	out      string
}

func main() {
	var c config
	flag.IntVar(&c.objects, "objects", 2000, "objects at the source")
	flag.IntVar(&c.readers, "readers", 4, "reading goroutines")
	flag.DurationVar(&c.interval, "interval", time.Millisecond, "time between two reads of one reader")
	flag.DurationVar(&c.bucket, "bucket", 500*time.Millisecond, "width of one measurement")
	flag.DurationVar(&c.phases[0], "before", 10*time.Second, "time before the outage")
	flag.DurationVar(&c.phases[1], "during", 15*time.Second, "length of the outage")
	flag.DurationVar(&c.phases[2], "after", 10*time.Second, "time after the recovery")
	flag.DurationVar(&c.stale, "stale", 2*time.Second, "object_lifetime_stale")
	flag.StringVar(&c.out, "o", ".", "directory for outage.csv and outage.svg")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "outage:", err)
		os.Exit(1)
	}
}

// bucketStats collects one bucket's reads.
type bucketStats struct {
	mu         sync.Mutex
	latencies  []time.Duration
	failed     int
	calls      atomic.Int64 // calls to the source
	callErrors atomic.Int64 // of which failed
}

type row struct {
	t               float64 // seconds since start
	reads, failed   int
	p50, p99, max   time.Duration
	callsPerSecond  float64
	errorsPerSecond float64
	outage          bool
}

func run(c config) error {
	src := memory.New()
	for i := range c.objects {
		id := fmt.Sprintf("user%05d", i)
		src.Put(sorcery.Record{ID: id, Fields: sorcery.Fields{{Name: "username", Value: id}, {Name: "password", Value: "secret"}}})
	}
	total := c.phases[0] + c.phases[1] + c.phases[2]
	buckets := make([]bucketStats, int(total/c.bucket)+2)
	start := time.Now()
	bucketAt := func(t time.Time) *bucketStats {
		i := int(t.Sub(start) / c.bucket)
		if i >= len(buckets) {
			i = len(buckets) - 1
		}
		return &buckets[i]
	}
	handler := curl.NewHandler(src, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)

	// Every call to the source is counted, answered or failed, through the wizard-call hook.
	s := sorcery.New(&sorcery.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hooks: sorcery.Hooks{WizardCall: func(e sorcery.WizardCallEvent) {
			b := bucketAt(time.Now())
			b.calls.Add(1)
			if e.Outcome == sorcery.OutcomeError {
				b.callErrors.Add(1)
			}
		}},
	})
	defer s.Close()
	auths, err := sorcery.Register[Auth](s, "auth", nil)
	if err != nil {
		return err
	}
	if err := auths.AddCache(&cache.Options{LifetimeStale: c.stale, LifetimeMaximum: time.Hour}); err != nil {
		return err
	}
	w, err := curl.New("http://"+addr, &curl.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	if err := auths.AddWizard("curl", w, nil); err != nil {
		return err
	}
	// Warm the cache, so that the run starts in steady state.
	for i := range c.objects {
		if _, _, err := auths.Retrieve(context.Background(), fmt.Sprintf("user%05d", i)); err != nil {
			return err
		}
	}
	start = time.Now()
	for i := range buckets {
		buckets[i].calls.Store(0)
		buckets[i].callErrors.Store(0)
	}

	ctx, cancel := context.WithTimeout(context.Background(), total)
	defer cancel()
	var wg sync.WaitGroup
	for r := range c.readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 42))
			tick := time.NewTicker(c.interval)
			defer tick.Stop()
			for ctx.Err() == nil {
				<-tick.C
				id := fmt.Sprintf("user%05d", rng.IntN(c.objects))
				t0 := time.Now()
				_, found, _ := auths.Retrieve(context.Background(), id)
				d := time.Since(t0)
				b := bucketAt(t0)
				b.mu.Lock()
				b.latencies = append(b.latencies, d)
				if !found {
					b.failed++
				}
				b.mu.Unlock()
			}
		})
	}
	// The outage: the service stops, then comes back on the same address.
	time.Sleep(c.phases[0])
	srv.Close()
	fmt.Fprintf(os.Stderr, "outage: provisioning service down at %v\n", time.Since(start).Round(time.Millisecond))
	time.Sleep(c.phases[1])
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv = &http.Server{Handler: handler, ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(os.Stderr, "outage: provisioning service up again at %v\n", time.Since(start).Round(time.Millisecond))
	wg.Wait()
	srv.Close()

	var rows []row
	for i := range buckets {
		b := &buckets[i]
		if len(b.latencies) == 0 {
			continue
		}
		slices.Sort(b.latencies)
		t := time.Duration(i) * c.bucket
		rows = append(rows, row{
			t:               t.Seconds(),
			reads:           len(b.latencies),
			failed:          b.failed,
			p50:             b.latencies[len(b.latencies)/2],
			p99:             b.latencies[len(b.latencies)*99/100],
			max:             b.latencies[len(b.latencies)-1],
			callsPerSecond:  float64(b.calls.Load()) / c.bucket.Seconds(),
			errorsPerSecond: float64(b.callErrors.Load()) / c.bucket.Seconds(),
			outage:          t >= c.phases[0] && t < c.phases[0]+c.phases[1],
		})
	}
	if err := writeCSV(filepath.Join(c.out, "outage.csv"), rows); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.out, "outage.svg"), []byte(chart(rows, c)), 0o644); err != nil {
		return err
	}
	reads, failed := 0, 0
	for _, r := range rows {
		reads += r.reads
		failed += r.failed
	}
	st := auths.Cache().Stats()
	fmt.Printf("reads=%d failed=%d refresh_errors=%d refresh_updated=%d extended_at_end=%d\n",
		reads, failed, st.RefreshErrors, st.RefreshUpdated, st.Extended)
	return nil
}

func writeCSV(path string, rows []row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"t_seconds", "outage", "reads", "failed_reads", "p50_us", "p99_us", "max_us", "source_calls_per_second", "failed_source_calls_per_second"})
	us := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) }
	for _, r := range rows {
		w.Write([]string{
			strconv.FormatFloat(r.t, 'f', 1, 64), strconv.FormatBool(r.outage), strconv.Itoa(r.reads), strconv.Itoa(r.failed),
			us(r.p50), us(r.p99), us(r.max), strconv.FormatFloat(r.callsPerSecond, 'f', 0, 64),
			strconv.FormatFloat(r.errorsPerSecond, 'f', 0, 64),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
