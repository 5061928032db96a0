package kernels

import (
	"math"
	"testing"
)

// The shared test harness of the kernel families: the tier loop and the
// guard band every family's tester uses. Random inputs come from
// internal/testrand, seeded per test.

// forEachTier runs f as a subtest for every tier this package defines. A
// tier this machine does not run is skipped with its name, so a run on a
// smaller CPU says what it did not cover instead of passing silently.
func forEachTier(t *testing.T, f func(t *testing.T, tier Tier)) {
	t.Helper()
	for _, tier := range Tiers() {
		t.Run(tier.String(), func(t *testing.T) {
			if !tier.Runs() {
				t.Skipf("tier %v: this machine does not run it", tier)
			}
			f(t, tier)
		})
	}
}

// guardVal marks memory a kernel must not touch: a NaN payload no
// arithmetic produces, compared bit for bit.
var guardVal = math.Float32frombits(0x7fc0beef)

// guardLen is the number of guard elements on each side of a guarded slice.
const guardLen = 17

// guarded returns a slice of n elements (capacity n) inside a buffer whose
// guardLen elements on each side hold guardVal; checkGuards reports any of
// them that changed. The inner elements start as guardVal too.
func guarded(n int) (inner, whole []float32) {
	whole = make([]float32, n+2*guardLen)
	for i := range whole {
		whole[i] = guardVal
	}
	return whole[guardLen : guardLen+n : guardLen+n], whole
}

// checkGuards fails the test if a guard element around the n inner
// elements of whole changed.
func checkGuards(t *testing.T, whole []float32, n int) {
	t.Helper()
	for i := range whole {
		if (i < guardLen || i >= guardLen+n) && math.Float32bits(whole[i]) != math.Float32bits(guardVal) {
			t.Fatalf("wrote element %d outside [0,%d): %v", i-guardLen, n, whole[i])
		}
	}
}

// isGuard reports whether v is still the guard value.
func isGuard(v float32) bool { return math.Float32bits(v) == math.Float32bits(guardVal) }

// tol is the bound on |got-want| for a sum whose absolute terms add to mag.
func tol(mag float64) float64 { return 1e-5 * (1 + mag) }

// fuzzSource turns fuzz bytes into a stream of moderate finite floats
// (multiples of 1/128 in [-1, 1)), repeating the input cyclically; no bytes
// give zeros.
func fuzzSource(data []byte) func() float32 {
	i := 0
	return func() float32 {
		if len(data) == 0 {
			return 0
		}
		v := float32(int8(data[i%len(data)])) / 128
		i++
		return v
	}
}

// fuzzVals is n values of fuzzSource(data), doubled (multiples of 1/64 in
// [-2, 2)).
func fuzzVals(data []byte, n int) []float32 {
	next := fuzzSource(data)
	v := make([]float32, n)
	for i := range v {
		v[i] = 2 * next()
	}
	return v
}
