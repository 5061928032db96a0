package engine

import (
	"strings"
	"testing"

	"github.com/signet-go/signet/kernels"
)

// TestDepthwiseLayerTier checks that a depthwise layer runs, and reports,
// the kernel of the tier the engine was planned for: the SIMD kernel on a
// SIMD tier, the Go loops on Generic.
func TestDepthwiseLayerTier(t *testing.T) {
	for _, tier := range kernels.Available() {
		e, err := New(smallCNN(t), Options{ForceTier: true, Tier: tier})
		if err != nil {
			t.Fatal(err)
		}
		want := "f32-dwconv-3x3-" + tier.String()
		if tier == kernels.Generic {
			want = "f32-dwconv-3x3-go"
		}
		found := false
		for _, l := range e.Layers() {
			if !strings.HasPrefix(l.Kernel, "f32-dwconv") {
				continue
			}
			found = true
			if l.Kernel != want || l.Tier != tier {
				t.Errorf("tier %v: depthwise layer %q runs %q on %v, want %q", tier, l.Name, l.Kernel, l.Tier, want)
			}
		}
		if !found {
			t.Errorf("tier %v: no depthwise layer in %+v", tier, e.Layers())
		}
	}
}
