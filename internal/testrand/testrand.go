// Package testrand is the random source of signet's tests: seeded,
// deterministic (the same seed gives the same values on every machine and Go
// version that keeps math/rand/v2's PCG), and with the few helpers kernel
// tests need. A failing test's output names its seed, so a run can be
// repeated exactly.
package testrand

import "math/rand/v2"

// Rand is a *rand.Rand on a PCG source, with test helpers.
type Rand struct{ *rand.Rand }

// New returns the generator for seed.
func New(seed uint64) Rand {
	return Rand{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Signed returns a value uniform in [-1, 1).
func (r Rand) Signed() float32 { return r.Float32()*2 - 1 }

// Floats returns n values uniform in [-1, 1).
func (r Rand) Floats(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Signed()
	}
	return s
}

// Range returns a value uniform in [lo, hi).
func (r Rand) Range(lo, hi float32) float32 { return lo + r.Float32()*(hi-lo) }
