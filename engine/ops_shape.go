package engine

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

func (c *compiler) buildConcat() error {
	if len(c.node.Inputs) == 0 {
		return c.errf(ErrShape, "no inputs")
	}
	first, err := c.in(0)
	if err != nil {
		return err
	}
	rank := len(c.p.vals[first].shape)
	axis, err := c.normAxis(c.attrInt("axis", 0), rank)
	if err != nil {
		return err
	}
	oshape := append([]int(nil), c.p.vals[first].shape...)
	oshape[axis] = 0
	var ins []int
	for i := range c.node.Inputs {
		id, err := c.in(i)
		if err != nil {
			return err
		}
		s := c.p.vals[id].shape
		if len(s) != rank {
			return c.errf(ErrShape, "input %d has rank %d, want %d", i, len(s), rank)
		}
		for d := range s {
			if d != axis && s[d] != oshape[d] {
				return c.errf(ErrShape, "input %d shape %v does not match %v outside axis %d", i, s, c.p.vals[first].shape, axis)
			}
		}
		oshape[axis] += s[axis]
		ins = append(ins, id)
	}
	out, err := c.output(0, oshape, defaultLayout(oshape))
	if err != nil {
		return err
	}
	ov := &c.p.vals[out]
	l := ov.layout
	pa := ov.physAxis(axis)
	phys := ov.physShape()
	args := &backend.Concat{Outer: prod(phys[:pa]), RowLen: prod(phys[pa:])}
	for i, id := range ins {
		// need may hand back a value stored in plain order when its NHWC
		// bytes are the same (C == 1 or H·W == 1): measure its chunk in the
		// output's layout, where its bytes are read, not in its own.
		ins[i] = c.need(id, l)
		args.Chunk = append(args.Chunk, prod(physShapeIn(c.p.vals[ins[i]].shape, l)[pa:]))
	}
	return c.lowerNode(args, ins, []int{out}, 0, -1)
}

func (c *compiler) buildSplit() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	rank := len(xv.shape)
	axis, err := c.normAxis(c.attrInt("axis", 0), rank)
	if err != nil {
		return err
	}
	nout := len(c.node.Outputs)
	dim := xv.shape[axis]
	var sizes []int
	if sp, ok := c.attrInts("split"); ok && len(sp) > 0 {
		if len(sp) != nout {
			return c.errf(ErrShape, "split %v for %d outputs", sp, nout)
		}
		sum := 0
		for _, v := range sp {
			if v < 0 {
				return c.errf(ErrShape, "negative split %v", sp)
			}
			sizes = append(sizes, int(v))
			sum += int(v)
		}
		if sum != dim {
			return c.errf(ErrShape, "split %v does not add up to %d", sp, dim)
		}
	} else {
		if nout == 0 {
			return c.errf(ErrShape, "no outputs")
		}
		// Equal parts; as in ONNX (opset 18), the last may be smaller.
		part := (dim + nout - 1) / nout
		for i := 0; i < nout; i++ {
			sizes = append(sizes, max(0, min(part, dim-i*part)))
		}
		if sizes[nout-1] == 0 && dim > 0 {
			return c.errf(ErrShape, "cannot split %d into %d parts", dim, nout)
		}
	}
	l := xv.layout
	pa := xv.physAxis(axis)
	phys := xv.physShape()
	args := &backend.Split{Outer: prod(phys[:pa]), RowLen: prod(phys[pa:])}
	var outs []int
	for i, sz := range sizes {
		shape := append([]int(nil), c.p.vals[x].shape...)
		shape[axis] = sz
		out, err := c.output(i, shape, l)
		if err != nil {
			return err
		}
		outs = append(outs, out)
		args.Chunk = append(args.Chunk, prod(c.p.vals[out].physShape()[pa:]))
	}
	return c.lowerNode(args, []int{x}, outs, 0, -1)
}

func (c *compiler) buildSlice() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	rank := len(xv.shape)
	starts, ok1 := c.attrInts("starts")
	ends, ok2 := c.attrInts("ends")
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return c.errf(ErrShape, "starts/ends missing or of different lengths")
	}
	axes, ok := c.attrInts("axes")
	if !ok {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	steps, ok := c.attrInts("steps")
	if !ok {
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return c.errf(ErrShape, "axes/steps lengths differ from starts")
	}
	oshape := append([]int(nil), xv.shape...)
	start := make([]int, rank)
	step := make([]int, rank)
	for i := range step {
		step[i] = 1
	}
	seen := make([]bool, rank)
	for i := range starts {
		a, err := c.normAxis(axes[i], rank)
		if err != nil {
			return err
		}
		if seen[a] {
			return c.errf(ErrShape, "axis %d repeated", a)
		}
		seen[a] = true
		k := steps[i]
		if k == 0 {
			return c.errf(ErrShape, "step 0")
		}
		s, n := shape.Slice(int64(xv.shape[a]), starts[i], ends[i], k)
		if n <= 1 {
			k = 1 // one element: the step is never taken, and a huge one would overflow the stride
		}
		start[a], step[a], oshape[a] = int(s), int(k), int(n)
	}
	out, err := c.output(0, oshape, xv.layout)
	if err != nil {
		return err
	}
	ls := c.p.vals[x].logicalStrides()
	src := make([]int, rank)
	base := 0
	for d := range src {
		src[d] = ls[d] * step[d]
		if oshape[d] > 0 {
			base += start[d] * ls[d]
		}
	}
	return c.lowerNode(c.copyArgs(out, src, base, "copy-strided"), []int{x}, []int{out}, 0, -1)
}

func (c *compiler) buildReshape() error {
	x, err := c.inRaw(0)
	if err != nil {
		return err
	}
	xs := c.p.vals[x].shape
	var oshape []int
	if c.node.Op == model.OpFlatten {
		axis := c.attrInt("axis", 1)
		if axis < 0 {
			axis += int64(len(xs))
		}
		if axis < 0 || axis > int64(len(xs)) {
			return c.errf(ErrShape, "axis %d out of range for rank %d", axis, len(xs))
		}
		oshape = []int{prod(xs[:axis]), prod(xs[axis:])}
	} else {
		if len(c.node.Inputs) < 2 {
			return c.errf(ErrShape, "missing shape input")
		}
		sid, ok := c.byName[c.node.Inputs[1]]
		if !ok || !c.p.vals[sid].isInt || c.p.vals[sid].ints == nil && c.p.vals[sid].size > 0 {
			return c.errf(ErrUnsupported, "shape input must be an integer constant")
		}
		spec := c.p.vals[sid].ints
		allowZero := c.attrInt("allowzero", 0) != 0
		oshape = make([]int, len(spec))
		infer := -1
		known := 1
		for i, d := range spec {
			switch {
			case d == -1:
				if infer >= 0 {
					return c.errf(ErrShape, "more than one -1 in shape %v", spec)
				}
				infer = i
				continue
			case d == 0 && !allowZero:
				if i >= len(xs) {
					return c.errf(ErrShape, "shape %v copies dimension %d of rank-%d input", spec, i, len(xs))
				}
				oshape[i] = xs[i]
			case d < 0:
				return c.errf(ErrShape, "invalid dimension %d in shape %v", d, spec)
			default:
				if d > 1<<31 {
					return c.errf(ErrShape, "dimension %d too large", d)
				}
				oshape[i] = int(d)
			}
			known *= oshape[i]
		}
		total := prod(xs)
		if infer >= 0 {
			if known == 0 || total%known != 0 {
				return c.errf(ErrShape, "cannot infer -1 in %v for %d elements", spec, total)
			}
			oshape[infer] = total / known
		}
		if prod(oshape) != total {
			return c.errf(ErrShape, "shape %v holds %d elements, input %v has %d", oshape, prod(oshape), xs, total)
		}
	}
	if ok, err := c.buildViewOp(x, oshape, nil); ok || err != nil {
		return err
	}
	x = c.need(x, layoutLogical)
	out, err := c.output(0, oshape, layoutLogical)
	if err != nil {
		return err
	}
	contig := make([]int, len(oshape))
	s := 1
	for i := len(oshape) - 1; i >= 0; i-- {
		contig[i] = s
		s *= oshape[i]
	}
	return c.lowerNode(c.copyArgs(out, contig, 0, "copy"), []int{x}, []int{out}, 0, x)
}

func (c *compiler) buildTranspose() error {
	x, err := c.inRaw(0)
	if err != nil {
		return err
	}
	xv := &c.p.vals[x]
	rank := len(xv.shape)
	perm := make([]int, rank)
	if p, ok := c.attrInts("perm"); ok {
		if len(p) != rank {
			return c.errf(ErrShape, "perm %v for rank %d", p, rank)
		}
		seen := make([]bool, rank)
		for i, v := range p {
			if v < 0 || v >= int64(rank) || seen[v] {
				return c.errf(ErrShape, "invalid perm %v", p)
			}
			seen[v] = true
			perm[i] = int(v)
		}
	} else {
		for i := range perm {
			perm[i] = rank - 1 - i
		}
	}
	oshape := make([]int, rank)
	for i, p := range perm {
		oshape[i] = xv.shape[p]
	}
	if ok, err := c.buildViewOp(x, oshape, perm); ok || err != nil {
		return err
	}
	ls := xv.logicalStrides()
	src := make([]int, rank)
	for i, p := range perm {
		oshape[i] = xv.shape[p]
		src[i] = ls[p]
	}
	out, err := c.output(0, oshape, layoutLogical)
	if err != nil {
		return err
	}
	return c.lowerNode(c.copyArgs(out, src, 0, "copy-strided"), []int{x}, []int{out}, 0, -1)
}

func (c *compiler) buildReduce() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	rank := len(xv.shape)
	keep := c.attrInt("keepdims", 1) != 0
	reduced := make([]bool, rank)
	axes, ok := c.attrInts("axes")
	if !ok || len(axes) == 0 {
		if c.attrInt("noop_with_empty_axes", 0) != 0 {
			out, err := c.output(0, xv.shape, xv.layout)
			if err != nil {
				return err
			}
			return c.lowerNode(c.copyArgs(out, c.p.vals[x].logicalStrides(), 0, "copy"), []int{x}, []int{out}, 0, x)
		}
		for i := range reduced {
			reduced[i] = true
		}
	}
	for _, a := range axes {
		ax, err := c.normAxis(a, rank)
		if err != nil {
			return err
		}
		reduced[ax] = true
	}
	if c.node.Op == model.OpReduceMean && rank == 4 && !reduced[0] && !reduced[1] && reduced[2] && reduced[3] {
		return c.buildGAP(x, keep)
	}
	var oshape, kdims, kst, rdims, rst []int
	ls := xv.logicalStrides()
	for d := 0; d < rank; d++ {
		if reduced[d] {
			rdims = append(rdims, xv.shape[d])
			rst = append(rst, ls[d])
			if keep {
				oshape = append(oshape, 1)
			}
		} else {
			kdims = append(kdims, xv.shape[d])
			kst = append(kst, ls[d])
			oshape = append(oshape, xv.shape[d])
		}
	}
	if len(kdims) == 0 {
		kdims, kst = []int{1}, []int{0}
	}
	if len(rdims) == 0 {
		rdims, rst = []int{1}, []int{0}
	}
	out, err := c.output(0, oshape, layoutLogical)
	if err != nil {
		return err
	}
	count := prod(rdims)
	if count == 0 {
		return c.errf(ErrUnsupported, "reduction over an empty axis")
	}
	kind := map[string]backend.ReduceKind{model.OpReduceMean: backend.ReduceMean, model.OpReduceL2: backend.ReduceL2,
		model.OpReduceSum: backend.ReduceSum, model.OpReduceMax: backend.ReduceMax, model.OpReduceMin: backend.ReduceMin}[c.node.Op]
	args := &backend.Reduce{KeptDims: kdims, KeptStrides: kst, RedDims: rdims, RedStrides: rst, Kind: kind}
	return c.lowerNode(args, []int{x}, []int{out}, int64(xv.size), -1)
}

func (c *compiler) buildNormalize() error {
	x, xv, err := c.inVal(0)
	if err != nil {
		return err
	}
	rank := len(xv.shape)
	if rank == 0 {
		return c.errf(ErrShape, "scalar input")
	}
	st := &backend.Normalize{}
	var axis int64
	if c.node.Op == model.OpLpNormalization {
		axis = c.attrInt("axis", -1)
		switch c.attrInt("p", 2) {
		case 1:
			st.P1 = true
		case 2:
		default:
			return c.errf(ErrUnsupported, "p=%d (only 1 and 2)", c.attrInt("p", 2))
		}
	} else {
		axis = c.attrInt("axis", 1)
		st.Eps = c.attrFloat("epsilon", 1e-12)
	}
	ax, err := c.normAxis(axis, rank)
	if err != nil {
		return err
	}
	phys := xv.physShape()
	pa := xv.physAxis(ax)
	st.Outer, st.N, st.Stride = prod(phys[:pa]), phys[pa], prod(phys[pa+1:])
	return c.lowerLike(st, x, 3)
}
