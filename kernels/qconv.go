package kernels

// int8 convolution over NHWC activations, as per-group int8 GEMMs (see
// conv.go for the fp32 one it mirrors): M = N·OH·OW output pixels,
// K = KH·KW·C/G (tap-major, channel-minor), N = K/G output channels. The
// weights are packed once for the microkernel's layout; each MR-pixel tile
// of A is gathered from the input straight into the packed layout, padding
// taps filled with the input's zero point (a real 0), so no im2col buffer
// exists. A 1×1, stride-1, unpadded convolution packs the input rows as they
// are.
//
// QConvRef is the definition; every tier gives its bytes.

// QConv is an int8 convolution with packed weights.
type QConv struct {
	P          ConvParams
	Group      []QGemmOp // one per group
	Kgrp, Cgrp int       // output and input channels per group
	ZA         int8      // the input's zero point
	split      int
}

// NewQConv packs OIHW int8 weights w (symmetric, one scale per output
// channel folded into scale) and int32 bias (nil for none, accumulator
// units) for microkernel mk. za is the input's zero point, scale[o] =
// input scale × weight scale[o] / output scale, out the output's zero point
// and clamp. p must be resolved.
func NewQConv(p ConvParams, mk QGemmMicrokernel, w []int8, bias []int32, za int8, scale []float32, out QOut) *QConv {
	cv := &QConv{P: p, Kgrp: p.K / p.Group, Cgrp: p.C / p.Group, ZA: za, split: 1}
	taps := p.KH * p.KW
	K := taps * cv.Cgrp
	wt := make([]int8, cv.Kgrp*K) // one group's weights as [N×K], k tap-major
	for g := 0; g < p.Group; g++ {
		for o := 0; o < cv.Kgrp; o++ {
			src := w[(g*cv.Kgrp+o)*cv.Cgrp*taps:]
			for c := 0; c < cv.Cgrp; c++ {
				for t := 0; t < taps; t++ {
					wt[o*K+t*cv.Cgrp+c] = src[c*taps+t]
				}
			}
		}
		var b []int32
		if bias != nil {
			b = bias[g*cv.Kgrp : (g+1)*cv.Kgrp]
		}
		cv.Group = append(cv.Group, QGemmOp{
			MK: mk, M: p.N * p.OH * p.OW, Out: out,
			B: PackQB(mk.QLayout, K, cv.Kgrp, wt, K, true, za, b, scale[g*cv.Kgrp:(g+1)*cv.Kgrp]),
		})
	}
	return cv
}

// SetSplit sets into how many chunks of NR panels each (group, tile) task
// is cut (more parallelism when M is small); it never changes the result.
func (cv *QConv) SetSplit(s int) { cv.split = max(1, min(s, cv.Group[0].B.Panels())) }

// Tasks returns the number of independent tasks of one run.
func (cv *QConv) Tasks() int { return cv.P.Group * cv.Group[0].Tiles() * cv.split }

// ScratchLen is the number of bytes of per-thread scratch RunTasks needs.
func (cv *QConv) ScratchLen() int { return cv.Group[0].ScratchLen() }

// Pointwise reports whether the convolution is a 1×1, stride-1, unpadded
// one whose A matrix is the input itself.
func (cv *QConv) Pointwise() bool { return cv.P.pointwise() }

// RunTasks computes tasks lo .. hi-1 (order: group, M tile, panel chunk)
// of the convolution of NHWC input in into NHWC out.
func (cv *QConv) RunTasks(lo, hi int, in, out []int8, scratch []byte) {
	groupTasks(lo, hi, cv.Group[0].Tiles()*cv.split, func(g, lo, hi int) {
		op := &cv.Group[g]
		c := out[g*cv.Kgrp:]
		if cv.Pointwise() {
			QGemmRange(op, DenseQA{Data: in[g*cv.Cgrp:], LD: cv.P.C}, c, cv.P.K, cv.split, lo, hi, scratch)
		} else {
			QGemmRange(op, qconvA{p: &cv.P, in: in, c0: g * cv.Cgrp, cg: cv.Cgrp, za: cv.ZA}, c, cv.P.K, cv.split, lo, hi, scratch)
		}
	})
}

// qconvA gathers the im2col rows of an NHWC int8 input for one group.
type qconvA struct {
	p      *ConvParams
	in     []int8
	c0, cg int
	za     int8
}

// PackQA implements QAPacker: row i is output pixel m0+i's taps in order,
// each tap's cg channels one run of the input (or za where the tap falls in
// the padding). Without groups and W dilation, a kernel row's taps inside
// the input are one run.
func (a qconvA) PackQA(dst []byte, l QLayout, m0, mr, K int) {
	p := a.p
	dst = dst[:l.ALen(K)]
	whole := a.cg == p.C && p.DilW == 1
	for i := 0; i < mr; i++ {
		n, ih0, iw0 := p.windowOrigin(m0 + i)
		if l.ARows {
			a.packRow(l, l.aRow(dst, i), n, ih0, iw0)
			continue
		}
		for kh := 0; kh < p.KH; kh++ {
			ih := ih0 + kh*p.DilH
			k := kh * p.KW * a.cg
			if ih < 0 || ih >= p.H {
				l.fillA(dst, i, k, p.KW*a.cg, a.za)
				continue
			}
			row := ((n*p.H + ih) * p.W) * p.C
			if whole {
				// Taps kw0 .. kw1-1 are inside the input: one run.
				kw0 := min(p.KW, max(0, -iw0))
				kw1 := max(kw0, min(p.KW, p.W-iw0))
				if kw0 > 0 {
					l.fillA(dst, i, k, kw0*a.cg, a.za)
				}
				if kw1 > kw0 {
					off := row + (iw0+kw0)*p.C
					l.putA(dst, i, k+kw0*a.cg, a.in[off:off+(kw1-kw0)*a.cg])
				}
				if kw1 < p.KW {
					l.fillA(dst, i, k+kw1*a.cg, (p.KW-kw1)*a.cg, a.za)
				}
				continue
			}
			for kw := 0; kw < p.KW; kw++ {
				iw := iw0 + kw*p.DilW
				kk := k + kw*a.cg
				if iw < 0 || iw >= p.W {
					l.fillA(dst, i, kk, a.cg, a.za)
					continue
				}
				off := row + iw*p.C + a.c0
				l.putA(dst, i, kk, a.in[off:off+a.cg])
			}
		}
	}
}

// packRow is PackQA's row for layouts with ARows: the row's bytes are
// written directly, run by run.
func (a qconvA) packRow(l QLayout, row []byte, n, ih0, iw0 int) {
	p := a.p
	whole := a.cg == p.C && p.DilW == 1
	for kh := 0; kh < p.KH; kh++ {
		ih := ih0 + kh*p.DilH
		k := kh * p.KW * a.cg
		if ih < 0 || ih >= p.H {
			l.rowFill(row, k, p.KW*a.cg, a.za)
			continue
		}
		base := ((n*p.H+ih)*p.W)*p.C + a.c0
		if whole {
			kw0 := min(p.KW, max(0, -iw0))
			kw1 := max(kw0, min(p.KW, p.W-iw0))
			if kw0 > 0 {
				l.rowFill(row, k, kw0*a.cg, a.za)
			}
			if kw1 > kw0 {
				off := base + (iw0+kw0)*p.C
				l.rowPut(row, k+kw0*a.cg, a.in[off:off+(kw1-kw0)*a.cg])
			}
			if kw1 < p.KW {
				l.rowFill(row, k+kw1*a.cg, (p.KW-kw1)*a.cg, a.za)
			}
			continue
		}
		for kw := 0; kw < p.KW; kw++ {
			iw := iw0 + kw*p.DilW
			if iw < 0 || iw >= p.W {
				l.rowFill(row, k+kw*a.cg, a.cg, a.za)
				continue
			}
			off := base + iw*p.C
			l.rowPut(row, k+kw*a.cg, a.in[off:off+a.cg])
		}
	}
}

// QConvRef is the int8 convolution's definition over NHWC input in and
// output out, OIHW weights w, ONNX ConvInteger semantics followed by
// requantization: each output is
//
//	acc := bias[o]
//	for each tap (kh, kw) and input channel c of o's group:
//		x := za if the tap falls in the padding, else in[n, ih, iw, c]
//		acc += (int32(x) - int32(za)) * int32(w[o, c, kh, kw])
//	out[n, oh, ow, o] = q.Requantize(acc, scale[o])
func QConvRef(p *ConvParams, in []int8, za int8, w []int8, bias []int32, scale []float32, q QOut, out []int8) {
	kg, cg := p.K/p.Group, p.C/p.Group
	for n := 0; n < p.N; n++ {
		for oh := 0; oh < p.OH; oh++ {
			for ow := 0; ow < p.OW; ow++ {
				for o := 0; o < p.K; o++ {
					g := o / kg
					var acc int32
					if bias != nil {
						acc = bias[o]
					}
					for c := 0; c < cg; c++ {
						for kh := 0; kh < p.KH; kh++ {
							for kw := 0; kw < p.KW; kw++ {
								ih := oh*p.StrideH - p.PadT + kh*p.DilH
								iw := ow*p.StrideW - p.PadL + kw*p.DilW
								x := za
								if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
									x = in[((n*p.H+ih)*p.W+iw)*p.C+g*cg+c]
								}
								acc += (int32(x) - int32(za)) * int32(w[((o*cg+c)*p.KH+kh)*p.KW+kw])
							}
						}
					}
					out[((n*p.OH+oh)*p.OW+ow)*p.K+o] = q.Requantize(acc, scale[o])
				}
			}
		}
	}
}
