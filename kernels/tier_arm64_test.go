//go:build !purego

package kernels

import "testing"

// TestBestTierARM64 guards against the NEON path silently not being taken.
func TestBestTierARM64(t *testing.T) {
	if got := Best(); got != NEON {
		t.Errorf("Best() = %v, want neon", got)
	}
	if got := (Dot{}).Tier(); got != NEON {
		t.Errorf("the dot product runs on %v by default, want neon", got)
	}
	if got := (Elem{}).Tier(); got != NEON {
		t.Errorf("the element-wise kernels run on %v by default, want neon", got)
	}
	if k := Gemm(NEON); k.Tier != NEON {
		t.Errorf("Gemm(NEON) = %s", k.Name)
	}
}
