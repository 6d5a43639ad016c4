package curl_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosorcery/gosorcery/backends/curl"
)

// benchRow is a realistic PJSIP endpoint row, as a provisioning service answers /single.
const benchRow = "id=alice&type=endpoint&context=from-internal&disallow=all&allow=ulaw&allow=alaw&allow=g722" +
	"&aors=alice&auth=alice-auth&callerid=%22Alice%20Liddell%22%20%3C1001%3E&direct_media=no" +
	"&rtp_symmetric=yes&force_rport=yes&rewrite_contact=yes&dtmf_mode=rfc4733&transport=transport-udp\n"

// benchServer answers every request with benchRow after reading the request, so the server
// costs the same whoever asks.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, benchRow)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// rawClient is what a hand-written client would use: net/http with a keep-alive pool.
func rawClient(b *testing.B) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// rawRetrieve is the baseline: the same POST as Retrieve sends, its reply read whole and
// not decoded.
func rawRetrieve(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("id=alice"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func newBenchWizard(b *testing.B, url string) *curl.Wizard {
	w, err := curl.New(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	return w
}

// BenchmarkRetrieve compares Retrieve over loopback with a raw net/http POST of the same
// request to the same server, in the same run.
func BenchmarkRetrieve(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		c := rawClient(b)
		b.ReportAllocs()
		for b.Loop() {
			if err := rawRetrieve(ctx, c, srv.URL+"/single"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("curl", func(b *testing.B) {
		w := newBenchWizard(b, srv.URL)
		b.ReportAllocs()
		for b.Loop() {
			if _, found, err := w.Retrieve(ctx, "alice"); err != nil || !found {
				b.Fatal(found, err)
			}
		}
	})
}

// BenchmarkRetrieveOverhead alternates a raw POST and a Retrieve in the same loop, taking
// turns at going first, so that both see the same machine load, and reports the median
// latency of each and the ratio of the medians (curl/raw; 1.00 means no overhead). Medians,
// not means, so that a descheduled request on a busy machine does not decide the figure.
func BenchmarkRetrieveOverhead(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	c := rawClient(b)
	w := newBenchWizard(b, srv.URL)
	var raw, ours []time.Duration
	rawOnce := func() {
		t0 := time.Now()
		if err := rawRetrieve(ctx, c, srv.URL+"/single"); err != nil {
			b.Fatal(err)
		}
		raw = append(raw, time.Since(t0))
	}
	oursOnce := func() {
		t0 := time.Now()
		if _, found, err := w.Retrieve(ctx, "alice"); err != nil || !found {
			b.Fatal(found, err)
		}
		ours = append(ours, time.Since(t0))
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			rawOnce()
			oursOnce()
		} else {
			oursOnce()
			rawOnce()
		}
		i++
	}
	mr, mo := median(raw), median(ours)
	b.ReportMetric(float64(mo)/float64(mr), "curl/raw")
	b.ReportMetric(float64(mr.Nanoseconds()), "raw-median-ns")
	b.ReportMetric(float64(mo.Nanoseconds()), "curl-median-ns")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
