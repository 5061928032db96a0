package engine

import (
	"slices"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
)

// Pad, LayerNormalization and Softmax.

func (c *compiler) buildPad() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	r := len(xv.shape)
	pads, ok := c.attrInts("pads")
	if !ok || len(pads) != 2*r {
		return c.errf(ErrShape, "pads %v for rank %d", pads, r)
	}
	var mode kernels.PadMode
	switch m := c.attrString("mode", "constant"); m {
	case "constant":
		mode = kernels.PadConstant
	case "edge":
		mode = kernels.PadEdge
	case "reflect":
		mode = kernels.PadReflect
	default:
		return c.errf(ErrUnsupported, "mode %q", m)
	}
	oshape := make([]int, r)
	for d := range oshape {
		b, e := pads[d], pads[r+d]
		if b > attrLimit || b < -attrLimit || e > attrLimit || e < -attrLimit {
			return c.errf(ErrUnsupported, "pads %v out of range", pads)
		}
		n := int64(xv.shape[d]) + b + e
		if n < 1 {
			return c.errf(ErrUnsupported, "pads %v leave dim %d of %v empty", pads, d, xv.shape)
		}
		oshape[d] = int(n)
	}
	out, err := c.output(0, oshape, xv.layout)
	if err != nil {
		return err
	}
	ov := &c.p.vals[out]
	args := &backend.Pad{Dims: ov.physShape(), InDims: c.p.vals[x].physShape(), Mode: mode, Value: c.attrFloat("value", 0)}
	for _, d := range ov.perm() {
		args.Begin = append(args.Begin, int(pads[d]))
	}
	return c.lowerNode(args, []int{x}, []int{out}, 0, -1)
}

// storageView returns the value holding view id's data when the view reads
// that value's storage in order (a reshape of it, or a transpose that
// undoes its layout, as Transpose(0,2,3,1) of an NHWC tensor does): an op
// that only needs its input in row-major logical order can then read the
// source itself instead of a copy.
func (c *compiler) storageView(id int) (int, bool) {
	vi := c.p.vals[id].view
	if vi == nil {
		return id, false
	}
	src := &c.p.vals[vi.src]
	want := 1
	for d := len(vi.dims) - 1; d >= 0; d-- {
		for f := len(vi.dims[d]) - 1; f >= 0; f-- {
			fa := vi.dims[d][f]
			if fa.st != want {
				return id, false
			}
			want *= fa.n
		}
	}
	return vi.src, want == src.size
}

// vectorRun resolves the vectors of x over logical axes first..last for a
// kernel walking storage: Outer blocks of N·Inner elements. It returns the
// value to read (x, the source of a view read in order, or a copy in
// logical order when the axes are not one run of storage dims in order)
// and the layout its outputs take.
func (c *compiler) vectorRun(i, first, last int) (id, outer, n, inner int, l layout, err error) {
	id, err = c.inRaw(i)
	if err != nil {
		return
	}
	if v := c.p.vals[id].view; v != nil {
		src, ok := c.storageView(id)
		if !ok {
			id = c.materialize(id, layoutLogical)
		} else {
			// The source's storage is the view's logical order: plan
			// the run over the view's shape.
			shp := c.p.vals[id].shape
			return src, prod(shp[:first]), prod(shp[first : last+1]), prod(shp[last+1:]), layoutLogical, nil
		}
	}
	v := &c.p.vals[id]
	if v.layout == layoutNHWC && !v.trivialNHWC() {
		p0 := v.physAxis(first)
		inOrder := true
		for d := first; d <= last; d++ {
			inOrder = inOrder && v.physAxis(d) == p0+d-first
		}
		if !inOrder {
			id = c.need(id, layoutLogical)
			v = &c.p.vals[id]
		} else {
			phys := v.physShape()
			p1 := p0 + last - first
			return id, prod(phys[:p0]), prod(phys[p0 : p1+1]), prod(phys[p1+1:]), v.layout, nil
		}
	}
	s := v.shape
	return id, prod(s[:first]), prod(s[first : last+1]), prod(s[last+1:]), v.layout, nil
}

// axesRun reads the normalised axes of LayerNormalization: ascending,
// contiguous, within rank.
func (c *compiler) axesRun(rank int) (int, int, error) {
	axes, ok := c.attrInts("axes")
	if !ok || len(axes) == 0 {
		return 0, 0, c.errf(ErrShape, "missing axes")
	}
	first, err := c.normAxis(axes[0], rank)
	if err != nil {
		return 0, 0, err
	}
	last := first
	for _, a := range axes[1:] {
		d, err := c.normAxis(a, rank)
		if err != nil {
			return 0, 0, err
		}
		if d != last+1 {
			return 0, 0, c.errf(ErrUnsupported, "axes %v are not ascending and contiguous", axes)
		}
		last = d
	}
	return first, last, nil
}

func (c *compiler) buildLayerNorm() error {
	x0, err := c.inRaw(0)
	if err != nil {
		return err
	}
	xshape := c.p.vals[x0].shape
	rank := len(xshape)
	first, last, err := c.axesRun(rank)
	if err != nil {
		return err
	}
	x, outer, n, inner, l, err := c.vectorRun(0, first, last)
	if err != nil {
		return err
	}
	args := &backend.LayerNorm{Outer: outer, N: n, Inner: inner, Eps: c.attrFloat("epsilon", 1e-5)}
	if !(args.Eps >= 0) {
		return c.errf(ErrUnsupported, "epsilon %v", args.Eps)
	}
	for i, dst := range []*[]float32{&args.Scale, &args.Bias} {
		if len(c.node.Inputs) <= i+1 || c.node.Inputs[i+1] == "" {
			continue
		}
		v, vshape, err := c.constIn(i + 1)
		if err != nil {
			return err
		}
		if !slices.Equal(vshape, xshape[first:last+1]) {
			return c.errf(ErrShape, "input %d of shape %v, want the normalised dims %v", i+1, vshape, xshape[first:last+1])
		}
		if err := c.reserve(n); err != nil {
			return err
		}
		*dst = append([]float32(nil), v...)
	}
	outs := []int{}
	o, err := c.output(0, xshape, l)
	if err != nil {
		return err
	}
	outs = append(outs, o)
	stats := 0
	for i := 1; i < len(c.node.Outputs) && i < 3; i++ {
		if c.node.Outputs[i] != "" {
			stats++
		}
	}
	if len(c.node.Outputs) > 3 {
		return c.errf(ErrShape, "%d outputs", len(c.node.Outputs))
	}
	if stats > 0 {
		if stats != 2 {
			// The kernel writes both statistics or neither.
			return c.errf(ErrUnsupported, "only one of the Mean and InvStdDev outputs")
		}
		sshape := append([]int(nil), xshape...)
		for d := first; d <= last; d++ {
			sshape[d] = 1
		}
		for i := 1; i < 3; i++ {
			o, err := c.output(i, sshape, l)
			if err != nil {
				return err
			}
			outs = append(outs, o)
		}
		args.Stats = true
	}
	// In place only without statistics and on a tensor of its own.
	inplace := -1
	if !args.Stats && !c.p.vals[x].isConst && c.p.vals[x].layout == c.p.vals[o].layout {
		inplace = x
	}
	return c.lowerNode(args, []int{x}, outs, shape.MulSat(6, int64(outer), int64(n), int64(inner)), inplace)
}

func (c *compiler) buildSoftmax() error {
	x0, err := c.inRaw(0)
	if err != nil {
		return err
	}
	xshape := c.p.vals[x0].shape
	if len(xshape) == 0 {
		return c.errf(ErrShape, "scalar input")
	}
	ax, err := c.normAxis(c.attrInt("axis", -1), len(xshape))
	if err != nil {
		return err
	}
	x, outer, n, inner, l, err := c.vectorRun(0, ax, ax)
	if err != nil {
		return err
	}
	out, err := c.output(0, xshape, l)
	if err != nil {
		return err
	}
	inplace := -1
	if !c.p.vals[x].isConst && c.p.vals[x].layout == c.p.vals[out].layout {
		inplace = x
	}
	return c.lowerNode(&backend.Softmax{Outer: outer, N: n, Inner: inner}, []int{x}, []int{out},
		shape.MulSat(5, int64(outer), int64(n), int64(inner)), inplace)
}
