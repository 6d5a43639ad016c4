package astconf

import (
	"fmt"
	"strings"
	"testing"
)

// plusEqualsSource is one category whose variable grows by n += lines.
func plusEqualsSource(n int) []byte {
	var b strings.Builder
	b.WriteString("[alice]\ntype=endpoint\nallow=ulaw\n")
	for range n {
		b.WriteString("allow+=,alaw\n")
	}
	return []byte(b.String())
}

// plusCategorySource is n templates and n categories named alice, then n (+) additions to
// the first alice that is not a template.
func plusCategorySource(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[alice](!)\nt=%d\n", i)
	}
	for i := range n {
		fmt.Fprintf(&b, "[alice]\ntype=endpoint\nn=%d\n", i)
	}
	for i := range n {
		fmt.Fprintf(&b, "[alice](+)\nk%d=v\n", i)
	}
	return []byte(b.String())
}

// benchLines parses src b.N times and reports the time and allocations per line of
// perLine lines, so that sizes compare directly: flat figures mean linear cost.
func benchLines(b *testing.B, src []byte, perLine int) {
	b.Helper()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	opts := &Options{MaxVariables: 1 << 30}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Parse("pjsip.conf", src, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(perLine), "ns/line")
}

func BenchmarkPlusEqualsLines(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			benchLines(b, plusEqualsSource(n), n)
		})
	}
}

func BenchmarkPlusCategoryAdditions(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("additions=%d", n), func(b *testing.B) {
			benchLines(b, plusCategorySource(n), 3*n)
		})
	}
}
