//go:build !purego

package kernels

func init() {
	q8Asm{quant: q8QuantAVX512, dequant: q8DequantAVX512, add: q8AddAVX512, max: q8MaxAVX512, lanes: 1, maxLanes: 1}.register(AVX512, "qs8-elem-avx512")
	q8Asm{quant: q8QuantAVX2, dequant: q8DequantAVX2, add: q8AddAVX2, max: q8MaxAVX2, lanes: 8, maxLanes: 32}.register(AVX2, "qs8-elem-avx2")
}

// q8QuantAVX512 is q8QuantGeneric over n ≥ 0 elements: 64 lanes a step,
// then 16, then the tail under a mask (nothing past n is touched).
//
//go:noescape
func q8QuantAVX512(dst *int8, src *float32, n int, scale float32, zero int32)

// q8DequantAVX512 is q8DequantGeneric, in the same steps.
//
//go:noescape
func q8DequantAVX512(dst *float32, src *int8, n int, scale float32, zero int32)

// q8AddAVX512 is q8AddGeneric with the QAddParams spelled out, in the
// same steps; dst may be a or b.
//
//go:noescape
func q8AddAVX512(dst, a, b *int8, n int, sa, sb, s float32, za, zb, zo, lo, hi int32)

// q8MaxAVX512 is q8MaxGeneric: 256 bytes a step, then 64, then the tail
// under a mask.
//
//go:noescape
func q8MaxAVX512(dst, a *int8, n int)

// q8QuantAVX2 is q8QuantAVX512 in 16 then 8 lanes, for n a multiple of 8.
//
//go:noescape
func q8QuantAVX2(dst *int8, src *float32, n int, scale float32, zero int32)

// q8DequantAVX2 is q8DequantAVX512 in 16 then 8 lanes, for n a multiple
// of 8.
//
//go:noescape
func q8DequantAVX2(dst *float32, src *int8, n int, scale float32, zero int32)

// q8AddAVX2 is q8AddAVX512 in 16 then 8 lanes, for n a multiple of 8.
//
//go:noescape
func q8AddAVX2(dst, a, b *int8, n int, sa, sb, s float32, za, zb, zo, lo, hi int32)

// q8MaxAVX2 is q8MaxAVX512 in 64 then 32 bytes, for n a multiple of 32.
//
//go:noescape
func q8MaxAVX2(dst, a *int8, n int)
