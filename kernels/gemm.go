package kernels

// The GEMM driver computes C[M×N] = A[M×K]·B[K×N] + bias, then an epilogue,
// with any GemmMicrokernel. B (the weights) is packed once into NR-wide
// panels; A is packed per MR-row tile into a small per-thread scratch by an
// APacker, which lets a convolution write its im2col rows straight from the
// input into the panel without ever materialising the im2col matrix. When a
// tile's rows of A are evenly spaced in memory (a 1×1 convolution, a tile of
// interior pixels in one output row) and the microkernel has an in-place
// entry (FnA), there is no packing at all: the microkernel broadcasts from
// the input itself, bit for bit as it would from the packed panel.
//
// Work is split into tasks (one MR-row tile × a range of NR panels); each output
// element is computed by exactly one task with a summation order that depends
// only on K and KC, so results are bit-identical for any thread count.

// PackedB is B [K×N] packed for one microkernel width NR: panel j (columns
// j*NR .. j*NR+NR-1) occupies Data[j*K*NR : (j+1)*K*NR], element (p, jj) at
// p*NR+jj; columns past N are zero.
type PackedB struct {
	K, N, NR int
	Data     []float32
}

// Panels returns the number of NR-wide panels.
func (b *PackedB) Panels() int { return (b.N + b.NR - 1) / b.NR }

// PackB packs B for microkernel width nr. B element (k, n) is read from
// b[k*ldb+n], or from b[n*ldb+k] when trans is set (B given as [N×K]).
func PackB(nr, K, N int, b []float32, ldb int, trans bool) *PackedB {
	pb := &PackedB{K: K, N: N, NR: nr}
	np := (N + nr - 1) / nr
	pb.Data = make([]float32, np*K*nr)
	for j := 0; j < np; j++ {
		panel := pb.Data[j*K*nr : (j+1)*K*nr]
		for p := 0; p < K; p++ {
			for jj := 0; jj < nr; jj++ {
				n := j*nr + jj
				if n >= N {
					break
				}
				if trans {
					panel[p*nr+jj] = b[n*ldb+p]
				} else {
					panel[p*nr+jj] = b[p*ldb+n]
				}
			}
		}
	}
	return pb
}

// An APacker writes rows m0 .. m0+mr-1, columns k0 .. k1-1 of A into dst as
// k1-k0 steps of MR floats (dst[(k-k0)*MR+i] = A[m0+i][k]); rows mr..MR-1 of
// each step must be zero.
//
// InPlace describes the full tile of rows m0 .. m0+MR-1, columns k0 .. k1-1
// as it already lies in memory, when its rows are evenly spaced (see
// InPlaceA); ok is false when they are not, and the driver then packs.
// Reading in place skips the packing pass entirely (the microkernel's FnA)
// and gives the same result bit for bit.
type APacker interface {
	PackA(dst []float32, MR, m0, mr, k0, k1 int)
	InPlace(MR, m0, k0, k1 int) (a InPlaceA, ok bool)
}

// DenseA is a row-major A matrix: element (m, k) at Data[m*LD+k].
type DenseA struct {
	Data []float32
	LD   int
}

// PackA implements APacker.
func (a DenseA) PackA(dst []float32, MR, m0, mr, k0, k1 int) {
	if MR > maxPackRows {
		kc := k1 - k0
		dst = dst[:kc*MR]
		clear(dst)
		for i := 0; i < mr; i++ {
			for p, v := range a.Data[(m0+i)*a.LD+k0 : (m0+i)*a.LD+k1] {
				dst[p*MR+i] = v
			}
		}
		return
	}
	var src [maxPackRows][]float32
	for i := 0; i < mr; i++ {
		src[i] = a.Data[(m0+i)*a.LD+k0 : (m0+i)*a.LD+k1]
	}
	transposeRows(dst[:(k1-k0)*MR], src[:mr], MR, k1-k0)
}

// InPlace implements APacker: the rows of a dense matrix are evenly spaced.
func (a DenseA) InPlace(MR, m0, k0, k1 int) (InPlaceA, bool) {
	lo, hi := m0*a.LD+k0, (m0+MR-1)*a.LD+k1
	if hi > len(a.Data) || k1 <= k0 {
		return InPlaceA{}, false
	}
	return InPlaceA{Data: a.Data[lo:hi:hi], LD: a.LD, Seg: k1 - k0, NSeg: 1}, true
}

// DenseAT is A given transposed: element (m, k) at Data[k*LD+m].
type DenseAT struct {
	Data []float32
	LD   int
}

// PackA implements APacker.
func (a DenseAT) PackA(dst []float32, MR, m0, mr, k0, k1 int) {
	kc := k1 - k0
	dst = dst[:kc*MR]
	for p := 0; p < kc; p++ {
		col := a.Data[(k0+p)*a.LD+m0 : (k0+p)*a.LD+m0+mr]
		d := dst[p*MR : p*MR+MR]
		copy(d, col)
		clear(d[mr:])
	}
}

// InPlace implements APacker: a column of Aᵀ is not a row of A, so it
// always packs.
func (a DenseAT) InPlace(MR, m0, k0, k1 int) (InPlaceA, bool) { return InPlaceA{}, false }

// GemmKC is the default K block: large enough to amortise the C reload,
// small enough that an A tile and a B panel stay in L1 for the small tiles.
const GemmKC = 256

// GemmOp describes one GEMM C = A·B + bias (+ epilogue) with packed B.
type GemmOp struct {
	MK   GemmMicrokernel
	M    int
	B    *PackedB
	Bias []float32 // length N or nil
	Epi  Epilogue
	KC   int // K block; 0 means GemmKC
	// El runs a post activation (one without an epilogue form); the zero
	// value runs on Best.
	El Elem
}

// ScratchLen is the number of floats of per-thread A scratch Run needs.
func (g *GemmOp) ScratchLen() int {
	return g.MK.MR * min(g.kc(), g.B.K)
}

func (g *GemmOp) kc() int {
	if g.KC > 0 {
		return g.KC
	}
	return GemmKC
}

// Tiles returns the number of MR-row tiles of M.
func (g *GemmOp) Tiles() int { return (g.M + g.MK.MR - 1) / g.MK.MR }

// GemmRange computes tasks lo .. hi-1 of g. Task t covers M tile t/split and
// the t%split-th of split equal chunks of the NR panels. K blocks form the
// outer loop, so one K block of B (KC×N) stays in cache while the range's
// tiles stream through it; a tile's A block is packed once per K block and
// reused by its consecutive chunks. Every output element is summed over the
// same K blocks in the same order whatever the range, so results do not
// depend on how tasks are spread over threads. post, when not ActNone, is
// applied to each finished tile.
func GemmRange[P APacker](g *GemmOp, a P, c []float32, ldc, split, lo, hi int, scratch []float32, post Act) {
	MR, NR := g.MK.MR, g.MK.NR
	K, N := g.B.K, g.B.N
	if hi <= lo || K == 0 {
		return
	}
	np := g.B.Panels()
	kcMax := g.kc()
	fn, fnA := g.MK.Fn, g.MK.FnA
	for k0 := 0; k0 < K; k0 += kcMax {
		k1 := min(K, k0+kcMax)
		kc := k1 - k0
		ap := scratch[:kc*MR]
		first, last := k0 == 0, k1 == K
		packed := -1
		var direct InPlaceA
		inPlace := false
		for t := lo; t < hi; t++ {
			mt, chunk := t/split, t%split
			m0 := mt * MR
			mr := min(MR, g.M-m0)
			if packed != mt {
				inPlace = false
				if mr == MR && fnA != nil {
					direct, inPlace = a.InPlace(MR, m0, k0, k1)
				}
				if !inPlace {
					a.PackA(ap, MR, m0, mr, k0, k1)
				}
				packed = mt
			}
			j0, j1 := chunk*np/split, (chunk+1)*np/split
			for j := j0; j < j1; j++ {
				n0 := j * NR
				var bias []float32
				if g.Bias != nil {
					bias = g.Bias[n0:]
				}
				bp := g.B.Data[j*K*NR+k0*NR : j*K*NR+k1*NR]
				if inPlace {
					fnA(direct, bp, c[m0*ldc+n0:], ldc, min(NR, N-n0), bias, &g.Epi, !first, last)
				} else {
					fn(kc, ap, bp, c[m0*ldc+n0:], ldc, mr, min(NR, N-n0), bias, &g.Epi, !first, last)
				}
			}
			if last && post.Kind != ActNone && j1 > j0 {
				n0, n1 := j0*NR, min(j1*NR, N)
				for m := m0; m < m0+mr; m++ {
					row := c[m*ldc+n0 : m*ldc+n1]
					g.El.Apply(post, row, row)
				}
			}
		}
	}
}

// gemmGeneric4x8 is the portable microkernel. The Go compiler keeps scalar
// float32 values in at most 15 registers, so a 4×8 tile of accumulators would
// spill on every step; the tile is computed instead as four 2×4 sub-tiles,
// each with its 8 accumulators in registers over the whole k loop (about twice
// the speed of the spilling 4×8 loop). A and B stay in L1 across sub-tiles.
func gemmGeneric4x8(k int, a, b, c []float32, ldc, mr, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	if mr <= 0 || nr <= 0 {
		return
	}
	var acc [4][8]float32
	for i := 0; i < mr; i += 2 {
		for j := 0; j < nr; j += 4 {
			c00, c01, c02, c03, c10, c11, c12, c13 := dot2x4(k, a[i:], b[j:])
			acc[i][j], acc[i][j+1], acc[i][j+2], acc[i][j+3] = c00, c01, c02, c03
			acc[i+1][j], acc[i+1][j+1], acc[i+1][j+2], acc[i+1][j+3] = c10, c11, c12, c13
		}
	}
	storeTile(acc[:mr], c, ldc, nr, bias, epi, accumulate, final)
}

// dot2x4 accumulates rows 0..1 of a packed 4-row A against columns 0..3 of a
// packed 8-column B; a and b start at the sub-tile's first row and column.
// The k loop is unrolled by two (about 20% faster than one step at a time).
func dot2x4(k int, a, b []float32) (c00, c01, c02, c03, c10, c11, c12, c13 float32) {
	a = a[:4*k-2]
	b = b[:8*k-4]
	p := 0
	for ; p+1 < k; p += 2 {
		ap := a[4*p : 4*p+6 : 4*p+6]
		bp := b[8*p : 8*p+12 : 8*p+12]
		a0, a1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[4], ap[5]
		b0, b1, b2, b3 = bp[8], bp[9], bp[10], bp[11]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	if p < k {
		ap := a[4*p : 4*p+2 : 4*p+2]
		bp := b[8*p : 8*p+4 : 8*p+4]
		a0, a1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	return
}

// storeTile finishes a register tile: adds C (accumulate) or bias, applies
// the epilogue when final, and stores the nr valid columns of each row.
func storeTile(acc [][8]float32, c []float32, ldc, nr int, bias []float32, epi *Epilogue, accumulate, final bool) {
	for i := range acc {
		row := c[i*ldc : i*ldc+nr]
		a := acc[i][:nr]
		switch {
		case accumulate:
			for j := range row {
				a[j] += row[j]
			}
		case bias != nil:
			bs := bias[:nr]
			for j := range a {
				a[j] += bs[j]
			}
		}
		if final {
			switch epi.Kind {
			case EpiClamp:
				lo, hi := epi.Lo, epi.Hi
				for j := range a {
					a[j] = min(max(a[j], lo), hi)
				}
			case EpiSiLU:
				for j, v := range a {
					a[j] = v / (1 + expInline(-v))
				}
			default:
				for j := range a {
					a[j] = epi.Apply(a[j])
				}
			}
		}
		copy(row, a)
	}
}
