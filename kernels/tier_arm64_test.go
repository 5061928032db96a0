//go:build !purego

package kernels

import "testing"

// TestBestTierARM64 guards against the NEON path silently not being taken.
func TestBestTierARM64(t *testing.T) {
	if got := Best(); got != NEON {
		t.Errorf("Best() = %v, want neon", got)
	}
	if got := DotTier(); got != NEON {
		t.Errorf("DotTier() = %v by default, want neon", got)
	}
	if k := Gemm(NEON); k.Tier != NEON {
		t.Errorf("Gemm(NEON) = %s", k.Name)
	}
}
