package engine

import (
	"math"
	"slices"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

func (c *compiler) buildUnary() error {
	x, err := c.in(0)
	if err != nil {
		return err
	}
	var act kernels.Act
	inf := float32(math.Inf(1))
	switch c.node.Op {
	case model.OpRelu:
		act = kernels.Act{Kind: kernels.ActClamp, A: 0, B: inf}
	case model.OpClip:
		act = kernels.Act{Kind: kernels.ActClamp, A: c.attrFloat("min", -inf), B: c.attrFloat("max", inf)}
	case model.OpLeakyRelu:
		act = kernels.Act{Kind: kernels.ActLeakyRelu, A: c.attrFloat("alpha", 0.01)}
	case model.OpSigmoid:
		act = kernels.Act{Kind: kernels.ActSigmoid}
	case model.OpHardSigmoid:
		act = kernels.Act{Kind: kernels.ActHardSigmoid, A: c.attrFloat("alpha", 0.2), B: c.attrFloat("beta", 0.5)}
	case model.OpHardSwish:
		act = kernels.Act{Kind: kernels.ActHardSwish}
	case model.OpSiLU:
		act = kernels.Act{Kind: kernels.ActSiLU}
	default:
		var ok bool
		if act, ok = mathActs[c.node.Op]; !ok { // ops_math.go
			return c.errf(ErrUnsupported, "unknown unary op")
		}
	}
	return c.lowerLike(&backend.Unary{Act: act}, x, 1)
}

// broadcastStrides returns, for each logical dim of an output of rank r, the
// storage stride of value v broadcast to it (0 along broadcast dims).
func broadcastStrides(v *value, oshape []int) []int {
	ls := v.logicalStrides()
	r := len(oshape)
	st := make([]int, r)
	for i := range st {
		j := i - (r - len(v.shape))
		if j >= 0 && v.shape[j] != 1 {
			st[i] = ls[j]
		}
	}
	return st
}

func (c *compiler) buildBinary() error {
	a, b, err := c.in2()
	if err != nil {
		return err
	}
	oshape, ok := shape.Broadcast(c.p.vals[a].shape, c.p.vals[b].shape)
	if !ok {
		return c.errf(ErrShape, "shapes %v and %v do not broadcast", c.p.vals[a].shape, c.p.vals[b].shape)
	}
	out, err := c.output(0, oshape, defaultLayout(oshape))
	if err != nil {
		return err
	}
	ov := &c.p.vals[out]
	av, bv := &c.p.vals[a], &c.p.vals[b]
	perm := ov.perm()
	phys := ov.physShape()
	sa, sb := broadcastStrides(av, oshape), broadcastStrides(bv, oshape)
	ys := make([]int, len(phys))
	pa, pb := make([]int, len(phys)), make([]int, len(phys))
	s := 1
	for i := len(phys) - 1; i >= 0; i-- {
		ys[i] = s
		s *= phys[i]
		pa[i], pb[i] = sa[perm[i]], sb[perm[i]]
	}
	op := map[string]byte{model.OpAdd: '+', model.OpSub: '-', model.OpMul: '*', model.OpDiv: '/',
		model.OpMax: backend.BinMax, model.OpMin: backend.BinMin, model.OpPow: backend.BinPow, model.OpPRelu: backend.BinPRelu}[c.node.Op]
	if c.node.Op == model.OpPRelu && !slices.Equal(oshape, c.p.vals[a].shape) {
		return c.errf(ErrShape, "slope of shape %v does not broadcast to X's %v", c.p.vals[b].shape, c.p.vals[a].shape)
	}
	inplace := -1
	// Writing into an operand is safe when it is read at exactly the output's
	// positions (same shape and layout).
	for _, cand := range []int{a, b} {
		cv := &c.p.vals[cand]
		if !cv.isConst && cv.size == ov.size && cv.layout == ov.layout && slices.Equal(cv.shape, oshape) {
			inplace = cand
			break
		}
	}
	return c.lowerNode(&backend.Binary{Op: op, Dims: phys, SY: ys, SA: pa, SB: pb}, []int{a, b}, []int{out}, int64(ov.size), inplace)
}

func (c *compiler) buildBatchNorm() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	if len(xv.shape) < 2 {
		return c.errf(ErrShape, "input rank %d, want ≥ 2", len(xv.shape))
	}
	ch := xv.shape[1]
	var params [4][]float32
	for i := range params {
		v, shape, err := c.constIn(i + 1)
		if err != nil {
			return err
		}
		if prod(shape) != ch {
			return c.errf(ErrShape, "parameter %d has %d values for %d channels", i+1, prod(shape), ch)
		}
		params[i] = v
	}
	if len(c.node.Outputs) > 1 {
		for _, o := range c.node.Outputs[1:] {
			if o != "" {
				return c.errf(ErrUnsupported, "training-mode outputs")
			}
		}
	}
	eps := c.attrFloat("epsilon", 1e-5)
	if err := c.reserve(2 * ch); err != nil {
		return err
	}
	args := &backend.Affine{Scale: make([]float32, ch), Shift: make([]float32, ch)}
	for i := 0; i < ch; i++ {
		k := params[0][i] / float32(math.Sqrt(float64(params[3][i]+eps)))
		args.Scale[i] = k
		args.Shift[i] = params[1][i] - params[2][i]*k
	}
	phys := xv.physShape()
	pa := xv.physAxis(1)
	args.Outer, args.Inner = prod(phys[:pa]), prod(phys[pa+1:])
	return c.lowerLike(args, x, 2)
}
