//go:build !purego

package kernels

func init() {
	registerWino(NEON, "f32-winograd-f4x3-neon", &winoTransforms{in: winoInputNEONGo, out: winoOutputNEONGo})
}

// winoInputNEON is winoInputGo for 4·blocks channels, block b's channels
// 4b .. 4b+3 of pixel (r, s) at src[r*rowStride+s*colStride+4b:] and of
// element ξ at dst[ξ*dstStride+4b:]; tmp holds 36·4 floats.
//
//go:noescape
func winoInputNEON(dst *float32, dstStride int, src *float32, rowStride, colStride int, tmp *float32, blocks int)

// winoOutputNEON is winoOutputGo for 4·blocks channels, element ξ of block
// b at src[ξ*srcStride+4b:], output pixel (r, s) at
// dst[r*rowStride+s*colStride+4b:], bias[4b:]; tmp holds 24·4 floats.
//
//go:noescape
func winoOutputNEON(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias *float32, lo, hi float32, tmp *float32, blocks int)

func winoInputNEONGo(dst []float32, dstStride int, src []float32, rowStride, C int) {
	body := C &^ 3
	if body > 0 {
		// The assembly reads and writes nothing past these.
		_ = dst[(winoXi-1)*dstStride+body-1]
		_ = src[5*rowStride+5*C+body-1]
		var tmp [winoXi * 4]float32
		winoInputNEON(&dst[0], dstStride, &src[0], rowStride, C, &tmp[0], body/4)
	}
	winoInputChannels(dst, dstStride, src, rowStride, C, body, C)
}

func winoOutputNEONGo(dst []float32, rowStride, colStride int, src []float32, srcStride, n int, bias []float32, lo, hi float32) {
	body := n &^ 3
	if body > 0 {
		_ = dst[3*rowStride+3*colStride+body-1]
		_ = src[(winoXi-1)*srcStride+body-1]
		_ = bias[body-1]
		var tmp [winoM * winoAlpha * 4]float32
		winoOutputNEON(&dst[0], rowStride, colStride, &src[0], srcStride, &bias[0], lo, hi, &tmp[0], body/4)
	}
	winoOutputChannels(dst, rowStride, colStride, src, srcStride, bias, lo, hi, body, n)
}
