package kernels

import "math"

// Convolution over NHWC activations ([N, H, W, C] in memory).
//
// A grouped convolution is one GEMM per group: M = N·OH·OW output pixels,
// K = KH·KW·C/G (tap-major, channel-minor, so each tap's channels are
// contiguous in the NHWC input), N = K/G output channels. The weights are
// packed once; the A panel of each MR-pixel tile is gathered directly from the
// input (zero for padding), so no im2col buffer exists.

// ConvGemm is a convolution run as per-group GEMMs with packed weights.
type ConvGemm struct {
	P     ConvParams
	Group []GemmOp // one per group
	Post  Act      // activation applied after the GEMM when it has no epilogue form
	Kgrp  int      // output channels per group
	Cgrp  int      // input channels per group
	split int      // NR-panel chunks per tile (see SetSplit)
	zeros []float32
}

// NewConvGemm packs OIHW weights w and bias (nil for none) for microkernel mk.
// p must be resolved.
func NewConvGemm(p ConvParams, mk GemmMicrokernel, w, bias []float32, act Act) *ConvGemm {
	cv := &ConvGemm{P: p, Kgrp: p.K / p.Group, Cgrp: p.C / p.Group, split: 1}
	cv.zeros = make([]float32, p.KW*cv.Cgrp)
	epi, fused := act.Epilogue()
	if !fused {
		epi = Identity()
		cv.Post = act
	}
	kdim := p.KH * p.KW * cv.Cgrp
	taps := p.KH * p.KW
	wk := make([]float32, kdim*cv.Kgrp) // [kdim][Kgrp] for one group
	for g := 0; g < p.Group; g++ {
		for o := 0; o < cv.Kgrp; o++ {
			k := g*cv.Kgrp + o
			for c := 0; c < cv.Cgrp; c++ {
				for t := 0; t < taps; t++ {
					wk[(t*cv.Cgrp+c)*cv.Kgrp+o] = w[(k*cv.Cgrp+c)*taps+t]
				}
			}
		}
		var b []float32
		if bias != nil {
			b = append([]float32(nil), bias[g*cv.Kgrp:(g+1)*cv.Kgrp]...)
		}
		cv.Group = append(cv.Group, GemmOp{
			MK: mk, M: p.N * p.OH * p.OW, B: PackB(mk.NR, kdim, cv.Kgrp, wk, cv.Kgrp, false),
			Bias: b, Epi: epi,
		})
	}
	return cv
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
func (cv *ConvGemm) Pointwise() bool {
	p := &cv.P
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadT == 0 && p.PadL == 0 && p.PadB == 0 && p.PadR == 0
}

// RunTasks computes tasks lo .. hi-1 of the convolution of NHWC input in
// into NHWC out (see GemmRange; task order is group, M tile, panel chunk).
func (cv *ConvGemm) RunTasks(lo, hi int, in, out, scratch []float32) {
	per := cv.Group[0].Tiles() * cv.split
	for lo < hi {
		g := lo / per
		end := min(hi, (g+1)*per)
		op := &cv.Group[g]
		c := out[g*cv.Kgrp:]
		if cv.Pointwise() {
			GemmRange(op, DenseA{Data: in[g*cv.Cgrp:], LD: cv.P.C}, c, cv.P.K, cv.split, lo-g*per, end-g*per, scratch, cv.Post)
		} else {
			GemmRange(op, convA{p: &cv.P, in: in, c0: g * cv.Cgrp, cg: cv.Cgrp, zeros: cv.zeros}, c, cv.P.K, cv.split, lo-g*per, end-g*per, scratch, cv.Post)
		}
		lo = end
	}
}

// RunTask computes task t; see RunTasks.
func (cv *ConvGemm) RunTask(t int, in, out, scratch []float32) { cv.RunTasks(t, t+1, in, out, scratch) }

// convA gathers im2col rows of an NHWC input for one group.
type convA struct {
	p      *ConvParams
	in     []float32
	c0, cg int
	zeros  []float32 // cg zeros: the source of padding taps
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
	ohw := p.OH * p.OW
	// Base input coordinates of each of the tile's output pixels.
	var ih0, iw0, nb [maxPackRows]int
	for i := 0; i < mr; i++ {
		m := m0 + i
		n := m / ohw
		r := m - n*ohw
		oh := r / p.OW
		ow := r - oh*p.OW
		ih0[i] = oh*p.StrideH - p.PadT
		iw0[i] = ow*p.StrideW - p.PadL
		nb[i] = n * p.H
	}
	var src [maxPackRows][]float32
	// Without groups and dilation along W, the taps kw..KW-1 of one kernel row
	// are contiguous in NHWC memory: gather them as one segment when every
	// row of the tile has them all inside the input (or all in padding).
	wholeRows := a.cg == p.C && p.DilW == 1
	rowLen := p.KW * a.cg
	for k := k0; k < k1; {
		tap := k / a.cg
		ci := k - tap*a.cg
		kh := tap / p.KW
		kw := tap - kh*p.KW
		if wholeRows && kw*a.cg+ci+1 < rowLen {
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

// transposeRows writes d[q*MR+i] = src[i][q] for q < seg, zeroing rows
// len(src)..MR-1: the k-major panel layout, written sequentially. Full tiles
// of the registered tile heights are unrolled.
func transposeRows(d []float32, src [][]float32, MR, seg int) {
	mr := len(src)
	if mr == 12 && MR == 12 {
		s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 := src[0][:seg], src[1][:seg], src[2][:seg], src[3][:seg], src[4][:seg], src[5][:seg], src[6][:seg], src[7][:seg], src[8][:seg], src[9][:seg], src[10][:seg], src[11][:seg]
		for q := range s0 {
			o := d[q*12 : q*12+12 : q*12+12]
			o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11] = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], s6[q], s7[q], s8[q], s9[q], s10[q], s11[q]
		}
		return
	}
	if mr == 8 && MR == 8 {
		s0, s1, s2, s3, s4, s5, s6, s7 := src[0][:seg], src[1][:seg], src[2][:seg], src[3][:seg], src[4][:seg], src[5][:seg], src[6][:seg], src[7][:seg]
		for q := range s0 {
			o := d[q*8 : q*8+8 : q*8+8]
			o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], s6[q], s7[q]
		}
		return
	}
	if mr == 6 && MR == 6 {
		s0, s1, s2, s3, s4, s5 := src[0][:seg], src[1][:seg], src[2][:seg], src[3][:seg], src[4][:seg], src[5][:seg]
		for q := range s0 {
			o := d[q*6 : q*6+6 : q*6+6]
			o[0], o[1], o[2], o[3], o[4], o[5] = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q]
		}
		return
	}
	if mr == 4 && MR == 4 {
		s0, s1, s2, s3 := src[0][:seg], src[1][:seg], src[2][:seg], src[3][:seg]
		for q := range s0 {
			o := d[q*4 : q*4+4 : q*4+4]
			o[0], o[1], o[2], o[3] = s0[q], s1[q], s2[q], s3[q]
		}
		return
	}
	for q := 0; q < seg; q++ {
		o := d[q*MR : q*MR+MR]
		for i, s := range src {
			o[i] = s[q]
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
	ohw := p.OH * p.OW
	for i := 0; i < mr; i++ {
		m := m0 + i
		n := m / ohw
		r := m - n*ohw
		oh := r / p.OW
		ow := r - oh*p.OW
		ih0 := oh*p.StrideH - p.PadT
		iw0 := ow*p.StrideW - p.PadL
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

// Depthwise is a depthwise convolution (Group == C == K) over NHWC
// activations, vectorised over channels.
type Depthwise struct {
	P    ConvParams
	W    []float32 // [KH*KW][C], tap-major
	Bias []float32 // [C], zero when the model has none
	Act  Act
}

// NewDepthwise repacks OIHW weights [C,1,KH,KW]. p must be resolved and have
// Group == C == K.
func NewDepthwise(p ConvParams, w, bias []float32, act Act) *Depthwise {
	taps := p.KH * p.KW
	d := &Depthwise{P: p, W: make([]float32, taps*p.C), Bias: make([]float32, p.C), Act: act}
	for c := 0; c < p.C; c++ {
		for t := 0; t < taps; t++ {
			d.W[t*p.C+c] = w[c*taps+t]
		}
	}
	if bias != nil {
		copy(d.Bias, bias)
	}
	return d
}

// Kernel names the path Run takes.
func (d *Depthwise) Kernel() string {
	if d.P.KW == 5 && d.P.DilW == 1 {
		return "f32-dwconv-5xN-go"
	}
	if d.P.KH == 3 && d.P.KW == 3 && d.P.DilH == 1 && d.P.DilW == 1 && (d.P.StrideH == 1 || d.P.StrideH == 2) && d.P.StrideH == d.P.StrideW {
		return "f32-dwconv-3x3-go"
	}
	return "f32-dwconv-go"
}

// Tasks returns the number of output rows (N·OH), the unit of work.
func (d *Depthwise) Tasks() int { return d.P.N * d.P.OH }

// RunTask computes output row t (n = t/OH, oh = t%OH).
func (d *Depthwise) RunTask(t int, in, out []float32) {
	p := &d.P
	n, oh := t/p.OH, t%p.OH
	C := p.C
	ih0 := oh*p.StrideH - p.PadT
	fast3 := d.Kernel() == "f32-dwconv-3x3-go" && ih0 >= 0 && ih0+2 < p.H
	for ow := 0; ow < p.OW; ow++ {
		iw0 := ow*p.StrideW - p.PadL
		o := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+1)*C]
		if fast3 && p.StrideW == 1 && iw0 >= 0 && iw0+3 < p.W && ow+1 < p.OW && (d.Act.Kind == ActClamp || d.Act.Kind == ActNone) {
			// Two neighbouring pixels share six of their nine input columns.
			o2 := out[((n*p.OH+oh)*p.OW+ow)*C : ((n*p.OH+oh)*p.OW+ow+2)*C]
			d.interior3x3Pair(in, o2, n, ih0, iw0)
			ow++
			continue
		}
		if fast3 && iw0 >= 0 && iw0+2 < p.W {
			d.interior3x3(in, o, n, ih0, iw0)
			if d.Act.Kind == ActClamp || d.Act.Kind == ActNone {
				continue
			}
		} else {
			copy(o, d.Bias)
			for kh := 0; kh < p.KH; kh++ {
				ih := ih0 + kh*p.DilH
				if ih < 0 || ih >= p.H {
					continue
				}
				if p.KW == 5 && p.DilW == 1 && iw0 >= 0 && iw0+4 < p.W {
					// A whole 5-tap row in one pass over the channels.
					b := ((n*p.H+ih)*p.W + iw0) * C
					x0, x1, x2, x3, x4 := in[b:b+C], in[b+C:b+2*C], in[b+2*C:b+3*C], in[b+3*C:b+4*C], in[b+4*C:b+5*C]
					w := d.W[kh*5*C : (kh+1)*5*C]
					w0, w1, w2, w3, w4 := w[:C], w[C:2*C], w[2*C:3*C], w[3*C:4*C], w[4*C:5*C]
					o := o[:C]
					for c := range o {
						acc := o[c]
						acc += x0[c] * w0[c]
						acc += x1[c] * w1[c]
						acc += x2[c] * w2[c]
						acc += x3[c] * w3[c]
						acc += x4[c] * w4[c]
						o[c] = acc
					}
					continue
				}
				for kw := 0; kw < p.KW; kw++ {
					iw := iw0 + kw*p.DilW
					if iw < 0 || iw >= p.W {
						continue
					}
					x := in[((n*p.H+ih)*p.W+iw)*C : ((n*p.H+ih)*p.W+iw+1)*C]
					w := d.W[(kh*p.KW+kw)*C : (kh*p.KW+kw+1)*C]
					x = x[:len(o)]
					w = w[:len(o)]
					for c := range o {
						o[c] += x[c] * w[c]
					}
				}
			}
		}
		if d.Act.Kind != ActNone {
			d.Act.ApplySlice(o, o)
		}
	}
}

// interior3x3Pair computes output pixels ow and ow+1 (stride 1, both
// windows inside the input) in one pass over the channels, each input column
// loaded once for both; same summation order as interior3x3.
func (d *Depthwise) interior3x3Pair(in, o []float32, n, ih, iw int) {
	p := &d.P
	C := p.C
	rs := p.W * C
	base := ((n*p.H+ih)*p.W + iw) * C
	oa, ob := o[:C], o[C:2*C]
	x00, x01, x02, x03 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C], in[base+3*C:base+4*C]
	base += rs
	x10, x11, x12, x13 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C], in[base+3*C:base+4*C]
	base += rs
	x20, x21, x22, x23 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C], in[base+3*C:base+4*C]
	w := d.W
	w00, w01, w02 := w[0:C], w[C:2*C], w[2*C:3*C]
	w10, w11, w12 := w[3*C:4*C], w[4*C:5*C], w[5*C:6*C]
	w20, w21, w22 := w[6*C:7*C], w[7*C:8*C], w[8*C:9*C]
	b := d.Bias[:C]
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if d.Act.Kind == ActClamp {
		lo, hi = d.Act.A, d.Act.B
	}
	for c := range oa {
		bc := b[c]
		y0, y1, y2, y3 := x00[c], x01[c], x02[c], x03[c]
		v0, v1, v2 := w00[c], w01[c], w02[c]
		acc := bc + y0*v0
		acc2 := bc + y1*v0
		acc += y1 * v1
		acc2 += y2 * v1
		acc += y2 * v2
		acc2 += y3 * v2
		y0, y1, y2, y3 = x10[c], x11[c], x12[c], x13[c]
		v0, v1, v2 = w10[c], w11[c], w12[c]
		acc += y0 * v0
		acc2 += y1 * v0
		acc += y1 * v1
		acc2 += y2 * v1
		acc += y2 * v2
		acc2 += y3 * v2
		y0, y1, y2, y3 = x20[c], x21[c], x22[c], x23[c]
		v0, v1, v2 = w20[c], w21[c], w22[c]
		acc += y0 * v0
		acc2 += y1 * v0
		acc += y1 * v1
		acc2 += y2 * v1
		acc += y2 * v2
		acc2 += y3 * v2
		oa[c] = min(max(acc, lo), hi)
		ob[c] = min(max(acc2, lo), hi)
	}
}

// interior3x3 computes one output pixel whose 3×3 window is inside the input,
// all nine taps in one pass over the channels, with a clamp activation fused.
// Every slice is cut to exactly C elements so the loop has no bounds checks.
func (d *Depthwise) interior3x3(in, o []float32, n, ih, iw int) {
	p := &d.P
	C := p.C
	rs := p.W * C
	base := ((n*p.H+ih)*p.W + iw) * C
	o = o[:C]
	x00, x01, x02 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C]
	base += rs
	x10, x11, x12 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C]
	base += rs
	x20, x21, x22 := in[base:base+C], in[base+C:base+2*C], in[base+2*C:base+3*C]
	w := d.W
	w00, w01, w02 := w[0:C], w[C:2*C], w[2*C:3*C]
	w10, w11, w12 := w[3*C:4*C], w[4*C:5*C], w[5*C:6*C]
	w20, w21, w22 := w[6*C:7*C], w[7*C:8*C], w[8*C:9*C]
	b := d.Bias[:C]
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if d.Act.Kind == ActClamp {
		lo, hi = d.Act.A, d.Act.B
	}
	for c := range o {
		acc := b[c]
		acc += x00[c] * w00[c]
		acc += x01[c] * w01[c]
		acc += x02[c] * w02[c]
		acc += x10[c] * w10[c]
		acc += x11[c] * w11[c]
		acc += x12[c] * w12[c]
		acc += x20[c] * w20[c]
		acc += x21[c] * w21[c]
		acc += x22[c] * w22[c]
		o[c] = min(max(acc, lo), hi)
	}
}
