package kernels

// Convolution over NHWC activations ([N, H, W, C] in memory).
//
// A grouped convolution is one GEMM per group: M = N·OH·OW output pixels,
// K = KH·KW·C/G (tap-major, channel-minor, so each tap's channels are
// contiguous in the NHWC input), N = K/G output channels. The weights are
// packed once; the A panel of each MR-pixel tile is gathered directly from the
// input (zero for padding), so no im2col buffer exists, or not gathered at
// all: a tile of MR pixels in one output row, away from the borders, has its
// im2col rows StrideW·C apart in the input, and the microkernel reads them
// there (convA.InPlace), K blocks being cut at kernel-row boundaries for it.

// ConvGemm is a convolution run as per-group GEMMs with packed weights.
type ConvGemm struct {
	P     ConvParams
	Group []GemmOp // one per group
	Post  Act      // activation applied after the GEMM when it has no epilogue form
	Kgrp  int      // output channels per group
	Cgrp  int      // input channels per group
	split int      // NR-panel chunks per tile (see SetSplit)
	seg   int      // see segment
	zeros []float32
}

// NewConvGemm packs OIHW weights w and bias (nil for none) for microkernel mk.
// p must be resolved.
func NewConvGemm(p ConvParams, mk GemmMicrokernel, w, bias []float32, act Act) *ConvGemm {
	cv := &ConvGemm{P: p, Kgrp: p.K / p.Group, Cgrp: p.C / p.Group, split: 1}
	cv.seg = cv.segment()
	cv.zeros = make([]float32, p.KW*cv.Cgrp)
	epi, fused := act.Epilogue()
	if !fused {
		epi = Identity()
		cv.Post = act
	}
	taps := p.KH * p.KW
	wg := cv.Kgrp * cv.Cgrp * taps // weights per group
	for g := 0; g < p.Group; g++ {
		var b []float32
		if bias != nil {
			b = append([]float32(nil), bias[g*cv.Kgrp:(g+1)*cv.Kgrp]...)
		}
		cv.Group = append(cv.Group, GemmOp{
			MK: mk, M: p.N * p.OH * p.OW, B: PackConvB(mk.NR, taps, cv.Cgrp, cv.Kgrp, w[g*wg:(g+1)*wg]),
			Bias: b, Epi: epi, KC: cv.kcAligned(), El: ElemFor(mk.Tier),
		})
	}
	return cv
}

// wholeRows reports whether a kernel row (KW taps of cg channels) is one
// contiguous run of an NHWC input row: no groups and no W dilation.
func wholeRows(p *ConvParams, cg int) bool { return cg == p.C && p.DilW == 1 }

// segment returns the length of the runs of K that are contiguous in the
// NHWC input for one output pixel: a whole kernel row (KW taps of all
// channels) without groups or W dilation, one tap's channels otherwise.
func (cv *ConvGemm) segment() int {
	if wholeRows(&cv.P, cv.Cgrp) {
		return cv.P.KW * cv.Cgrp
	}
	return cv.Cgrp
}

// kcAligned picks a K block that never straddles two segments, so a tile's
// block can be read in place (convA.InPlace): whole kernel rows up to 384
// floats together (a 7×7 RGB first layer in one block of 147, a 3×3 layer
// of 64 channels in blocks of 384 and 192), a longer segment in equal
// shares. Below 16 floats the calls get too short and the default block is
// packed instead.
func (cv *ConvGemm) kcAligned() int {
	seg := cv.seg
	if cv.Pointwise() || seg < 16 {
		return 0
	}
	if seg <= 384 {
		if wholeRows(&cv.P, cv.Cgrp) {
			return seg * (384 / seg)
		}
		return seg
	}
	nb := (seg + 383) / 384
	if seg%nb != 0 {
		return 0
	}
	return seg / nb
}

// SetSplit sets into how many chunks of NR panels each (group, tile) task is
// cut; more chunks give more parallelism when M is small. It never changes
// the result.
func (cv *ConvGemm) SetSplit(s int) {
	cv.split = max(1, min(s, cv.Group[0].B.Panels()))
}

// Tasks returns the number of independent tasks of one run.
func (cv *ConvGemm) Tasks() int { return cv.P.Group * cv.Group[0].Tiles() * cv.split }

// ScratchLen is the per-thread scratch RunTask needs.
func (cv *ConvGemm) ScratchLen() int { return cv.Group[0].ScratchLen() }

// Pointwise reports whether the convolution is a 1×1, stride-1, unpadded one
// whose A matrix is the input itself.
func (cv *ConvGemm) Pointwise() bool { return cv.P.pointwise() }

// RunTasks computes tasks lo .. hi-1 of the convolution of NHWC input in
// into NHWC out (see GemmRange; task order is group, M tile, panel chunk).
func (cv *ConvGemm) RunTasks(lo, hi int, in, out, scratch []float32) {
	groupTasks(lo, hi, cv.Group[0].Tiles()*cv.split, func(g, lo, hi int) {
		op := &cv.Group[g]
		c := out[g*cv.Kgrp:]
		if cv.Pointwise() {
			GemmRange(op, DenseA{Data: in[g*cv.Cgrp:], LD: cv.P.C}, c, cv.P.K, cv.split, lo, hi, scratch, cv.Post)
		} else {
			GemmRange(op, convA{p: &cv.P, in: in, c0: g * cv.Cgrp, cg: cv.Cgrp, seg: cv.seg, zeros: cv.zeros}, c, cv.P.K, cv.split, lo, hi, scratch, cv.Post)
		}
	})
}

// RunTask computes task t; see RunTasks.
func (cv *ConvGemm) RunTask(t int, in, out, scratch []float32) { cv.RunTasks(t, t+1, in, out, scratch) }

// convA gathers im2col rows of an NHWC input for one group.
type convA struct {
	p      *ConvParams
	in     []float32
	c0, cg int
	seg    int       // see ConvGemm.segment
	zeros  []float32 // cg zeros: the source of padding taps
}

// InPlace implements APacker. A tile's im2col rows are evenly spaced in the
// input (stride StrideW·C) when its MR pixels lie in one output row and
// every tap of the K block is inside the input for all of them: then row i
// is the input run at pixel i's tap. A block may be part of one segment or,
// for whole kernel rows, several whole segments one input row (times the
// H dilation) apart.
func (a convA) InPlace(MR, m0, k0, k1 int) (InPlaceA, bool) {
	p := a.p
	s0, s1 := k0/a.seg, (k1-1)/a.seg
	whole := a.seg == p.KW*a.cg && p.DilW == 1
	if s1 != s0 && (!whole || k0 != s0*a.seg || k1 != (s1+1)*a.seg) {
		return InPlaceA{}, false
	}
	row := m0 / p.OW
	ow := m0 - row*p.OW
	if ow+MR > p.OW {
		return InPlaceA{}, false
	}
	n := row / p.OH
	oh := row - n*p.OH
	var kh, kw int
	off := k0 - s0*a.seg
	if whole {
		kh = s0
	} else {
		kh, kw = s0/p.KW, s0%p.KW
	}
	ih := oh*p.StrideH - p.PadT + kh*p.DilH
	ihLast := ih + (s1-s0)*p.DilH
	iw := ow*p.StrideW - p.PadL + kw*p.DilW
	last := (ow+MR-1)*p.StrideW - p.PadL + kw*p.DilW
	if whole {
		last += p.KW - 1
	}
	if ih < 0 || ihLast >= p.H || iw < 0 || last >= p.W {
		return InPlaceA{}, false
	}
	ia := InPlaceA{LD: p.StrideW * p.C, Seg: k1 - k0, NSeg: 1}
	if s1 != s0 {
		ia.Seg, ia.NSeg, ia.SegStride = a.seg, s1-s0+1, p.DilH*p.W*p.C
	}
	lo := ((n*p.H+ih)*p.W+iw)*p.C + a.c0 + off
	hi := lo + (MR-1)*ia.LD + (ia.NSeg-1)*ia.SegStride + ia.Seg
	ia.Data = a.in[lo:hi:hi]
	return ia, true
}

// maxPackRows bounds MR for the gathered packing path (sources on the stack).
const maxPackRows = 32

func (a convA) PackA(dst []float32, MR, m0, mr, k0, k1 int) {
	if MR > maxPackRows {
		a.packRowwise(dst, MR, m0, mr, k0, k1)
		return
	}
	p := a.p
	dst = dst[:(k1-k0)*MR]
	// Base input coordinates of each of the tile's output pixels.
	var ih0, iw0, nb [maxPackRows]int
	for i := 0; i < mr; i++ {
		n, h, w := p.windowOrigin(m0 + i)
		ih0[i], iw0[i], nb[i] = h, w, n*p.H
	}
	var src [maxPackRows][]float32
	// Without groups and dilation along W, the taps kw..KW-1 of one kernel row
	// are contiguous in NHWC memory: gather them as one segment when every
	// row of the tile has them all inside the input (or all in padding).
	whole := wholeRows(p, a.cg)
	rowLen := p.KW * a.cg
	if whole && rowLen <= borderRowMax && mr <= borderTileMax {
		for i := 0; i < mr; i++ {
			if iw0[i] < 0 || iw0[i]+p.KW > p.W {
				a.packBorder(dst, MR, mr, k0, k1, &ih0, &iw0, &nb)
				return
			}
		}
	}
	for k := k0; k < k1; {
		tap := k / a.cg
		ci := k - tap*a.cg
		kh := tap / p.KW
		kw := tap - kh*p.KW
		if whole && kw*a.cg+ci+1 < rowLen {
			seg := min(k1-k, rowLen-(kw*a.cg+ci))
			zoff := kw*a.cg + ci
			ok := true
			for i := 0; i < mr; i++ {
				ih := ih0[i] + kh*p.DilH
				iw := iw0[i] + kw
				if ih < 0 || ih >= p.H {
					src[i] = a.zeros[zoff : zoff+seg]
					continue
				}
				if iw < 0 || iw0[i]+p.KW > p.W {
					ok = false
					break
				}
				off := ((nb[i]+ih)*p.W+iw)*p.C + ci
				src[i] = a.in[off : off+seg]
			}
			if ok {
				transposeRows(dst[(k-k0)*MR:(k-k0+seg)*MR], src[:mr], MR, seg)
				k += seg
				continue
			}
		}
		seg := min(k1-k, a.cg-ci)
		for i := 0; i < mr; i++ {
			ih := ih0[i] + kh*p.DilH
			iw := iw0[i] + kw*p.DilW
			if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
				src[i] = a.zeros[ci : ci+seg]
			} else {
				off := ((nb[i]+ih)*p.W+iw)*p.C + a.c0 + ci
				src[i] = a.in[off : off+seg]
			}
		}
		d := dst[(k-k0)*MR : (k-k0+seg)*MR]
		transposeRows(d, src[:mr], MR, seg)
		k += seg
	}
}

// Bounds of packBorder's row buffers: kernel rows of up to 64 floats (a
// 7×7 RGB or 3×3 16-channel kernel row) in tiles of up to 16 rows.
const (
	borderRowMax  = 64
	borderTileMax = 16
)

// packBorder packs a tile some of whose pixels have kernel rows running
// over the left or right edge of the input. Rather than falling back to one
// tap (C floats) at a time, it gathers each pixel's kernel row into a small
// buffer, zero where the row leaves the input, and transposes whole rows.
func (a convA) packBorder(dst []float32, MR, mr, k0, k1 int, ih0, iw0, nb *[maxPackRows]int) {
	p := a.p
	rowLen := p.KW * a.cg
	var tmp [borderTileMax][borderRowMax]float32
	var src [maxPackRows][]float32
	for k := k0; k < k1; {
		kh := k / rowLen
		zoff := k - kh*rowLen
		seg := min(k1-k, rowLen-zoff)
		for i := 0; i < mr; i++ {
			t := tmp[i][:seg]
			ih := ih0[i] + kh*p.DilH
			// The part of the kernel row inside the input, as offsets
			// into the row, clipped to the segment.
			lo := max(0, -iw0[i]) * a.cg
			hi := max(0, min(p.KW, p.W-iw0[i])) * a.cg
			s0, s1 := max(lo, zoff), min(hi, zoff+seg)
			if ih < 0 || ih >= p.H || s0 >= s1 {
				clear(t)
			} else {
				clear(t[:s0-zoff])
				clear(t[s1-zoff:])
				base := ((nb[i]+ih)*p.W+iw0[i])*p.C + a.c0
				copy(t[s0-zoff:s1-zoff], a.in[base+s0:base+s1])
			}
			src[i] = t
		}
		transposeRows(dst[(k-k0)*MR:(k-k0+seg)*MR], src[:mr], MR, seg)
		k += seg
	}
}

// transposeRows writes d[q*MR+i] = src[i][q] for q < seg, zeroing rows
// len(src)..MR-1: the k-major panel layout, written sequentially. Full tiles
// of the registered tile heights are unrolled.
func transposeRows(d []float32, src [][]float32, MR, seg int) {
	mr := len(src)
	off := 0
	if mr == MR && seg >= 4 && (MR%4 == 0 || MR == 6) {
		// Groups of four rows through 4×4 transposes where there is
		// assembly for it; the remaining steps below. Six rows (AVX2's
		// tile) are rows 0-3 and then 2-5, rows 2 and 3 written twice
		// with the same values: the scalar loop was a fifth of an fp32
		// 3×3 convolution's time there.
		if MR == 6 {
			off = packRows4(d, MR, src[0], src[1], src[2], src[3], seg)
			packRows4(d[2:], MR, src[2], src[3], src[4], src[5], seg)
		} else {
			for g := 0; g < MR; g += 4 {
				off = packRows4(d[g:], MR, src[g], src[g+1], src[g+2], src[g+3], seg)
			}
		}
		d = d[off*MR:]
	}
	seg -= off
	if seg == 0 {
		return
	}
	if mr == 12 && MR == 12 {
		s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 := src[0][off:off+seg], src[1][off:off+seg], src[2][off:off+seg], src[3][off:off+seg], src[4][off:off+seg], src[5][off:off+seg], src[6][off:off+seg], src[7][off:off+seg], src[8][off:off+seg], src[9][off:off+seg], src[10][off:off+seg], src[11][off:off+seg]
		for q := range s0 {
			o := d[q*12 : q*12+12 : q*12+12]
			o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11] = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], s6[q], s7[q], s8[q], s9[q], s10[q], s11[q]
		}
		return
	}
	if mr == 8 && MR == 8 {
		s0, s1, s2, s3, s4, s5, s6, s7 := src[0][off:off+seg], src[1][off:off+seg], src[2][off:off+seg], src[3][off:off+seg], src[4][off:off+seg], src[5][off:off+seg], src[6][off:off+seg], src[7][off:off+seg]
		for q := range s0 {
			o := d[q*8 : q*8+8 : q*8+8]
			o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], s6[q], s7[q]
		}
		return
	}
	if mr == 6 && MR == 6 {
		s0, s1, s2, s3, s4, s5 := src[0][off:off+seg], src[1][off:off+seg], src[2][off:off+seg], src[3][off:off+seg], src[4][off:off+seg], src[5][off:off+seg]
		for q := range s0 {
			o := d[q*6 : q*6+6 : q*6+6]
			o[0], o[1], o[2], o[3], o[4], o[5] = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q]
		}
		return
	}
	if mr == 4 && MR == 4 {
		s0, s1, s2, s3 := src[0][off:off+seg], src[1][off:off+seg], src[2][off:off+seg], src[3][off:off+seg]
		for q := range s0 {
			o := d[q*4 : q*4+4 : q*4+4]
			o[0], o[1], o[2], o[3] = s0[q], s1[q], s2[q], s3[q]
		}
		return
	}
	for q := 0; q < seg; q++ {
		o := d[q*MR : q*MR+MR]
		for i, s := range src {
			o[i] = s[off+q]
		}
		clear(o[mr:])
	}
}

// packRowwise is the PackA path for tiles taller than maxPackRows.
func (a convA) packRowwise(dst []float32, MR, m0, mr, k0, k1 int) {
	p := a.p
	dst = dst[:(k1-k0)*MR]
	if mr < MR {
		clear(dst)
	}
	for i := 0; i < mr; i++ {
		n, ih0, iw0 := p.windowOrigin(m0 + i)
		for k := k0; k < k1; {
			tap := k / a.cg
			ci := k - tap*a.cg
			seg := min(k1-k, a.cg-ci)
			kh := tap / p.KW
			kw := tap - kh*p.KW
			ih := ih0 + kh*p.DilH
			iw := iw0 + kw*p.DilW
			d := dst[(k-k0)*MR+i:]
			if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
				for q := 0; q < seg; q++ {
					d[q*MR] = 0
				}
			} else {
				off := ((n*p.H+ih)*p.W+iw)*p.C + a.c0 + ci
				for q, v := range a.in[off : off+seg] {
					d[q*MR] = v
				}
			}
			k += seg
		}
	}
}
