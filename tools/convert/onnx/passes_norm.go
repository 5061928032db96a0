package onnx

import (
	"math"
	"slices"

	"github.com/signet-go/signet/model"
)

// Passes of the Pad and layer-normalisation operators.

// foldPads moves a Pad over the two spatial dims of an NCHW tensor into
// the pads of the node it feeds, when that node is its only consumer and
// computes the same with the pad folded in:
//
//   - Conv after a pad of zeros: Conv's zero padding is the same zeros;
//   - AveragePool after a pad of zeros, ceil_mode 0: with count_include_pad
//     1 the pool counts its own padding as zeros already, so the pads add;
//     with count_include_pad 0 and no pads of its own, the padded zeros were
//     real elements it counted, which count_include_pad 1 over the Pad's
//     pads reproduces;
//   - MaxPool after a pad of -Inf, ceil_mode 0: MaxPool's padding is never
//     the maximum, as -Inf.
//
// Pads that remove elements (negative), pads of the batch or channel dims,
// pool padding that would reach the window's size,
// a node whose padding is still an unresolved auto_pad, or a ceil_mode
// pool (its last window may run past the padded input, where Pad and
// pool padding count differently) keep the Pad.
func (c *conv) foldPads() {
	uses := c.uses()
	cons := c.consumers()
	for _, p := range c.live() {
		c.rep.work++
		if p.op != model.OpPad || p.dead || uses[p.outputs[0]] != 1 || c.isOutput(p.outputs[0]) || c.consts[p.inputs[0]] != nil {
			continue
		}
		u := cons[p.outputs[0]]
		if len(u) != 1 || u[0].i != 0 {
			continue
		}
		n := u[0].n
		mode, _ := p.attr("mode")
		pads, _ := p.attr("pads")
		value := float32(0)
		if a, ok := p.attr("value"); ok {
			value = a.Float
		}
		if mode.String != "constant" || len(pads.Ints) != 8 {
			continue
		}
		pp := pads.Ints
		if pp[0] != 0 || pp[1] != 0 || pp[4] != 0 || pp[5] != 0 {
			continue
		}
		spatial := []int64{pp[2], pp[3], pp[6], pp[7]}
		neg := false
		for _, v := range spatial {
			neg = neg || v < 0
		}
		if neg {
			continue
		}
		if _, unresolved := n.attr("auto_pad"); unresolved {
			continue
		}
		own, ok := n.attr("pads")
		if !ok || len(own.Ints) != 4 {
			continue
		}
		ceil := int64(0)
		if a, ok := n.attr("ceil_mode"); ok {
			ceil = a.Int
		}
		zero := value == 0 && !math.Signbit(float64(value))
		var setCIP bool
		switch n.op {
		case model.OpConv:
			if !zero {
				continue
			}
		case model.OpAveragePool:
			cip, _ := n.attr("count_include_pad")
			if !zero || ceil != 0 {
				continue
			}
			if cip.Int == 0 {
				if own.Ints[0] != 0 || own.Ints[1] != 0 || own.Ints[2] != 0 || own.Ints[3] != 0 {
					continue
				}
				setCIP = true
			}
		case model.OpMaxPool:
			if !math.IsInf(float64(value), -1) || ceil != 0 {
				continue
			}
		default:
			continue
		}
		merged := make([]int64, 4)
		big := false
		for k := range merged {
			merged[k] = own.Ints[k] + spatial[k]
			big = big || merged[k] > 1<<20
		}
		if big {
			continue
		}
		if n.op != model.OpConv {
			// A pool's padding stays smaller than its window (the
			// reference refuses more, as PyTorch does).
			ks, _ := n.attr("kernel_shape")
			if len(ks.Ints) != 2 || merged[0] >= ks.Ints[0] || merged[2] >= ks.Ints[0] || merged[1] >= ks.Ints[1] || merged[3] >= ks.Ints[1] {
				continue
			}
		}
		n.setAttr(intsAttr("pads", merged))
		if setCIP {
			n.setAttr(intAttr("count_include_pad", 1))
		}
		n.inputs[0] = p.inputs[0]
		p.dead = true
		c.rep.PadFolded++
	}
}

// rewriteLayerNorm replaces what torch.onnx exports for F.layer_norm before
// opset 17,
//
//	m = ReduceMean(x; axes A, keepdims 1);  d = Sub(x, m)
//	v = ReduceMean(Pow(d, 2) or Mul(d, d); axes A, keepdims 1)
//	y = Div(d, Sqrt(Add(v, ε)))        (or Sqrt(v): ε = 0)
//	[y = Mul(y, W)] [y = Add(y, B)]    (either operand order)
//
// by LayerNormalization(x, W, B; axes A, epsilon ε), when A is one
// ascending run of x's axes, ε, W and B are constants (W and B varying
// only along A) and every intermediate value has no other use. Anything
// else is left as it is, and each piece runs as a plain op.
func (c *conv) rewriteLayerNorm() {
	prod := c.producers()
	uses := c.uses()
	only := func(name string, op string) *gnode {
		if uses[name] != 1 || c.isOutput(name) {
			return nil
		}
		if p := prod[name]; p != nil && !p.dead && p.op == op {
			return p
		}
		return nil
	}
	// scalar returns the value of a one-element float constant.
	scalar := func(name string) (float32, bool) {
		v := c.consts[name]
		if v == nil || !v.isFloat() || v.numel() != 1 {
			return 0, false
		}
		return v.f[0], true
	}
	cons := c.consumers()
	for div := range c.liveOp(model.OpDiv) {
		d := div.inputs[0]
		sq := only(div.inputs[1], model.OpSqrt)
		if sq == nil {
			continue
		}
		eps := float32(0)
		v := sq.inputs[0]
		var add *gnode
		if a := only(v, model.OpAdd); a != nil {
			for side := 0; side < 2; side++ {
				if e, ok := scalar(a.inputs[1-side]); ok && e >= 0 {
					add, eps, v = a, e, a.inputs[side]
					break
				}
			}
			if add == nil {
				continue
			}
		}
		varMean := only(v, model.OpReduceMean)
		if varMean == nil {
			continue
		}
		sqr := only(varMean.inputs[0], model.OpPow)
		if sqr != nil {
			if e, ok := scalar(sqr.inputs[1]); !ok || e != 2 || sqr.inputs[0] != d {
				continue
			}
		} else if sqr = only(varMean.inputs[0], model.OpMul); sqr == nil || sqr.inputs[0] != d || sqr.inputs[1] != d {
			continue
		}
		// d feeds the square and the division, nothing else.
		wantUses := 2
		if sqr.op == model.OpMul {
			wantUses = 3
		}
		sub := prod[d]
		if sub == nil || sub.dead || sub.op != model.OpSub || uses[d] != wantUses || c.isOutput(d) {
			continue
		}
		x := sub.inputs[0]
		mean := only(sub.inputs[1], model.OpReduceMean)
		if mean == nil || mean.inputs[0] != x {
			continue
		}
		axes, ok := sameReduction(mean, varMean)
		if !ok {
			continue
		}
		s, known := c.shapes[x]
		if !known || hasUnknown(s) {
			continue
		}
		first, last, ok := axisRunOf(axes, len(s))
		if !ok {
			continue
		}
		// The optional affine part: Mul by W, then Add of B.
		last_ := div
		scale, bias := "", ""
		next := func(op string) (*gnode, string) {
			out := last_.outputs[0]
			if uses[out] != 1 || c.isOutput(out) || len(cons[out]) != 1 {
				return nil, ""
			}
			n := cons[out][0].n
			if n.dead || n.op != op {
				return nil, ""
			}
			other := n.inputs[1-cons[out][0].i]
			if c.consts[other] == nil || !c.paramFits(other, s, first, last) {
				return nil, ""
			}
			return n, other
		}
		var tail []*gnode
		if n, w := next(model.OpMul); n != nil {
			tail, scale, last_ = append(tail, n), w, n
		}
		if n, b := next(model.OpAdd); n != nil {
			tail, bias, last_ = append(tail, n), b, n
		}
		inputs := []string{x, "", ""}
		for i, p := range []string{scale, bias} {
			if p != "" {
				inputs[i+1] = c.expandParam(p, s, first, last)
			}
		}
		for len(inputs) > 1 && inputs[len(inputs)-1] == "" {
			inputs = inputs[:len(inputs)-1]
		}
		for _, n := range []*gnode{mean, sub, sqr, varMean, add, sq, div} {
			if n != nil {
				n.dead = true
			}
		}
		for _, n := range tail {
			n.dead = true
		}
		run := make([]int64, 0, last-first+1)
		for a := first; a <= last; a++ {
			run = append(run, int64(a))
		}
		last_.dead = false
		last_.op, last_.inputs = model.OpLayerNormalization, inputs
		last_.attrs = []model.Attr{intsAttr("axes", run), floatAttr("epsilon", eps)}
		c.rep.LayerNorm++
	}
}

// sameReduction returns the axes of two ReduceMean nodes that keep their
// dims and reduce the same axes.
func sameReduction(a, b *gnode) ([]int64, bool) {
	ax, _ := a.attr("axes")
	bx, _ := b.attr("axes")
	ak, _ := a.attr("keepdims")
	bk, _ := b.attr("keepdims")
	if ak.Int != 1 || bk.Int != 1 || len(ax.Ints) == 0 || !slices.Equal(ax.Ints, bx.Ints) {
		return nil, false
	}
	return ax.Ints, true
}

// axisRunOf returns the first and last of axes (normalised for rank) when
// they are one ascending run.
func axisRunOf(axes []int64, rank int) (int, int, bool) {
	sorted := make([]int64, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		if a < 0 || a >= int64(rank) {
			return 0, 0, false
		}
		sorted[i] = a
	}
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] != sorted[i-1]+1 {
			return 0, 0, false
		}
	}
	return int(sorted[0]), int(sorted[len(sorted)-1]), true
}

// paramFits reports whether constant name broadcasts (numpy, aligned to
// the trailing dims of x's shape s) to a tensor that varies only along
// axes first..last and leaves s unchanged.
func (c *conv) paramFits(name string, s []int64, first, last int) bool {
	v := c.consts[name]
	if !v.isFloat() || len(v.shape) > len(s) {
		return false
	}
	off := len(s) - len(v.shape)
	for i, d := range v.shape {
		a := off + i
		inRun := a >= first && a <= last
		if d != 1 && (!inRun || d != s[a]) {
			return false
		}
	}
	return true
}

// expandParam returns constant name as a tensor of exactly the dims
// first..last of s (see paramFits), new when its shape differs.
func (c *conv) expandParam(name string, s []int64, first, last int) string {
	v := c.consts[name]
	dims := append([]int64{}, s[first:last+1]...)
	// v aligned to s, restricted to the run (dims outside it are 1).
	full := make([]int64, len(s))
	for i := range full {
		full[i] = 1
	}
	copy(full[len(s)-len(v.shape):], v.shape)
	sub := full[first : last+1]
	if slices.Equal(sub, dims) && len(v.shape) == len(dims) {
		return name
	}
	idx := broadcastIndex(dims, sub)
	nv := &cval{onnxType: v.onnxType, shape: dims, f: make([]float32, len(idx))}
	for k, j := range idx {
		nv.f[k] = v.f[j]
	}
	return c.addConst(shortName(name)+"_ln", nv)
}
