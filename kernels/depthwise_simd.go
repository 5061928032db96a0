package kernels

import (
	"unsafe"

	"github.com/signet-go/signet/kernels/internal/impl"
)

// dwTier describes the depthwise kernels of one tier. Generic's (v = 0) are
// the Go loops of depthwise.go; a SIMD tier's are its dwRowAsm and
// dwPixelAsm kernels.
type dwTier struct {
	v      int  // channels per vector
	masked bool // kernels handle a partial last vector with masked loads and stores
}

// dwFamily holds the depthwise kernels of every tier.
var dwFamily = impl.NewFamily[dwTier]("depthwise")

func registerDepthwise(t Tier, name string, k dwTier) { register(dwFamily, t, name, k) }

func init() { registerDepthwise(Generic, "f32-dwconv-go", dwTier{}) }

// runSIMD computes output row t with the tier's assembly: the pixels whose
// window lies inside the input columns in one call of the row kernel (input
// rows in the padding read d.zero), the few border pixels one at a time
// through the pixel kernel over the taps that lie inside the input, and on
// unmasked tiers the channels past the last whole vector in Go.
func (d *Depthwise) runSIMD(t int, in, out []float32) {
	p := &d.P
	C, H, W := p.C, p.H, p.W
	n, oh := t/p.OH, t%p.OH
	in = in[:p.N*H*W*C]
	row := out[(n*p.OH+oh)*p.OW*C : (n*p.OH+oh+1)*p.OW*C]
	ih0 := oh*p.StrideH - p.PadT
	sw := p.StrideW
	taps := p.KH * p.KW

	blocks, cFull, mask := C/d.v, C/d.v*d.v, uint32(0)
	if d.masked {
		blocks, cFull = (C+d.v-1)/d.v, C
		mask = uint32(1)<<uint(C-(blocks-1)*d.v) - 1
	}

	// Output columns [owLo, owHi) have their whole window inside the input.
	owLo := min((p.PadL+sw-1)/sw, p.OW)
	owHi := owLo
	if e := W - p.KW + p.PadL; e >= 0 {
		owHi = max(owLo, min(p.OW, e/sw+1))
	}
	if blocks > 0 && owHi > owLo {
		iwLo := owLo*sw - p.PadL
		var rows [5]unsafe.Pointer
		for kh := 0; kh < p.KH; kh++ {
			if ih := ih0 + kh; ih >= 0 && ih < H {
				rows[kh] = unsafe.Pointer(&in[((n*H+ih)*W+iwLo)*C])
			} else {
				rows[kh] = unsafe.Pointer(&d.zero[iwLo*C])
			}
		}
		npix := owHi - owLo
		c4, pstep := 4*C, 4*C*sw
		dwRowAsm(d.tier, p.KH, &rows, &row[owLo*C], &d.packed[0], npix, blocks, c4, pstep,
			npix*pstep-4*d.v, npix*c4-4*d.v, mask, d.lo, d.hi)
	}
	var xs [25][]float32
	var tap [25]int
	if blocks > 0 {
		var tp dwTaps
		for ow := 0; ow < p.OW; ow++ {
			if ow == owLo {
				ow = max(owHi, ow)
				if ow >= p.OW {
					break
				}
			}
			nt := d.validTaps(&xs, &tap, in, n, ih0, ow*sw-p.PadL)
			for i := 0; i < nt; i++ {
				tp.ptrs[i] = unsafe.Pointer(&xs[i][0])
				tp.offs[i] = (1 + tap[i]) * d.v * 4
			}
			dwPixelAsm(d.tier, &tp, nt, &row[ow*C], &d.packed[0], blocks, (taps+1)*d.v*4, mask, d.lo, d.hi)
		}
	}
	if cFull < C {
		for ow := 0; ow < p.OW; ow++ {
			nt := d.validTaps(&xs, &tap, in, n, ih0, ow*sw-p.PadL)
			dwPixelGeneric(&xs, &tap, nt, taps, row[ow*C:(ow+1)*C], d.packed, d.v, cFull, C, d.lo, d.hi)
		}
	}
	if d.post {
		d.el.Apply(d.Act, row, row)
	}
}

// validTaps lists the window positions of output pixel (ih0, iw0) of image
// n that lie inside the input: xs[i] is that input pixel's C channels,
// tap[i] its position kh*KW+kw. A window wholly in the padding gets one tap
// reading zeros, so every kernel sees at least one and stores the bias.
func (d *Depthwise) validTaps(xs *[25][]float32, tap *[25]int, in []float32, n, ih0, iw0 int) int {
	p := &d.P
	C := p.C
	kh0, kh1 := max(0, -ih0), min(p.KH, p.H-ih0)
	kw0, kw1 := max(0, -iw0), min(p.KW, p.W-iw0)
	nt := 0
	for kh := kh0; kh < kh1; kh++ {
		for kw := kw0; kw < kw1; kw++ {
			o := ((n*p.H+ih0+kh)*p.W + iw0 + kw) * C
			xs[nt] = in[o : o+C]
			tap[nt] = kh*p.KW + kw
			nt++
		}
	}
	if nt == 0 {
		xs[0], tap[0], nt = d.zero[:C], 0, 1
	}
	return nt
}
