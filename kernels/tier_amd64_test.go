//go:build !purego

package kernels

import "testing"

// TestBestTierAMD64 guards against a fast path silently not taken: the
// best tier, and every family's default, must be what cpuid reports.
func TestBestTierAMD64(t *testing.T) {
	want := Generic
	switch {
	case hasAVX512:
		want = AVX512
	case hasAVX2:
		want = AVX2
	}
	if got := Best(); got != want {
		t.Errorf("Best() = %v, CPU supports %v", got, want)
	}
	if got := (Dot{}).Tier(); got != want {
		t.Errorf("the dot product runs on %v by default, CPU supports %v", got, want)
	}
	if got := (Elem{}).Tier(); got != want {
		t.Errorf("the element-wise kernels run on %v by default, CPU supports %v", got, want)
	}
	t.Logf("AVX2+FMA3 %v, AVX-512 %v; best tier %v", hasAVX2, hasAVX512, Best())
}
