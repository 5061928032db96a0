//go:build !purego

package kernels

import "math"

// erfAVX512 computes, for n ≥ 0 and kind ActErf or ActGELU,
//
//	for i := 0; i < n; i++ { dst[i] = Act{Kind: kind}.Apply(src[i]) }
//
// by erff's and geluf's algorithm with fused multiply-adds, 16 lanes a step, then the
// tail under a mask; tab is &erfVecTab. dst may be src.
//
//go:noescape
func erfAVX512(kind uint32, tab *[24][8]float32, dst, src *float32, n int)

// erfAVX2 is erfAVX512 in 8 lanes for n a multiple of 8.
//
//go:noescape
func erfAVX2(kind uint32, tab *[24][8]float32, dst, src *float32, n int)

// erfVecTab is erfTab and the constants of erff, eight copies of each, in
// the rows kernels/_asm/unary.go reads.
var erfVecTab = func() (t [24][8]float32) {
	copy(t[:], erfTab[:])
	for i := range t[0] {
		t[12][i] = erfScale
		t[13][i] = erfOffset
		t[14][i] = 4
		t[15][i] = math.Float32frombits(1<<31 - 1)
		t[16][i] = math.Float32frombits(1 << 31)
		t[17][i] = math.Float32frombits(7) // an int32
		t[18][i] = 0.707106781186547524
		t[19][i] = 0.5
		t[20][i] = 1
		t[21][i] = float32(1/math.Sqrt2 - float64(float32(1/math.Sqrt2))) // √½ - t[18]
		t[22][i] = 8
		t[23][i] = -8
	}
	return t
}()

// mathAsmKind reports whether a kind of unary.go has SIMD kernels here.
func mathAsmKind(k ActKind) bool { return k == ActErf || k == ActGELU }
