package cpu

import (
	"math"
	"testing"
)

// quantizeRef is ONNX QuantizeLinear written the plain way.
func quantizeRef(x, scale float32, zero int8) int8 {
	q := x / scale
	if q != q {
		return zero
	}
	r := math.RoundToEven(float64(q)) + float64(zero)
	return int8(min(max(r, -128), 127))
}

// TestQuantizeExact compares Quantize with the plain form on every float32
// bit pattern of step 4099 (halves, huge values, infinities and NaNs among
// them) and on every half-integer quotient in range, for several zero points.
func TestQuantizeExact(t *testing.T) {
	check := func(x, s float32, z int8) {
		if got, want := Quantize(x, s, z), quantizeRef(x, s, z); got != want {
			t.Fatalf("Quantize(%v, %v, %d) = %d, want %d", x, s, z, got, want)
		}
	}
	for _, z := range []int8{-128, -3, 0, 5, 127} {
		for _, s := range []float32{1, 0.5, 0.0123, 3e-5} {
			for b := uint64(0); b < 1<<32; b += 4099 {
				check(math.Float32frombits(uint32(b)), s, z)
			}
			for k := -600; k <= 600; k++ {
				check((float32(k)+0.5)*s, s, z)
				check(float32(k)*s, s, z)
			}
		}
	}
}
