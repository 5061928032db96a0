package engine

import (
	"math"
	"strings"
	"testing"
)

// TestWinogradOption checks that a 3×3 stride-1 convolution the rule
// accepts runs by Winograd by default, that NoWinograd runs the direct
// convolution instead, that one the rule refuses (4 output channels) stays
// direct, and that the two paths agree within Winograd's stated error.
func TestWinogradOption(t *testing.T) {
	b := newGB(3, []int64{1, 16, 20, 18})
	wide := b.conv("input", 16, 24, 3, 1, ints("pads", 1, 1, 1, 1))
	narrow := b.conv(wide, 24, 4, 3, 1, ints("pads", 1, 1, 1, 1))
	m := b.build(t, narrow)
	kernelsOf := func(e *Engine) []string {
		var ks []string
		for _, l := range e.Layers() {
			ks = append(ks, l.Kernel)
		}
		return ks
	}
	var outs [2][][]float32
	for i, off := range []bool{false, true} {
		e, err := New(m, Options{Threads: 2, NoWinograd: off})
		if err != nil {
			t.Fatal(err)
		}
		ks := kernelsOf(e)
		if len(ks) != 2 {
			t.Fatalf("layers %q", ks)
		}
		if got := strings.HasPrefix(ks[0], "f32-conv-winograd/"); got == off {
			t.Errorf("NoWinograd=%v: the 16→24 layer runs %s", off, ks[0])
		}
		if !strings.HasPrefix(ks[1], "f32-conv-igemm/") {
			t.Errorf("NoWinograd=%v: the 24→4 layer runs %s, want the direct convolution", off, ks[1])
		}
		outs[i] = runAll(t, e)
	}
	var maxRef, maxDiff float64
	for i, v := range outs[1][0] {
		maxRef = max(maxRef, math.Abs(float64(v)))
		maxDiff = max(maxDiff, math.Abs(float64(v-outs[0][0][i])))
	}
	if maxDiff > 5e-5*maxRef {
		t.Errorf("Winograd and direct differ by %.3g (max |out| %.3g)", maxDiff, maxRef)
	}
}
