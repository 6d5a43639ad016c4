package sorcerytest_test

import (
	"testing"

	"github.com/gosorcery/gosorcery/backends/memory"
	"github.com/gosorcery/gosorcery/sorcery"
	"github.com/gosorcery/gosorcery/sorcery/sorcerytest"
)

// A backend's test file runs the conformance suite with a harness that opens the wizard over
// the records given. (The example needs a *testing.T, so it is compiled, not run.)
func ExampleRun() {
	testConformance := func(t *testing.T) {
		sorcerytest.Run(t, func(t *testing.T, seed []sorcery.Record) sorcery.Wizard {
			w := memory.New()
			w.Put(seed...)
			return w
		})
	}
	_ = testConformance // func TestConformance(t *testing.T) { … } in a _test.go file
}
