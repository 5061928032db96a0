package kernels

// AffineChannels computes y = x·scale[c] + shift[c] over one block of
// len(scale) channels of inner elements each (x and y hold
// len(scale)·inner values; y may be x): channel-major when inner > 1
// (NCHW planes), and for inner == 1 one row of channels (an NHWC pixel).
// It is an inference BatchNormalization folded into a scale and a shift.
func AffineChannels(x, y, scale, shift []float32, inner int) {
	C := len(scale)
	if inner == 1 {
		xs, ys, sh := x[:C], y[:C], shift[:C]
		for c, k := range scale {
			ys[c] = xs[c]*k + sh[c]
		}
		return
	}
	for ch := 0; ch < C; ch++ {
		xs, ys := x[ch*inner:(ch+1)*inner], y[ch*inner:(ch+1)*inner]
		k, b := scale[ch], shift[ch]
		for i, v := range xs {
			ys[i] = v*k + b
		}
	}
}
