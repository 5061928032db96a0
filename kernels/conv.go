package kernels

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
}

// NewConvGemm packs OIHW weights w and bias (nil for none) for microkernel mk.
// p must be resolved.
func NewConvGemm(p ConvParams, mk GemmMicrokernel, w, bias []float32, act Act) *ConvGemm {
	cv := &ConvGemm{P: p, Kgrp: p.K / p.Group, Cgrp: p.C / p.Group, split: 1}
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

// RunTask computes task t of the convolution of NHWC input in into NHWC out.
func (cv *ConvGemm) RunTask(t int, in, out, scratch []float32) {
	tiles := cv.Group[0].Tiles()
	chunk := t % cv.split
	t /= cv.split
	mt := t % tiles
	g := t / tiles
	op := &cv.Group[g]
	np := op.B.Panels()
	j0 := chunk * np / cv.split
	j1 := (chunk + 1) * np / cv.split
	c := out[g*cv.Kgrp:]
	if cv.Pointwise() {
		GemmTile(op, DenseA{Data: in[g*cv.Cgrp:], LD: cv.P.C}, c, cv.P.K, mt, j0, j1, scratch)
	} else {
		GemmTile(op, convA{p: &cv.P, in: in, c0: g * cv.Cgrp, cg: cv.Cgrp}, c, cv.P.K, mt, j0, j1, scratch)
	}
	if cv.Post.Kind != ActNone {
		MR, NR := op.MK.MR, op.MK.NR
		m0 := mt * MR
		n0, n1 := j0*NR, min(j1*NR, cv.Kgrp)
		for m := m0; m < min(m0+MR, op.M); m++ {
			row := c[m*cv.P.K+n0 : m*cv.P.K+n1]
			cv.Post.ApplySlice(row, row)
		}
	}
}

// convA gathers im2col rows of an NHWC input for one group.
type convA struct {
	p      *ConvParams
	in     []float32
	c0, cg int
}

func (a convA) PackA(dst []float32, MR, m0, mr, k0, k1 int) {
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
				src := a.in[off : off+seg]
				for q, v := range src {
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
		if fast3 && iw0 >= 0 && iw0+2 < p.W {
			d.interior3x3(in, o, n, ih0, iw0)
		} else {
			copy(o, d.Bias)
			for kh := 0; kh < p.KH; kh++ {
				ih := ih0 + kh*p.DilH
				if ih < 0 || ih >= p.H {
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

// interior3x3 computes one output pixel whose 3×3 window is inside the input,
// all nine taps in one pass over the channels.
func (d *Depthwise) interior3x3(in, o []float32, n, ih, iw int) {
	p := &d.P
	C := p.C
	rs := p.W * C
	base := ((n*p.H+ih)*p.W + iw) * C
	r0 := in[base : base+2*C+C]
	r1 := in[base+rs : base+rs+3*C]
	r2 := in[base+2*rs : base+2*rs+3*C]
	w := d.W[:9*C]
	b := d.Bias[:C]
	o = o[:C]
	for c := range o {
		acc := b[c]
		acc += r0[c] * w[c]
		acc += r0[C+c] * w[C+c]
		acc += r0[2*C+c] * w[2*C+c]
		acc += r1[c] * w[3*C+c]
		acc += r1[C+c] * w[4*C+c]
		acc += r1[2*C+c] * w[5*C+c]
		acc += r2[c] * w[6*C+c]
		acc += r2[C+c] * w[7*C+c]
		acc += r2[2*C+c] * w[8*C+c]
		o[c] = acc
	}
}
