package onnx

import (
	"math"

	"github.com/signet-go/signet/model"
)

// rewriteGELU replaces the exact GELU PyTorch exports,
//
//	Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)
//
// by GELU(x). Also recognised: x·(1/√2) for the division, either operand
// order of every Add and Mul, and the 0.5 multiplied first into x or into
// the Add, so x·0.5·(1+erf(x/√2)) in any association. Every intermediate
// value must have no other consumer and not be a graph output, and every
// constant must be a single float (√2 and 1/√2 within 2⁻²² relative,
// 0.5 and 1 exactly) that does not broadcast x to a higher rank.
func (c *conv) rewriteGELU() {
	prod := c.producers()
	cons := c.consumers()
	// only returns the single consumer of a value that is not a graph output.
	only := func(name string) (*gnode, int) {
		u := cons[name]
		if len(u) != 1 || c.isOutput(name) || u[0].n.dead {
			return nil, 0
		}
		return u[0].n, u[0].i
	}
	for erf := range c.liveOp(model.OpErf) {
		scale := prod[erf.inputs[0]]
		if scale == nil || scale.dead || len(cons[erf.inputs[0]]) != 1 || c.isOutput(erf.inputs[0]) {
			continue
		}
		x, ok := "", false
		switch scale.op {
		case model.OpDiv:
			x, ok = scale.inputs[0], c.scalarNear(scale.inputs[1], math.Sqrt2, "")
		case model.OpMul:
			x, ok = c.otherThan(scale, func(n string) bool { return c.scalarNear(n, 1/math.Sqrt2, "") })
		}
		if !ok || !c.geluScalarsFit(x, scale) {
			continue
		}
		add, _ := only(erf.outputs[0])
		if add == nil || add.op != model.OpAdd {
			continue
		}
		if _, ok := c.otherThan(add, func(n string) bool { return c.scalarIs(n, 1) && c.geluScalarFits(n, x) }); !ok {
			continue
		}
		half := func(n string) bool { return c.scalarIs(n, 0.5) && c.geluScalarFits(n, x) }
		m1, _ := only(add.outputs[0])
		if m1 == nil || m1.op != model.OpMul {
			continue
		}
		other := m1.inputs[0]
		if other == add.outputs[0] {
			other = m1.inputs[1]
		}
		var last *gnode
		dead := []*gnode{scale, erf, add, m1}
		switch h := prod[other]; {
		case other == x || half(other):
			// (x·a)·0.5 or x·(a·0.5): the next Mul brings the other factor.
			m2, _ := only(m1.outputs[0])
			if m2 == nil || m2.op != model.OpMul {
				continue
			}
			want := func(n string) bool { return n == x }
			if other == x {
				want = half
			}
			if _, ok := c.otherThan(m2, want); !ok || m2.inputs[0] == m2.inputs[1] {
				continue
			}
			last = m2
		case h != nil && !h.dead && h.op == model.OpMul && len(cons[other]) == 1 && !c.isOutput(other):
			// (x·0.5)·a.
			if y, ok := c.otherThan(h, half); !ok || y != x {
				continue
			}
			dead = append(dead, h)
			last = m1
		default:
			continue
		}
		for _, n := range dead {
			if n != last {
				n.dead = true
			}
		}
		last.op, last.inputs, last.attrs = model.OpGELU, []string{x}, nil
		c.rep.GELU++
	}
}

// otherThan returns the operand of the two-input node n that is not the
// one matching is (which must match exactly one of them).
func (c *conv) otherThan(n *gnode, is func(string) bool) (string, bool) {
	if len(n.inputs) != 2 {
		return "", false
	}
	a, b := is(n.inputs[0]), is(n.inputs[1])
	switch {
	case a && !b:
		return n.inputs[1], true
	case b && !a:
		return n.inputs[0], true
	}
	return "", false
}

// scalarIs reports whether name is a float constant of one element equal to v.
func (c *conv) scalarIs(name string, v float32) bool {
	k := c.consts[name]
	return k != nil && k.isFloat() && k.numel() == 1 && k.f[0] == v
}

// scalarNear reports whether name is a float constant of one element within
// 2⁻²² relative of v (float32(√2) is 1.7e-8 off √2), and not x itself.
func (c *conv) scalarNear(name string, v float64, x string) bool {
	k := c.consts[name]
	return name != x && k != nil && k.isFloat() && k.numel() == 1 && math.Abs(float64(k.f[0])-v) <= 0x1p-22*v
}

// geluScalarFits reports whether the constant name, broadcast against x,
// leaves x's shape unchanged: rank 0, or x's rank known and at least its.
func (c *conv) geluScalarFits(name, x string) bool {
	k := c.consts[name]
	if len(k.shape) == 0 {
		return true
	}
	s, ok := c.shapes[x]
	return ok && len(s) >= len(k.shape)
}

// geluScalarsFit is geluScalarFits for the constant operand of the scaling
// node (Div or Mul), which is not x.
func (c *conv) geluScalarsFit(x string, scale *gnode) bool {
	if x == "" || c.consts[x] != nil {
		return false
	}
	k := scale.inputs[0]
	if k == x {
		k = scale.inputs[1]
	}
	return c.geluScalarFits(k, x)
}
