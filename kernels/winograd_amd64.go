//go:build !purego

package kernels

func init() {
	w := &winoTransforms{in: winoInputAVX2Go, out: winoOutputAVX2Go}
	registerWino(AVX2, "f32-winograd-f4x3-avx2", w)
	// AVX-512 machines run the AVX2 transforms: they are bound by loads and
	// stores, not by the vector width.
	registerWino(AVX512, "f32-winograd-f4x3-avx2", w)
}

// winoInputAVX2 is winoInputGo for 8·blocks channels, the block b's
// channels 8b .. 8b+7 of pixel (r, s) at src[r*rowStride+s*colStride+8b:]
// and of element ξ at dst[ξ*dstStride+8b:]; tmp holds 36·8 floats.
//
//go:noescape
func winoInputAVX2(dst *float32, dstStride int, src *float32, rowStride, colStride int, tmp *float32, blocks int)

// winoOutputAVX2 is winoOutputGo for 8·blocks channels, element ξ of block
// b at src[ξ*srcStride+8b:], output pixel (r, s) at
// dst[r*rowStride+s*colStride+8b:], bias[8b:]; tmp holds 24·8 floats.
//
//go:noescape
func winoOutputAVX2(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias *float32, lo, hi float32, tmp *float32, blocks int)

func winoInputAVX2Go(dst []float32, dstStride int, src []float32, rowStride, C int) {
	body := C &^ 7
	if body > 0 {
		// The assembly reads and writes nothing past these.
		_ = dst[(winoXi-1)*dstStride+body-1]
		_ = src[5*rowStride+5*C+body-1]
		var tmp [winoXi * 8]float32
		winoInputAVX2(&dst[0], dstStride, &src[0], rowStride, C, &tmp[0], body/8)
	}
	winoInputChannels(dst, dstStride, src, rowStride, C, body, C)
}

func winoOutputAVX2Go(dst []float32, rowStride, colStride int, src []float32, srcStride, n int, bias []float32, lo, hi float32) {
	body := n &^ 7
	if body > 0 {
		_ = dst[3*rowStride+3*colStride+body-1]
		_ = src[(winoXi-1)*srcStride+body-1]
		_ = bias[body-1]
		var tmp [winoM * winoAlpha * 8]float32
		winoOutputAVX2(&dst[0], rowStride, colStride, &src[0], srcStride, &bias[0], lo, hi, &tmp[0], body/8)
	}
	winoOutputChannels(dst, rowStride, colStride, src, srcStride, bias, lo, hi, body, n)
}
