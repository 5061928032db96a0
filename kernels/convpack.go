package kernels

// PackConvB packs one group's convolution weights as the B operand of an
// implicit GEMM, straight from the model's layout: w is [kg][cg][taps]
// (output channel, input channel, kernel tap, as in ONNX), and B is the
// kdim×kg matrix with B[t*cg+c][o] = w[(o*cg+c)*taps+t] (the K order of an
// NHWC input window: tap-major, channel-minor). The result equals PackB of
// that matrix, without building it: packing needs no memory besides its
// output, so a model's raw and packed weights never both sit in the heap.
func PackConvB(nr, taps, cg, kg int, w []float32) *PackedB {
	K := taps * cg
	pb := &PackedB{K: K, N: kg, NR: nr}
	np := (kg + nr - 1) / nr
	pb.Data = make([]float32, np*K*nr)
	w = w[:kg*K]
	for j := 0; j < np; j++ {
		panel := pb.Data[j*K*nr : (j+1)*K*nr]
		for jj := 0; jj < nr && j*nr+jj < kg; jj++ {
			o := j*nr + jj
			wo := w[o*K : (o+1)*K]
			for c := 0; c < cg; c++ {
				for t := 0; t < taps; t++ {
					panel[(t*cg+c)*nr+jj] = wo[c*taps+t]
				}
			}
		}
	}
	return pb
}
