package kernels

import (
	"math"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels/internal/impl"
)

// Winograd convolution F(4×4, 3×3) over NHWC activations (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks"): each 4×4 block of
// output pixels ("tile") is computed from the 6×6 input block under it as
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with the interpolation points 0, ±1, ±2, ∞. Summed over input channels the
// element-wise product becomes 36 independent GEMMs, one per position ξ of
// the 6×6 transformed block: M_ξ[tile][k] = Σ_c V_ξ[tile][c]·U_ξ[c][k]. That
// is 36 multiply-adds per tile, channel pair instead of the direct
// convolution's 144 (16 pixels × 9 taps): 4× less arithmetic for the price
// of the transforms, which are additions and multiplications by small
// constants, linear in the channel count, while the GEMMs grow with its
// square. The transformed weights U_ξ (4× the size of the 3×3 weights) are
// computed in float64 and packed once for the GEMM microkernel.
//
// One task computes a block of tiles end to end in per-thread scratch: input
// transform of the block (zero outside the image), the 36 GEMMs on the tier's
// microkernel, output transform with bias and clamp into the output. A tile's
// result depends only on its own input and the weights, never on which block
// or thread computed it, so results are bit-identical for any thread count.
//
// Its error is that of fp32 arithmetic on values the transforms scale by up
// to 8 (output) and 5 (input), larger than the direct convolution's but well
// inside the engine's parity bar (see winograd_test.go and
// engine/torchvision_test.go).

// winoAlpha is the transformed tile side and winoM the output tile side.
const (
	winoAlpha = 6
	winoM     = 4
	winoXi    = winoAlpha * winoAlpha
)

// WinogradApplies reports whether p is a convolution Winograd F(4×4, 3×3)
// computes: 3×3, stride 1, no dilation, no groups.
func WinogradApplies(p ConvParams) bool {
	return p.KH == 3 && p.KW == 3 && p.StrideH == 1 && p.StrideW == 1 &&
		p.DilH == 1 && p.DilW == 1 && p.Group == 1
}

// WinogradFloats is the number of float32s the packed transformed weights
// and bias of NewWinograd(p, mk, ...) hold.
func WinogradFloats(p ConvParams, mk GemmMicrokernel) int64 {
	panels := int64((p.K + mk.NR - 1) / mk.NR * mk.NR)
	return shape.MulSat(winoXi, panels, int64(p.C)) + int64(p.K)
}

// Winograd is a 3×3 stride-1 convolution computed by Winograd F(4×4, 3×3).
type Winograd struct {
	P      ConvParams
	gemm   [winoXi]GemmOp // B: U_ξ [C×K], M: a whole block of tiles
	last   [winoXi]GemmOp // the same for the last block's tiles
	bias   []float32      // length K
	lo, hi float32        // clamp fused into the output transform
	post   Act            // activation without a clamp form, run after it
	el     Elem
	tr     impl.Impl[*winoTransforms]
	th, tw int // tiles per image, vertically and horizontally
	tb     int // tiles per block
	split  int // chunks of output channels (of whole NR panels) per block
}

// winoTransforms is one tier's transforms; the assembly tiers give the bits
// of winoInputGo and winoOutputGo.
type winoTransforms struct {
	in  func(dst []float32, dstStride int, src []float32, rowStride, C int)
	out func(dst []float32, rowStride, colStride int, src []float32, srcStride, n int, bias []float32, lo, hi float32)
}

// winoFamily holds the Winograd transforms of every tier.
var winoFamily = impl.NewFamily[*winoTransforms]("winograd")

func registerWino(t Tier, name string, w *winoTransforms) { register(winoFamily, t, name, w) }

func init() {
	registerWino(Generic, "f32-winograd-f4x3-go", &winoTransforms{in: winoInputGo, out: winoOutputGo})
}

// NewWinograd transforms and packs OIHW weights w and bias (nil for none)
// for microkernel mk. p must be resolved and WinogradApplies(p) hold.
// threads is how many threads will share a run: it sets how the tiles and
// output channels are cut into tasks, which never changes the result.
func NewWinograd(p ConvParams, mk GemmMicrokernel, w, bias []float32, act Act, threads int) *Winograd {
	wg := &Winograd{P: p, el: ElemFor(mk.Tier), tr: winoFamily.Lookup(uint8(mk.Tier)),
		lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	switch {
	case act.Kind == ActClamp:
		wg.lo, wg.hi = act.A, act.B
	case act.Kind != ActNone:
		wg.post = act
	}
	wg.th = (p.OH + winoM - 1) / winoM
	wg.tw = (p.OW + winoM - 1) / winoM
	wg.bias = make([]float32, p.K)
	copy(wg.bias, bias)
	u := winoWeights(p.K, p.C, w)
	for xi := range wg.gemm {
		wg.gemm[xi] = GemmOp{MK: mk, B: PackB(mk.NR, p.C, p.K, u[xi*p.C*p.K:], p.K, false), Epi: Identity(), El: wg.el}
	}
	// A block's V and M in about 384 KiB (L2), and about four tasks a
	// thread for the session's dynamic claiming to balance: smaller blocks
	// first, down to one microkernel tile, then, for two tasks a thread,
	// output channels cut in chunks of whole NR panels (each chunk redoes
	// its block's input transform: 1.4× the serial time at 8 chunks of a
	// 128-channel 8×8 layer, BenchmarkWinogradSplit).
	tiles := max(1, 384<<10/(4*winoXi*(p.C+p.K)))
	want := 4 * max(1, threads)
	if threads > 1 {
		tiles = min(tiles, (wg.Tiles()+want-1)/want)
	}
	split := 1
	if blocks := (wg.Tiles() + mk.MR - 1) / mk.MR; threads > 1 && blocks < 2*threads {
		split = (2*threads + blocks - 1) / blocks // chunks cost more than blocks
	}
	wg.setBlocking(tiles, split)
	return wg
}

// setBlocking groups tiles into tasks of about tiles each (rounded to whole
// microkernel tiles) and cuts the output channels into split chunks.
func (wg *Winograd) setBlocking(tiles, split int) {
	mk := wg.gemm[0].MK
	wg.tb = max(mk.MR, tiles/mk.MR*mk.MR)
	wg.split = max(1, min(split, wg.gemm[0].B.Panels()))
	// The last block's rows are rounded up to whole microkernel tiles
	// (zero rows of V): a full tile is read in place, a partial one would
	// be packed, which costs more than the GEMM rows it saves.
	lastM := wg.Tiles() - (wg.blocks()-1)*wg.tb
	lastM = (lastM + mk.MR - 1) / mk.MR * mk.MR
	for xi := range wg.gemm {
		wg.gemm[xi].M = wg.tb
		wg.last[xi] = wg.gemm[xi]
		wg.last[xi].M = lastM
	}
}

// Tiles returns the number of output tiles of one run.
func (wg *Winograd) Tiles() int { return wg.P.N * wg.th * wg.tw }

func (wg *Winograd) blocks() int { return (wg.Tiles() + wg.tb - 1) / wg.tb }

// Tasks returns the number of independent tasks of one run.
func (wg *Winograd) Tasks() int { return wg.blocks() * wg.split }

// Blocking returns the number of tiles one task computes and the number of
// chunks the output channels are cut into.
func (wg *Winograd) Blocking() (tiles, split int) { return wg.tb, wg.split }

// Kernel names the transforms and microkernel the convolution runs.
func (wg *Winograd) Kernel() string {
	return "f32-conv-winograd/" + wg.tr.Name + "/" + wg.gemm[0].MK.Name
}

// ScratchLen is the per-thread scratch RunTasks needs.
func (wg *Winograd) ScratchLen() int {
	c, k := wg.P.C, wg.P.K
	return winoXi*wg.tb*(c+k) + wg.gemm[0].ScratchLen() + winoXi*c + winoM*winoM*k
}

// RunTasks computes tasks lo .. hi-1 of the convolution of NHWC input in
// into NHWC out: task t is block t/split of tiles, chunk t%split of the
// output channels.
func (wg *Winograd) RunTasks(lo, hi int, in, out, scratch []float32) {
	for t := lo; t < hi; t++ {
		b, chunk := t/wg.split, t%wg.split
		wg.runBlock(b*wg.tb, min(wg.Tiles(), (b+1)*wg.tb), chunk, in, out, scratch)
	}
}

func (wg *Winograd) runBlock(t0, t1, chunk int, in, out, scratch []float32) {
	p := &wg.P
	c, k := p.C, p.K
	nt := t1 - t0
	vs, ms := wg.tb*c, wg.tb*k // strides of one ξ in V and M
	v := scratch[:winoXi*vs]
	m := scratch[winoXi*vs : winoXi*(vs+ms)]
	rest := scratch[winoXi*(vs+ms):]
	ga := rest[:wg.gemm[0].ScratchLen()]
	patch := rest[len(ga) : len(ga)+winoXi*c]
	otile := rest[len(ga)+len(patch) : len(ga)+len(patch)+winoM*winoM*k]

	for i := 0; i < nt; i++ {
		n, y0, x0 := wg.tileOrigin(t0 + i)
		iy, ix := y0-p.PadT, x0-p.PadL
		dst := v[i*c:]
		if iy >= 0 && ix >= 0 && iy+winoAlpha <= p.H && ix+winoAlpha <= p.W {
			wg.tr.Kernels.in(dst, vs, in[((n*p.H+iy)*p.W+ix)*c:], p.W*c, c)
			continue
		}
		for r := 0; r < winoAlpha; r++ {
			row := patch[r*winoAlpha*c : (r+1)*winoAlpha*c]
			y := iy + r
			if y < 0 || y >= p.H {
				clear(row)
				continue
			}
			for s := 0; s < winoAlpha; s++ {
				px := row[s*c : (s+1)*c]
				if x := ix + s; x >= 0 && x < p.W {
					copy(px, in[((n*p.H+y)*p.W+x)*c:])
				} else {
					clear(px)
				}
			}
		}
		wg.tr.Kernels.in(dst, vs, patch, winoAlpha*c, c)
	}

	ops := &wg.gemm
	if nt < wg.tb {
		ops = &wg.last
		for xi := range winoXi {
			clear(v[xi*vs+nt*c : xi*vs+ops[0].M*c])
		}
	}
	for xi := range ops {
		g := &ops[xi]
		a := DenseA{Data: v[xi*vs : xi*vs+g.M*c], LD: c}
		if wg.split == 1 {
			GemmRange(g, a, m[xi*ms:], k, 1, 0, g.Tiles(), ga, Act{})
			continue
		}
		for mt := 0; mt < g.Tiles(); mt++ {
			GemmRange(g, a, m[xi*ms:], k, wg.split, mt*wg.split+chunk, mt*wg.split+chunk+1, ga, Act{})
		}
	}

	// This chunk's output channels: GemmRange's panels chunk*np/split ..
	np, nr := wg.gemm[0].B.Panels(), wg.gemm[0].MK.NR
	k0, k1 := chunk*np/wg.split*nr, min(k, (chunk+1)*np/wg.split*nr)
	kn := k1 - k0
	for i := 0; i < nt; i++ {
		n, y0, x0 := wg.tileOrigin(t0 + i)
		rows, cols := min(winoM, p.OH-y0), min(winoM, p.OW-x0)
		base := ((n*p.OH+y0)*p.OW+x0)*k + k0
		src, bias := m[i*k+k0:], wg.bias[k0:k1]
		if rows == winoM && cols == winoM {
			wg.tr.Kernels.out(out[base:], p.OW*k, k, src, ms, kn, bias, wg.lo, wg.hi)
		} else {
			wg.tr.Kernels.out(otile, winoM*kn, kn, src, ms, kn, bias, wg.lo, wg.hi)
			for r := 0; r < rows; r++ {
				for s := 0; s < cols; s++ {
					copy(out[base+r*p.OW*k+s*k:base+r*p.OW*k+s*k+kn], otile[(r*winoM+s)*kn:])
				}
			}
		}
		if wg.post.Kind != ActNone {
			for r := 0; r < rows; r++ {
				for s := 0; s < cols; s++ {
					px := out[base+r*p.OW*k+s*k : base+r*p.OW*k+s*k+kn]
					wg.el.Apply(wg.post, px, px)
				}
			}
		}
	}
}

// tileOrigin returns the image and the top-left output pixel of tile t.
func (wg *Winograd) tileOrigin(t int) (n, y0, x0 int) {
	per := wg.th * wg.tw
	n, t = t/per, t%per
	return n, t / wg.tw * winoM, t % wg.tw * winoM
}

// winoWeights returns U_ξ = (G g Gᵀ)_ξ for every output channel k and input
// channel c of the OIHW 3×3 weights w, as 36 row-major [C×K] matrices.
func winoWeights(K, C int, w []float32) []float32 {
	g := [winoAlpha][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	u := make([]float32, winoXi*C*K)
	for k := 0; k < K; k++ {
		for c := 0; c < C; c++ {
			f := w[(k*C+c)*9 : (k*C+c)*9+9]
			var t [winoAlpha][3]float64 // G·f
			for i := range winoAlpha {
				for j := range 3 {
					t[i][j] = g[i][0]*float64(f[j]) + g[i][1]*float64(f[3+j]) + g[i][2]*float64(f[6+j])
				}
			}
			for i := range winoAlpha {
				for j := range winoAlpha {
					s := t[i][0]*g[j][0] + t[i][1]*g[j][1] + t[i][2]*g[j][2]
					u[((i*winoAlpha+j)*C+c)*K+k] = float32(s)
				}
			}
		}
	}
	return u
}

// winoInputGo computes V = Bᵀ d B for every channel c < C of the 6×6 block
// d whose pixel (r, s) starts at src[r*rowStride+s*C], writing element ξ of
// channel c to dst[ξ*dstStride+c]: first along each row, then along each
// column, each pass the 1-D transform
//
//	t0 = 4d0 - 5d2 + d4       t3 = 2(d3 - d1) + d4 - d2
//	t1 = d3 + d4 - 4(d1 + d2) t4 = 2(d1 - d3) + d4 - d2
//	t2 = d4 - d3 + 4(d1 - d2) t5 = 4d1 - 5d3 + d5
//
// with every product and sum rounded as written (the assembly tiers give the
// same bits).
func winoInputGo(dst []float32, dstStride int, src []float32, rowStride, C int) {
	winoInputChannels(dst, dstStride, src, rowStride, C, 0, C)
}

// winoInputChannels is winoInputGo for channels c0 .. c1-1 of C.
func winoInputChannels(dst []float32, dstStride int, src []float32, rowStride, C, c0, c1 int) {
	var t [winoXi]float32
	for c := c0; c < c1; c++ {
		for r := 0; r < winoAlpha; r++ {
			row := src[r*rowStride+c:]
			winoIn1(t[r*winoAlpha:r*winoAlpha+winoAlpha], row[0], row[C], row[2*C], row[3*C], row[4*C], row[5*C])
		}
		var col [winoAlpha]float32
		for s := 0; s < winoAlpha; s++ {
			winoIn1(col[:], t[s], t[winoAlpha+s], t[2*winoAlpha+s], t[3*winoAlpha+s], t[4*winoAlpha+s], t[5*winoAlpha+s])
			for r, x := range col {
				dst[(r*winoAlpha+s)*dstStride+c] = x
			}
		}
	}
}

func winoIn1(t []float32, d0, d1, d2, d3, d4, d5 float32) {
	t = t[:winoAlpha]
	// float32() around each product keeps the compiler from fusing it into
	// an FMA on arm64 or elsewhere: every tier rounds it separately.
	t[0] = float32(4*d0) - float32(5*d2) + d4
	t[1] = (d3 + d4) - float32(4*(d1+d2))
	t[2] = (d4 - d3) + float32(4*(d1-d2))
	t[3] = float32(2*(d3-d1)) + (d4 - d2)
	t[4] = float32(2*(d1-d3)) + (d4 - d2)
	t[5] = float32(4*d1) - float32(5*d3) + d5
}

// winoOutputGo computes Y = Aᵀ m A + bias, clamped to [lo, hi], for the
// channels k < n, where element ξ of channel k of m is src[ξ*srcStride+k];
// channel k of output pixel (r, s) of the 4×4 tile goes to
// dst[r*rowStride+s*colStride+k], one pass along rows, then columns, of
//
//	y0 = m0 + m1 + m2 + m3 + m4     y2 = (m1 + m2) + 4(m3 + m4)
//	y1 = (m1 - m2) + 2(m3 - m4)     y3 = (m1 - m2) + 8(m3 - m4) + m5
func winoOutputGo(dst []float32, rowStride, colStride int, src []float32, srcStride, n int, bias []float32, lo, hi float32) {
	winoOutputChannels(dst, rowStride, colStride, src, srcStride, bias, lo, hi, 0, n)
}

// winoOutputChannels is winoOutputGo for channels k0 .. k1-1.
func winoOutputChannels(dst []float32, rowStride, colStride int, src []float32, srcStride int, bias []float32, lo, hi float32, k0, k1 int) {
	var t [winoM * winoAlpha]float32
	for k := k0; k < k1; k++ {
		for r := 0; r < winoAlpha; r++ {
			b := (r * winoAlpha) * srcStride
			winoOut1(t[r*winoM:r*winoM+winoM], src[b+k], src[b+srcStride+k], src[b+2*srcStride+k],
				src[b+3*srcStride+k], src[b+4*srcStride+k], src[b+5*srcStride+k])
		}
		var col [winoM]float32
		for s := 0; s < winoM; s++ {
			winoOut1(col[:], t[s], t[winoM+s], t[2*winoM+s], t[3*winoM+s], t[4*winoM+s], t[5*winoM+s])
			for r, y := range col {
				dst[r*rowStride+s*colStride+k] = min(max(y+bias[k], lo), hi)
			}
		}
	}
}

func winoOut1(y []float32, m0, m1, m2, m3, m4, m5 float32) {
	y = y[:winoM]
	a, b := m1+m2, m1-m2
	c, d := m3+m4, m3-m4
	y[0] = m0 + a + c
	y[1] = b + float32(2*d)
	y[2] = a + float32(4*c)
	y[3] = b + float32(8*d) + m5
}
