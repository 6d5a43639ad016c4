//go:build !race

package registrar

// raceDetector reports whether the tests run under the race detector, which slows the
// registrar several times: timing bounds are asserted only without it.
const raceDetector = false
