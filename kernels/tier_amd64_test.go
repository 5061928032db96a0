//go:build !purego

package kernels

import "testing"

// TestBestTierAMD64 guards against a fast path silently not taken: the
// best tier and the default dot-product tier must be what cpuid reports.
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
	if got := DotTier(); got != want {
		t.Errorf("DotTier() = %v by default, CPU supports %v", got, want)
	}
	t.Logf("AVX2+FMA3 %v, AVX-512 %v, AVX-512 VNNI %v; best tier %v", hasAVX2, hasAVX512, hasVNNI, Best())
}
