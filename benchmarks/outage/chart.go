package main

import (
	"fmt"
	"math"
	"strings"
)

// chart draws two panels sharing the time axis: read latency (p50, p99, max, log scale) and
// source calls per second, with the outage shaded.
func chart(rows []row, c config) string {
	const (
		width, height = 900, 560
		left, right   = 80, 30
		top1, h1      = 50, 230
		top2, h2      = 340, 160
	)
	plotW := float64(width - left - right)
	tMax := (c.phases[0] + c.phases[1] + c.phases[2]).Seconds()
	x := func(t float64) float64 { return float64(left) + t/tMax*plotW }

	// Latency panel, log scale in microseconds.
	lo, hi := 1.0, 10.0
	for _, r := range rows {
		hi = math.Max(hi, float64(r.max)/1e3)
	}
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	y1 := func(us float64) float64 {
		us = math.Max(us, lo)
		return float64(top1+h1) - (math.Log10(us)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*float64(h1)
	}
	// Calls panel, linear.
	callMax := 10.0
	for _, r := range rows {
		callMax = math.Max(callMax, r.callsPerSecond)
	}
	callMax = niceCeil(callMax)
	y2 := func(v float64) float64 { return float64(top2+h2) - v/callMax*float64(h2) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">Reads through a provisioning outage: cache (stale %v) → curl → service</text>`+"\n", left, c.stale)
	// Outage shading on both panels.
	o0, o1 := x(c.phases[0].Seconds()), x((c.phases[0] + c.phases[1]).Seconds())
	for _, p := range [][2]int{{top1, h1}, {top2, h2}} {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#fde2e2"/>`+"\n", o0, p[0], o1-o0, p[1])
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#b91c1c">provisioning service down</text>`+"\n", o0+6, top1+16)

	// Axes and grid.
	for e := math.Log10(lo); e <= math.Log10(hi)+1e-9; e++ {
		v := math.Pow(10, e)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, y1(v), y1(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y1(v)+4, formatMicros(v))
	}
	fmt.Fprintf(&b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">read latency</text>`+"\n", top1+h1/2, top1+h1/2)
	for i := 0; i <= 4; i++ {
		v := callMax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, y2(v), y2(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left-6, y2(v)+4, v)
	}
	fmt.Fprintf(&b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">source calls/s</text>`+"\n", top2+h2/2, top2+h2/2)
	for t := 0.0; t <= tMax+1e-9; t += 5 {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>`+"\n", x(t), x(t), top1, top2+h2)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f s</text>`+"\n", x(t), top2+h2+18, t)
	}

	line := func(color string, dash string, pts func(r row) (float64, float64)) {
		var p []string
		for _, r := range rows {
			px, py := pts(r)
			p = append(p, fmt.Sprintf("%.1f,%.1f", px, py))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" stroke-dasharray="%s" points="%s"/>`+"\n", color, dash, strings.Join(p, " "))
	}
	mid := c.bucket.Seconds() / 2
	line("#9ca3af", "3,3", func(r row) (float64, float64) { return x(r.t + mid), y1(float64(r.max) / 1e3) })
	line("#dc2626", "", func(r row) (float64, float64) { return x(r.t + mid), y1(float64(r.p99) / 1e3) })
	line("#2563eb", "", func(r row) (float64, float64) { return x(r.t + mid), y1(float64(r.p50) / 1e3) })
	line("#059669", "", func(r row) (float64, float64) { return x(r.t + mid), y2(r.callsPerSecond) })
	line("#b45309", "4,2", func(r row) (float64, float64) { return x(r.t + mid), y2(r.errorsPerSecond) })

	legend := []struct{ color, dash, label string }{
		{"#2563eb", "", "p50"}, {"#dc2626", "", "p99"}, {"#9ca3af", "3,3", "max"}, {"#059669", "", "source calls/s"},
		{"#b45309", "4,2", "of which failed"},
	}
	for i, l := range legend {
		lx := float64(width-right) - 560 + float64(i)*112
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="40" y2="40" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", lx, lx+24, l.color, l.dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="44">%s</text>`+"\n", lx+30, l.label)
	}
	failed := 0
	for _, r := range rows {
		failed += r.failed
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">failed reads: %d — %d readers, one read per %v each, %d objects</text>`+"\n",
		left, height-10, failed, c.readers, c.interval, c.objects)
	b.WriteString("</svg>\n")
	return b.String()
}

func formatMicros(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%g s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%g ms", us/1e3)
	default:
		return fmt.Sprintf("%g µs", us)
	}
}

func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
