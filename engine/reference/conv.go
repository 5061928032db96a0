package reference

import (
	"fmt"
	"iter"
	"math"

	"github.com/signet-go/signet/internal/shape"
)

// Windowed operators over NCHW tensors: convolution and pooling.

// attrMax bounds every window attribute (kernel, stride, dilation, pad).
const attrMax = 1 << 30

// window is a resolved 2-D window: kernel, strides, dilations and the
// padding at the top, left, bottom and right.
type window struct {
	kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr         int
	explicit               bool // pads came from "pads" (auto_pad NOTSET): ceil_mode applies
}

// tap is a kernel position (i, j) and the input position (ih, iw) it reads.
type tap struct{ i, j, ih, iw int }

// taps yields, row by row, the kernel positions of the window at output
// (oh, ow) that fall inside the h×w input; the padding reads zero, so the
// others contribute nothing.
func (win *window) taps(oh, ow, h, w int) iter.Seq[tap] {
	return func(yield func(tap) bool) {
		for i := 0; i < win.kh; i++ {
			ih := oh*win.sh - win.pt + i*win.dh
			if ih < 0 || ih >= h {
				continue
			}
			for j := 0; j < win.kw; j++ {
				iw := ow*win.sw - win.pl + j*win.dw
				if iw < 0 || iw >= w {
					continue
				}
				if !yield(tap{i, j, ih, iw}) {
					return
				}
			}
		}
	}
}

// window reads kernel_shape, strides, dilations, pads and auto_pad for a
// window over h×w. kh, kw are the kernel the weights give (0 for pooling,
// where kernel_shape is required). Errors are recorded for checkAttrs.
func (nd *node) window(h, w, kh, kw int) window {
	win := window{kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1, explicit: true}
	pair := func(name string, lo int64) ([2]int, bool) {
		v := nd.attrInts(name)
		if v == nil {
			return [2]int{}, false
		}
		if len(v) != 2 || v[0] < lo || v[1] < lo || v[0] > attrMax || v[1] > attrMax {
			nd.fail("%w: %s %v: want 2 values in [%d, %d]", ErrUnsupported, name, v, lo, int64(attrMax))
			return [2]int{}, false
		}
		return [2]int{int(v[0]), int(v[1])}, true
	}
	if k, ok := pair("kernel_shape", 1); ok {
		if kh > 0 && (k[0] != kh || k[1] != kw) {
			nd.fail("%w: kernel_shape %v does not match the weights' %d×%d", ErrShape, k, kh, kw)
		}
		win.kh, win.kw = k[0], k[1]
	} else if kh == 0 {
		nd.fail("%w: missing kernel_shape", ErrShape)
	}
	if s, ok := pair("strides", 1); ok {
		win.sh, win.sw = s[0], s[1]
	}
	if d, ok := pair("dilations", 1); ok {
		win.dh, win.dw = d[0], d[1]
	}
	if p := nd.attrInts("pads"); p != nil {
		if len(p) != 4 {
			nd.fail("%w: pads %v: want 4 values", ErrUnsupported, p)
		}
		for _, v := range p {
			if v < 0 || v > attrMax {
				nd.fail("%w: pads %v: want values in [0, %d]", ErrUnsupported, p, int64(attrMax))
			}
		}
		if nd.err == nil {
			win.pt, win.pl, win.pb, win.pr = int(p[0]), int(p[1]), int(p[2]), int(p[3])
		}
	}
	switch ap := nd.attrString("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		win.pt, win.pl, win.pb, win.pr, win.explicit = 0, 0, 0, 0, false
	case "SAME_UPPER", "SAME_LOWER":
		lower := ap == "SAME_LOWER"
		win.pt, win.pb = shape.SamePad(h, win.kh, win.sh, win.dh, lower)
		win.pl, win.pr = shape.SamePad(w, win.kw, win.sw, win.dw, lower)
		win.explicit = false
	default:
		nd.fail("%w: auto_pad %q", ErrUnsupported, ap)
	}
	return win
}

// out returns the output size of the window over h×w (floor mode, or ceil
// mode where asked and the pads are explicit; with SAME padding the size is
// ceil(in/stride) in both).
func (win *window) out(h, w int, ceil bool) (oh, ow int, err error) {
	ceil = ceil && win.explicit
	oh, okh := shape.PoolOut(h, win.kh, win.sh, win.dh, win.pt, win.pb, ceil)
	ow, okw := shape.PoolOut(w, win.kw, win.sw, win.dw, win.pl, win.pr, ceil)
	if !okh || !okw {
		return 0, 0, fmt.Errorf("%w: window %d×%d (stride %d×%d, dilation %d×%d, pads %d,%d,%d,%d) does not fit %d×%d",
			ErrShape, win.kh, win.kw, win.sh, win.sw, win.dh, win.dw, win.pt, win.pl, win.pb, win.pr, h, w)
	}
	return oh, ow, nil
}

// nchw returns the four dimensions of a rank-4 input with none of them 0.
func nchw(x *tensor, what string) (n, c, h, w int, err error) {
	if len(x.shape) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("%w: %s of a rank-%d input (only 2-D, rank 4)", ErrUnsupported, what, len(x.shape))
	}
	for _, d := range x.shape {
		if d < 1 {
			return 0, 0, 0, 0, fmt.Errorf("%w: %s of an empty input %v", ErrUnsupported, what, x.shape)
		}
	}
	return x.shape[0], x.shape[1], x.shape[2], x.shape[3], nil
}

// conv2D: y[n,k,oh,ow] = act(bias[k] + Σ_{c,i,j} x[n, g·C/G+c, oh·sh−pt+i·dh, ow·sw−pl+j·dw]·w[k,c,i,j])
// over x [N,C,H,W], w [K,C/G,KH,KW] (OIHW), bias [K] or none, y [N,K,OH,OW],
// g = k/(K/G) the group of k, padding reading zero. Accumulates in float32
// in the order written, starting from the bias.
func conv2D(nd *node) error {
	if err := nd.arity(2, 3, 1, 1); err != nil {
		return err
	}
	x, err := nd.in(0)
	if err != nil {
		return err
	}
	wt, err := nd.in(1)
	if err != nil {
		return err
	}
	b, err := nd.optIn(2)
	if err != nil {
		return err
	}
	N, C, H, W, err := nchw(x, "convolution")
	if err != nil {
		return err
	}
	if len(wt.shape) != 4 || product(wt.shape) == 0 {
		return fmt.Errorf("%w: weights %v, want [K, C/group, KH, KW]", ErrShape, wt.shape)
	}
	K, cg := wt.shape[0], wt.shape[1]
	win := nd.window(H, W, wt.shape[2], wt.shape[3])
	group := nd.attrInt("group", 1)
	act := nd.fusedActivation()
	if err := nd.checkAttrs(); err != nil {
		return err
	}
	if group < 1 || group > int64(C) || C%int(group) != 0 || K%int(group) != 0 || cg != C/int(group) {
		return fmt.Errorf("%w: group %d does not fit %d input channels and weights %v", ErrShape, group, C, wt.shape)
	}
	G := int(group)
	if b != nil && len(b.f) != K {
		return fmt.Errorf("%w: bias has %d values for %d output channels", ErrShape, len(b.f), K)
	}
	OH, OW, err := win.out(H, W, false)
	if err != nil {
		return err
	}
	if err := nd.work(int64(N), int64(K), int64(OH), int64(OW), int64(cg), int64(win.kh), int64(win.kw)); err != nil {
		return err
	}
	y, err := nd.out(0, []int{N, K, OH, OW})
	if err != nil {
		return err
	}
	kg := K / G
	for n := 0; n < N; n++ {
		for k := 0; k < K; k++ {
			g := k / kg
			for oh := 0; oh < OH; oh++ {
				for ow := 0; ow < OW; ow++ {
					var acc float32
					if b != nil {
						acc = b.f[k]
					}
					for c := 0; c < cg; c++ {
						ci := g*cg + c
						for t := range win.taps(oh, ow, H, W) {
							acc += x.f[((n*C+ci)*H+t.ih)*W+t.iw] * wt.f[((k*cg+c)*win.kh+t.i)*win.kw+t.j]
						}
					}
					if act != nil {
						acc = act(acc)
					}
					y[((n*K+k)*OH+oh)*OW+ow] = acc
				}
			}
		}
	}
	return nil
}

// pooling is a resolved pooling node: input x [N,C,H,W], window, output
// y [N,C,OH,OW].
type pooling struct {
	x                  []float32
	win                window
	N, C, H, W, OH, OW int
	y                  []float32
}

// pool is what MaxPool and AveragePool share: it reads the window,
// ceil_mode and, for average pooling (avg non-nil), count_include_pad into
// *avg, checks that every pad is smaller than the kernel (no window lies in
// the padding alone) and that average pooling has no dilation, and
// allocates the output.
func pool(nd *node, avg *bool) (*pooling, error) {
	if err := nd.arity(1, 1, 1, 2); err != nil {
		return nil, err
	}
	if err := nd.onlyOutput(); err != nil {
		return nil, err
	}
	x, err := nd.in(0)
	if err != nil {
		return nil, err
	}
	p := &pooling{x: x.f}
	if p.N, p.C, p.H, p.W, err = nchw(x, "pooling"); err != nil {
		return nil, err
	}
	win := nd.window(p.H, p.W, 0, 0)
	ceil := nd.attrFlag("ceil_mode", false)
	if avg != nil {
		*avg = nd.attrFlag("count_include_pad", false)
	}
	if err := nd.checkAttrs(); err != nil {
		return nil, err
	}
	if win.pt >= win.kh || win.pb >= win.kh || win.pl >= win.kw || win.pr >= win.kw {
		return nil, fmt.Errorf("%w: pads %d,%d,%d,%d not smaller than the %d×%d window", ErrUnsupported, win.pt, win.pl, win.pb, win.pr, win.kh, win.kw)
	}
	if avg != nil && (win.dh != 1 || win.dw != 1) {
		return nil, fmt.Errorf("%w: average pooling with dilations %d×%d", ErrUnsupported, win.dh, win.dw)
	}
	if p.OH, p.OW, err = win.out(p.H, p.W, ceil); err != nil {
		return nil, err
	}
	if err := nd.work(int64(p.N), int64(p.C), int64(p.OH), int64(p.OW), int64(win.kh), int64(win.kw)); err != nil {
		return nil, err
	}
	p.win = win
	p.y, err = nd.out(0, []int{p.N, p.C, p.OH, p.OW})
	return p, err
}

// maxPool: y[n,c,oh,ow] = max over the window's elements inside the input
// (padding never wins; NaN wins), x [N,C,H,W], y [N,C,OH,OW]. A window
// with no element inside the input gives −Inf.
func maxPool(nd *node) error {
	p, err := pool(nd, nil)
	if err != nil {
		return err
	}
	x, win, y, H, W, OH, OW := p.x, &p.win, p.y, p.H, p.W, p.OH, p.OW
	for nc := 0; nc < p.N*p.C; nc++ {
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				m := float32(math.Inf(-1))
				for t := range win.taps(oh, ow, H, W) {
					if v := x[(nc*H+t.ih)*W+t.iw]; v > m || v != v {
						m = v
					}
				}
				y[(nc*OH+oh)*OW+ow] = m
			}
		}
	}
	return nil
}

// avgPool: y[n,c,oh,ow] = (Σ of the window's elements inside the input) /
// count, x [N,C,H,W], y [N,C,OH,OW], dilation 1. The count is the window's
// positions inside the input, or with count_include_pad=1 inside the input
// and its declared pads (not the positions ceil mode adds past them). Sums
// in float32.
func avgPool(nd *node) error {
	var countPad bool
	p, err := pool(nd, &countPad)
	if err != nil {
		return err
	}
	x, win, y, H, W, OH, OW := p.x, &p.win, p.y, p.H, p.W, p.OH, p.OW
	// span is the divisor along one axis for a window starting at start.
	span := func(start, k, in, pb, pe int) int {
		lo, hi := max(start, 0), min(start+k, in)
		if countPad {
			lo, hi = max(start, -pb), min(start+k, in+pe)
		}
		return max(hi-lo, 0)
	}
	for nc := 0; nc < p.N*p.C; nc++ {
		for oh := 0; oh < OH; oh++ {
			h0 := oh*win.sh - win.pt
			dh := span(h0, win.kh, H, win.pt, win.pb)
			for ow := 0; ow < OW; ow++ {
				w0 := ow*win.sw - win.pl
				dw := span(w0, win.kw, W, win.pl, win.pr)
				var s float32
				for ih := max(h0, 0); ih < min(h0+win.kh, H); ih++ {
					for iw := max(w0, 0); iw < min(w0+win.kw, W); iw++ {
						s += x[(nc*H+ih)*W+iw]
					}
				}
				y[(nc*OH+oh)*OW+ow] = s / float32(dh*dw)
			}
		}
	}
	return nil
}

// globalAvgPool: y[n,c,0,0] = mean of x[n,c,:,:], x [N,C,H,W], y [N,C,1,1].
// Sums in float32.
func globalAvgPool(nd *node) error {
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	N, C, H, W, err := nchw(x, "global average pooling")
	if err != nil {
		return err
	}
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, []int{N, C, 1, 1})
	if err != nil {
		return err
	}
	hw := H * W
	for i := range y {
		var s float32
		for _, v := range x.f[i*hw : (i+1)*hw] {
			s += v
		}
		y[i] = s / float32(hw)
	}
	return nil
}
