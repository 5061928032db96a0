package engine

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// spatialAttrs reads kernel/stride/dilation/pads/auto_pad for a 2-D window
// over input h×w and returns resolved begin/end pads. kh, kw are the window.
type window struct {
	sh, sw, dh, dw         int
	pt, pl, pb, pr         int
	kh, kw                 int
	autoPadSame, autoLower bool
}

func (c *compiler) window2D(h, w, kh, kw int, allowDilation bool) (window, error) {
	win := window{sh: 1, sw: 1, dh: 1, dw: 1, kh: kh, kw: kw}
	for _, name := range []string{"kernel_shape", "strides", "dilations", "pads"} {
		if v, ok := c.attrInts(name); ok {
			for _, x := range v {
				if x > attrLimit || x < -attrLimit {
					return win, c.errf(ErrUnsupported, "%s %v out of range", name, v)
				}
			}
		}
	}
	if ks, ok := c.attrInts("kernel_shape"); ok {
		if len(ks) != 2 {
			return win, c.errf(ErrUnsupported, "kernel_shape %v: only 2-D windows are supported", ks)
		}
		if kh > 0 && (int(ks[0]) != kh || int(ks[1]) != kw) {
			return win, c.errf(ErrShape, "kernel_shape %v does not match the weights %dx%d", ks, kh, kw)
		}
		win.kh, win.kw = int(ks[0]), int(ks[1])
	}
	if win.kh < 1 || win.kw < 1 {
		return win, c.errf(ErrShape, "missing or invalid kernel_shape")
	}
	if s, ok := c.attrInts("strides"); ok {
		if len(s) != 2 || s[0] < 1 || s[1] < 1 {
			return win, c.errf(ErrShape, "invalid strides %v", s)
		}
		win.sh, win.sw = int(s[0]), int(s[1])
	}
	if d, ok := c.attrInts("dilations"); ok {
		if len(d) != 2 || d[0] < 1 || d[1] < 1 {
			return win, c.errf(ErrShape, "invalid dilations %v", d)
		}
		win.dh, win.dw = int(d[0]), int(d[1])
		if !allowDilation && (win.dh != 1 || win.dw != 1) {
			return win, c.errf(ErrUnsupported, "dilations %v", d)
		}
	}
	switch ap := c.attrString("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		if p, ok := c.attrInts("pads"); ok {
			if len(p) != 4 {
				return win, c.errf(ErrShape, "pads %v: want 4 values", p)
			}
			for _, v := range p {
				if v < 0 {
					return win, c.errf(ErrUnsupported, "negative pads %v", p)
				}
			}
			win.pt, win.pl, win.pb, win.pr = int(p[0]), int(p[1]), int(p[2]), int(p[3])
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		lower := ap == "SAME_LOWER"
		win.pt, win.pb = shape.SamePad(h, win.kh, win.sh, win.dh, lower)
		win.pl, win.pr = shape.SamePad(w, win.kw, win.sw, win.dw, lower)
		win.autoPadSame, win.autoLower = true, lower
	default:
		return win, c.errf(ErrUnsupported, "auto_pad %q", ap)
	}
	return win, nil
}

// inNCHW is inVal(0) for an operator that takes only rank-4 input; what
// it supports completes the refusal of any other rank.
func (c *compiler) inNCHW(what string) (int, *value, error) {
	x, xv, err := c.inVal(0)
	if err == nil && len(xv.shape) != 4 {
		err = c.errf(ErrUnsupported, "input rank %d: only %s is supported", len(xv.shape), what)
	}
	return x, xv, err
}

func (c *compiler) buildConv() error {
	x, xv, err := c.inNCHW("2-D convolution (rank-4 input)")
	if err != nil {
		return err
	}
	w, wshape, err := c.constIn(1)
	if err != nil {
		return err
	}
	if len(wshape) != 4 {
		return c.errf(ErrShape, "weight rank %d, want 4", len(wshape))
	}
	var bias []float32
	if len(c.node.Inputs) > 2 && c.node.Inputs[2] != "" {
		b, bshape, err := c.constIn(2)
		if err != nil {
			return err
		}
		if prod(bshape) != wshape[0] {
			return c.errf(ErrShape, "bias has %d values for %d output channels", prod(bshape), wshape[0])
		}
		bias = b
	}
	act, err := c.fusedActivation()
	if err != nil {
		return err
	}
	group := int(c.attrInt("group", 1))
	n, ch, h, wd := xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3]
	win, err := c.window2D(h, wd, wshape[2], wshape[3], true)
	if err != nil {
		return err
	}
	p := kernels.ConvParams{N: n, C: ch, H: h, W: wd, K: wshape[0], KH: win.kh, KW: win.kw,
		StrideH: win.sh, StrideW: win.sw, DilH: win.dh, DilW: win.dw,
		PadT: win.pt, PadL: win.pl, PadB: win.pb, PadR: win.pr, Group: group}
	if group < 1 || ch%group != 0 || wshape[1]*group != ch {
		return c.errf(ErrShape, "group %d does not fit input channels %d and weights %v", group, ch, wshape)
	}
	if !p.Resolve() {
		return c.errf(ErrShape, "convolution does not fit: input %v, weights %v, pads %d,%d,%d,%d", xv.shape, wshape, p.PadT, p.PadL, p.PadB, p.PadR)
	}
	x = c.need(x, layoutNHWC)
	out, err := c.output(0, []int{n, p.K, p.OH, p.OW}, layoutNHWC)
	if err != nil {
		return err
	}
	flops := shape.MulSat(2, int64(n*p.OH*p.OW), int64(p.K), int64(ch/group), int64(p.KH), int64(p.KW))
	return c.lowerNode(&backend.Conv{P: p, W: w, Bias: bias, Act: act}, []int{x}, []int{out}, flops, -1)
}

func (c *compiler) buildPool(isMax bool) error {
	x, err := c.in(0)
	if err != nil {
		return err
	}
	if len(c.node.Outputs) > 1 && c.node.Outputs[1] != "" {
		return c.errf(ErrUnsupported, "the Indices output of MaxPool")
	}
	xv := &c.p.vals[x]
	if len(xv.shape) != 4 {
		return c.errf(ErrUnsupported, "input rank %d: only 2-D pooling is supported", len(xv.shape))
	}
	n, ch, h, w := xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3]
	win, err := c.window2D(h, w, 0, 0, isMax)
	if err != nil {
		return err
	}
	ceil := c.attrInt("ceil_mode", 0) != 0
	p := kernels.PoolParams{N: n, C: ch, H: h, W: w, KH: win.kh, KW: win.kw, StrideH: win.sh, StrideW: win.sw,
		DilH: win.dh, DilW: win.dw, PadT: win.pt, PadL: win.pl, PadB: win.pb, PadR: win.pr, CeilMode: ceil && !win.autoPadSame}
	if !p.Resolve() {
		return c.errf(ErrShape, "pooling window does not fit input %v", xv.shape)
	}
	x = c.need(x, layoutNHWC)
	out, err := c.output(0, []int{n, ch, p.OH, p.OW}, layoutNHWC)
	if err != nil {
		return err
	}
	return c.lowerNode(&backend.Pool{P: p, Max: isMax, CountPad: c.attrInt("count_include_pad", 0) != 0}, []int{x}, []int{out},
		shape.MulSat(int64(n*ch*p.OH*p.OW), int64(p.KH), int64(p.KW)), -1)
}

// buildGAP plans a mean over H and W of a rank-4 tensor (GlobalAveragePool,
// or ReduceMean over axes {2,3} with keepdims).
func (c *compiler) buildGAP(x int, keep bool) error {
	xv := &c.p.vals[x]
	n, ch, h, w := xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3]
	x = c.need(x, layoutNHWC)
	shape := []int{n, ch, 1, 1}
	if !keep {
		shape = []int{n, ch}
	}
	out, err := c.output(0, shape, layoutNHWC)
	if err != nil {
		return err
	}
	return c.lowerNode(&backend.GlobalAvgPool{N: n, HW: h * w, C: ch}, []int{x}, []int{out}, int64(n*ch*h*w), -1)
}

func (c *compiler) build(n *model.Node) error {
	if done, err := c.buildQuant(n); done {
		return err
	}
	if b := builders[n.Op]; b != nil {
		return b(c)
	}
	return c.errf(ErrUnsupported, "unknown op")
}

// builders plans the float form of each operator.
var builders = func() map[string]func(*compiler) error {
	m := map[string]func(*compiler) error{}
	for _, g := range []struct {
		build func(*compiler) error
		ops   []string
	}{
		{(*compiler).buildConv, []string{model.OpConv}},
		{func(c *compiler) error { return c.buildPool(true) }, []string{model.OpMaxPool}},
		{func(c *compiler) error { return c.buildPool(false) }, []string{model.OpAveragePool}},
		{(*compiler).buildGlobalAvgPool, []string{model.OpGlobalAveragePool}},
		{(*compiler).buildGemm, []string{model.OpGemm}},
		{(*compiler).buildMatMul, []string{model.OpMatMul}},
		{(*compiler).buildBatchNorm, []string{model.OpBatchNormalization}},
		{(*compiler).buildUnary, []string{
			model.OpRelu, model.OpClip, model.OpLeakyRelu, model.OpSigmoid, model.OpHardSigmoid, model.OpHardSwish, model.OpSiLU,
			model.OpErf, model.OpGELU, model.OpSqrt, model.OpTanh, model.OpNeg, model.OpAbs, model.OpReciprocal, model.OpExp, model.OpLog,
		}},
		{(*compiler).buildBinary, []string{model.OpAdd, model.OpSub, model.OpMul, model.OpDiv, model.OpMax, model.OpMin, model.OpPRelu}},
		{(*compiler).buildPow, []string{model.OpPow}},
		{(*compiler).buildConcat, []string{model.OpConcat}},
		{(*compiler).buildSplit, []string{model.OpSplit}},
		{(*compiler).buildSlice, []string{model.OpSlice}},
		{(*compiler).buildReshape, []string{model.OpFlatten, model.OpReshape}},
		{(*compiler).buildTranspose, []string{model.OpTranspose}},
		{(*compiler).buildReduce, []string{model.OpReduceMean, model.OpReduceL2, model.OpReduceSum, model.OpReduceMax, model.OpReduceMin}},
		{(*compiler).buildPad, []string{model.OpPad}},
		{(*compiler).buildLayerNorm, []string{model.OpLayerNormalization}},
		{(*compiler).buildSoftmax, []string{model.OpSoftmax}},
		{(*compiler).buildNormalize, []string{model.OpLpNormalization, model.OpL2Normalize}},
	} {
		for _, op := range g.ops {
			m[op] = g.build
		}
	}
	return m
}()

// buildGlobalAvgPool plans a GlobalAveragePool of a rank-4 input.
func (c *compiler) buildGlobalAvgPool() error {
	x, _, err := c.inNCHW("rank 4")
	if err != nil {
		return err
	}
	return c.buildGAP(x, true)
}
