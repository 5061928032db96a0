package kernels

import (
	"math"
	"testing"
)

// fuzzVals turns fuzz bytes into moderate finite floats (multiples of 1/64
// in [-2, 2)), repeating the input cyclically.
func fuzzVals(data []byte, n int) []float32 {
	v := make([]float32, n)
	if len(data) == 0 {
		return v
	}
	for i := range v {
		v[i] = float32(int8(data[i%len(data)])) / 64
	}
	return v
}

// FuzzGemmTile runs one tile, shaped by the input, through every available
// tier and compares with GemmRef under the tier tests' bound.
func FuzzGemmTile(f *testing.F) {
	f.Add(uint8(5), uint8(7), uint8(9), uint8(0), []byte{1, 2, 3, 250, 128, 127})
	f.Add(uint8(255), uint8(255), uint8(64), uint8(0xff), []byte{0x80})
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0x15), []byte{7})
	f.Fuzz(func(t *testing.T, mr8, nr8, k8, flags uint8, data []byte) {
		for _, tier := range Available() {
			kern := Gemm(tier)
			mr := int(mr8) % (kern.MR + 1)
			nr := int(nr8) % (kern.NR + 1)
			k := 1 + int(k8)%300
			ldc := nr + int(flags>>5)
			g := gemmCase{accumulate: flags&1 != 0, bias: flags&2 != 0, final: flags&4 != 0}
			switch (flags >> 3) & 3 {
			case 0:
				g.epi = Epilogue{Kind: EpiClamp, Lo: -0.5, Hi: float32(math.Inf(1))}
			case 1:
				g.epi = Epilogue{Kind: EpiHardSwish}
			case 2:
				g.epi = Epilogue{Kind: EpiSiLU}
			default:
				g.epi = Epilogue{Kind: EpiClamp, Lo: 0, Hi: 6}
			}
			a := fuzzVals(data, k*kern.MR)
			b := fuzzVals(append([]byte{flags}, data...), k*kern.NR)
			for p := 0; p < k; p++ { // zero padding, as the contract says
				clear(a[p*kern.MR+mr : (p+1)*kern.MR])
				clear(b[p*kern.NR+nr : (p+1)*kern.NR])
			}
			bias := fuzzVals(data[min(len(data), 1):], nr)
			size := 0
			if mr > 0 && nr > 0 {
				size = (mr-1)*ldc + nr
			}
			c := fuzzVals(data[min(len(data), 2):], size+8)[:size]
			want := append([]float32(nil), c...)
			if !g.bias {
				bias = nil
			}
			epi := g.epi
			GemmRef(kern.MR, kern.NR, k, a, b, want, ldc, mr, nr, bias, &epi, g.accumulate, g.final)
			orig := append([]float32(nil), c...)
			kern.Fn(k, a, b, c, ldc, mr, nr, bias, &epi, g.accumulate, g.final)
			for i := 0; i < mr; i++ {
				for j := 0; j < ldc && i*ldc+j < size; j++ {
					idx := i*ldc + j
					if j >= nr {
						if math.Float32bits(c[idx]) != math.Float32bits(orig[idx]) {
							t.Fatalf("%s: wrote c[%d][%d] outside the tile", kern.Name, i, j)
						}
						continue
					}
					var mag float64
					for p := 0; p < k; p++ {
						mag += math.Abs(float64(a[p*kern.MR+i]) * float64(b[p*kern.NR+j]))
					}
					tol := 2e-5 * (1 + mag + 2)
					if d := math.Abs(float64(c[idx]) - float64(want[idx])); !(d <= tol) {
						t.Fatalf("%s k=%d mr=%d nr=%d %v: c[%d][%d]=%v, reference %v", kern.Name, k, mr, nr, g, i, j, c[idx], want[idx])
					}
				}
			}
		}
	})
}

// FuzzDotRows compares every available tier's dot products with the
// generic loops: fp32 within 1e-5·(1+Σ|q·r|), int8 bit for bit.
func FuzzDotRows(f *testing.F) {
	f.Add(uint16(33), uint8(3), []byte{1, 255, 128, 127, 0, 9})
	f.Add(uint16(129), uint8(1), []byte{0x80})
	f.Fuzz(func(t *testing.T, dim16 uint16, n8 uint8, data []byte) {
		dim, n := int(dim16)%600, int(n8)%9
		q := fuzzVals(data, dim)
		rows := fuzzVals(append([]byte{n8}, data...), n*dim)
		q8 := make([]int8, dim)
		rows8 := make([]int8, n*dim)
		for i := range q8 {
			q8[i] = int8(q[i] * 64)
		}
		for i := range rows8 {
			rows8[i] = int8(rows[i] * 64)
		}
		wantD, wantL, want8 := make([]float32, n), make([]float32, n), make([]int32, n)
		dotRowsGeneric(q, rows, dim, n, wantD)
		l2RowsGeneric(q, rows, dim, n, wantL)
		dotRowsInt8Generic(q8, rows8, dim, n, want8)
		for _, tier := range Available() {
			restore := SetDotTier(tier)
			gotD, gotL, got8 := make([]float32, n), make([]float32, n), make([]int32, n)
			DotRows(q, rows, dim, n, gotD)
			L2Rows(q, rows, dim, n, gotL)
			DotRowsInt8(q8, rows8, dim, n, got8)
			restore()
			for i := 0; i < n; i++ {
				var mag float64
				for j := 0; j < dim; j++ {
					mag += math.Abs(float64(q[j] * rows[i*dim+j]))
				}
				if d := math.Abs(float64(gotD[i] - wantD[i])); !(d <= 1e-5*(1+mag)) {
					t.Fatalf("%v DotRows dim=%d: out[%d]=%v, generic %v", tier, dim, i, gotD[i], wantD[i])
				}
				if d := math.Abs(float64(gotL[i] - wantL[i])); !(d <= 1e-5*(1+float64(wantL[i]))) {
					t.Fatalf("%v L2Rows dim=%d: out[%d]=%v, generic %v", tier, dim, i, gotL[i], wantL[i])
				}
				if got8[i] != want8[i] {
					t.Fatalf("%v DotRowsInt8 dim=%d: out[%d]=%d, generic %d", tier, dim, i, got8[i], want8[i])
				}
			}
		}
	})
}
