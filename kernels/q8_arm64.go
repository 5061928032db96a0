//go:build !purego

package kernels

func init() {
	q8Asm{quant: q8QuantNEON, dequant: q8DequantNEON, add: q8AddNEON, max: q8MaxNEON, lanes: 8, maxLanes: 16}.register(NEON, "qs8-elem-neon")
}

// q8QuantNEON is q8QuantGeneric for n a multiple of 8.
//
//go:noescape
func q8QuantNEON(dst *int8, src *float32, n int, scale float32, zero int32)

// q8DequantNEON is q8DequantGeneric for n a multiple of 8.
//
//go:noescape
func q8DequantNEON(dst *float32, src *int8, n int, scale float32, zero int32)

// q8AddNEON is q8AddGeneric with the QAddParams spelled out, for n a
// multiple of 8; dst may be a or b.
//
//go:noescape
func q8AddNEON(dst, a, b *int8, n int, sa, sb, s float32, za, zb, zo, lo, hi int32)

// q8MaxNEON is q8MaxGeneric for n a multiple of 16.
//
//go:noescape
func q8MaxNEON(dst, a *int8, n int)
