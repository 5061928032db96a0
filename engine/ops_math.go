package engine

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// mathActs maps the element-wise math ops to their kernel (kernels/unary.go
// states each one's accuracy); buildUnary plans them like the activations.
var mathActs = map[string]kernels.Act{
	model.OpErf:        {Kind: kernels.ActErf},
	model.OpGELU:       {Kind: kernels.ActGELU},
	model.OpSqrt:       {Kind: kernels.ActSqrt},
	model.OpTanh:       {Kind: kernels.ActTanh},
	model.OpNeg:        {Kind: kernels.ActNeg},
	model.OpAbs:        {Kind: kernels.ActAbs},
	model.OpReciprocal: {Kind: kernels.ActReciprocal},
	model.OpExp:        {Kind: kernels.ActExp},
	model.OpLog:        {Kind: kernels.ActLog},
}

// buildPow plans Pow(X, Y): a constant single-element Y that does not raise
// X's rank makes it the unary x^y (kernels.ActPow), anything else the
// broadcasting binary op.
func (c *compiler) buildPow() error {
	x, y, err := c.in2()
	if err != nil {
		return err
	}
	yv, xv := &c.p.vals[y], &c.p.vals[x]
	if !yv.isConst || yv.size != 1 || len(yv.shape) > len(xv.shape) {
		return c.buildBinary()
	}
	act := kernels.Act{Kind: kernels.ActPow, A: yv.konst[0]}
	return c.lowerLike(&backend.Unary{Act: act}, x, 1)
}

// fusedActivation is c.activation (plan.go) knowing GELU as well, the
// fused activation the converter makes of GELU after a Conv, Gemm or
// MatMul; it runs as a pass over the output (kernels.Act.Epilogue has
// none for it).
func (c *compiler) fusedActivation() (kernels.Act, error) {
	if a, ok := c.node.Attr("activation"); ok && a.String == model.ActGELU {
		if p, ok := c.node.Attr("activation_params"); ok && len(p.Floats) > 0 {
			return kernels.Act{}, c.errf(ErrUnsupported, "%d activation_params for GELU, which takes none", len(p.Floats))
		}
		return kernels.Act{Kind: kernels.ActGELU}, nil
	}
	return c.activation()
}
