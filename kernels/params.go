package kernels

import "github.com/signet-go/signet/internal/shape"

// ConvParams describes one 2-D convolution with ONNX Conv semantics:
// input [N, C, H, W], weights [K, C/Group, KH, KW], output [N, K, OH, OW].
// Pads are explicit (auto_pad is resolved by the caller).
type ConvParams struct {
	N, C, H, W             int
	K                      int // output channels
	KH, KW                 int
	StrideH, StrideW       int
	DilH, DilW             int
	PadT, PadL, PadB, PadR int
	Group                  int
	OH, OW                 int // output size; see (*ConvParams).Resolve
}

// Resolve computes OH and OW from the other fields and reports whether the
// parameters describe a valid convolution.
func (p *ConvParams) Resolve() bool {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.K < 1 || p.KH < 1 || p.KW < 1 ||
		p.StrideH < 1 || p.StrideW < 1 || p.DilH < 1 || p.DilW < 1 || p.Group < 1 ||
		p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0 ||
		p.C%p.Group != 0 || p.K%p.Group != 0 {
		return false
	}
	var ok bool
	if p.OH, ok = shape.PoolOut(p.H, p.KH, p.StrideH, p.DilH, p.PadT, p.PadB, false); !ok {
		return false
	}
	p.OW, ok = shape.PoolOut(p.W, p.KW, p.StrideW, p.DilW, p.PadL, p.PadR, false)
	return ok
}

// PoolParams describes a 2-D pooling window with ONNX MaxPool/AveragePool
// semantics over input [N, C, H, W] and output [N, C, OH, OW].
type PoolParams struct {
	N, C, H, W             int
	KH, KW                 int
	StrideH, StrideW       int
	DilH, DilW             int
	PadT, PadL, PadB, PadR int
	CeilMode               bool
	OH, OW                 int
}

// Resolve computes OH and OW (floor or ceil mode; in ceil mode a last window
// that would start inside the end padding is dropped, as PyTorch and ONNX
// Runtime do) and reports whether the parameters are valid.
func (p *PoolParams) Resolve() bool {
	if p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1 || p.KH < 1 || p.KW < 1 ||
		p.StrideH < 1 || p.StrideW < 1 || p.DilH < 1 || p.DilW < 1 ||
		p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0 {
		return false
	}
	var ok bool
	if p.OH, ok = shape.PoolOut(p.H, p.KH, p.StrideH, p.DilH, p.PadT, p.PadB, p.CeilMode); !ok {
		return false
	}
	p.OW, ok = shape.PoolOut(p.W, p.KW, p.StrideW, p.DilW, p.PadL, p.PadR, p.CeilMode)
	return ok
}

// avgPoolSpan returns the divisor of one average-pooling window starting at
// input coordinate start (possibly negative) with extent k along one axis:
// with countPad, the positions inside the padded input [-pb, in+pe); without,
// the positions inside [0, in).
func avgPoolSpan(start, k, in, pb, pe int, countPad bool) int {
	lo, hi := start, start+k
	if countPad {
		lo = max(lo, -pb)
		hi = min(hi, in+pe)
	} else {
		lo = max(lo, 0)
		hi = min(hi, in)
	}
	return max(hi-lo, 0)
}

// windowOrigin returns the batch index of output pixel m (pixels in N, OH,
// OW order) and the input coordinates of its window's first tap, which may
// lie in the padding.
func (p *ConvParams) windowOrigin(m int) (n, ih0, iw0 int) {
	ohw := p.OH * p.OW
	n = m / ohw
	r := m - n*ohw
	oh := r / p.OW
	ow := r - oh*p.OW
	return n, oh*p.StrideH - p.PadT, ow*p.StrideW - p.PadL
}

// pointwise reports whether p is a 1×1, stride-1, unpadded convolution,
// whose A matrix is the NHWC input itself.
func (p *ConvParams) pointwise() bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadT == 0 && p.PadL == 0 && p.PadB == 0 && p.PadR == 0
}

// groupTasks cuts tasks lo .. hi-1 of a grouped convolution, per tasks
// each group, at group boundaries and calls run with each group g and its
// own task range.
func groupTasks(lo, hi, per int, run func(g, lo, hi int)) {
	for lo < hi {
		g := lo / per
		end := min(hi, (g+1)*per)
		run(g, lo-g*per, end-g*per)
		lo = end
	}
}
