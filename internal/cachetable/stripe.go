package cachetable

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// StripeHint returns a number that is stable for a goroutine and differs between
// goroutines, without synchronisation: a Fibonacci hash of the goroutine's stack address,
// whose top bits are the best mixed. Stacks are at least 2 KiB apart, so the low 11 bits
// of the address are dropped first. (A goroutine whose stack moves changes stripes, which
// is harmless.) Its result is below 256.
func StripeHint() uint64 {
	var x byte
	a := uint64(uintptr(unsafe.Pointer(&x))) >> 11
	return (a * 0x9E3779B97F4A7C15) >> 56
}

// CounterSlots is the number of counters of a [Counters].
const CounterSlots = 8

// Counters are CounterSlots counters written by many goroutines at once, striped so that
// goroutines on different processors mostly write different cache lines: an Add takes no
// lock and, on a stripe no other running goroutine writes, does not contend. Sum adds the
// stripes up. The zero value is not usable: make one with [NewCounters].
type Counters struct {
	stripes []counterStripe
	mask    uint64
}

type counterStripe struct {
	n [CounterSlots]atomic.Uint64
	_ [128 - CounterSlots*8]byte // one stripe per pair of cache lines (adjacent-line prefetch)
}

// NewCounters returns counters with enough stripes for the processors of the program:
// with 32 stripes per processor (and at least 64, at most 256), two running goroutines
// rarely share one.
func NewCounters() Counters {
	n := 64
	for n < 32*runtime.GOMAXPROCS(0) && n < 256 {
		n <<= 1
	}
	return Counters{stripes: make([]counterStripe, n), mask: uint64(n - 1)}
}

// Add adds 1 to counter i (modulo CounterSlots).
func (c *Counters) Add(i int) {
	c.stripes[StripeHint()&c.mask].n[uint(i)%CounterSlots].Add(1)
}

// Sum returns the value of counter i (modulo CounterSlots): the sum of its stripes, read
// one by one.
func (c *Counters) Sum(i int) uint64 {
	var n uint64
	for j := range c.stripes {
		n += c.stripes[j].n[uint(i)%CounterSlots].Load()
	}
	return n
}
