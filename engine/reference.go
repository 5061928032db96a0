package engine

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// The reference executor runs a graph the plainest way: every tensor NCHW
// (logical order), shapes computed as it goes, each op a direct loop or a
// kernels.*Ref oracle, a fresh slice per value. It is slow on purpose and is
// the oracle the planned engine is tested against on whole networks.

type refTensor struct {
	shape []int
	data  []float32
	ints  []int64
}

// RunReference executes m on inputs (logical layout, batch 1, graph input
// order) with the reference executor and returns every graph output.
func RunReference(m *model.Model, inputs [][]float32) ([][]float32, error) {
	env := map[string]*refTensor{}
	for i := range m.Graph.Initializers {
		t := &m.Graph.Initializers[i]
		shape := make([]int, len(t.Shape))
		for j, d := range t.Shape {
			shape[j] = int(d)
		}
		rt := &refTensor{shape: shape}
		switch t.DType {
		case model.Float32:
			rt.data = t.Float32s()
		case model.Int64:
			rt.ints = t.Int64s()
		}
		env[t.Name] = rt
	}
	k := 0
	for _, in := range m.Graph.Inputs {
		if _, ok := env[in.Name]; ok {
			continue
		}
		if k >= len(inputs) {
			return nil, fmt.Errorf("%w: too few inputs", ErrShape)
		}
		shape := make([]int, len(in.Shape))
		for j, d := range in.Shape {
			shape[j] = max(int(d), 1)
		}
		if prod(shape) != len(inputs[k]) {
			return nil, fmt.Errorf("%w: input %q has %d values, want %v", ErrShape, in.Name, len(inputs[k]), shape)
		}
		env[in.Name] = &refTensor{shape: shape, data: append([]float32(nil), inputs[k]...)}
		k++
	}
	for i := range m.Graph.Nodes {
		n := &m.Graph.Nodes[i]
		if err := refNode(n, env); err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", n.Name, n.Op, err)
		}
	}
	var outs [][]float32
	for _, o := range m.Graph.Outputs {
		t, ok := env[o.Name]
		if !ok {
			return nil, fmt.Errorf("%w: output %q not produced", ErrShape, o.Name)
		}
		if t.data == nil && t.ints != nil {
			// An integer output comes out as float32 values, as in the engine.
			f := make([]float32, len(t.ints))
			for i, v := range t.ints {
				f[i] = float32(v)
			}
			outs = append(outs, f)
			continue
		}
		outs = append(outs, t.data)
	}
	return outs, nil
}

func attrI(n *model.Node, name string, def int64) int64 {
	if a, ok := n.Attr(name); ok {
		return a.Int
	}
	return def
}

func attrF(n *model.Node, name string, def float32) float32 {
	if a, ok := n.Attr(name); ok {
		return a.Float
	}
	return def
}

func attrIs(n *model.Node, name string, def ...int64) []int64 {
	if a, ok := n.Attr(name); ok {
		return a.Ints
	}
	return def
}

func refAct(n *model.Node) (kernels.Act, error) {
	a, ok := n.Attr("activation")
	if !ok {
		return kernels.Act{}, nil
	}
	p, _ := n.Attr("activation_params")
	// An activation the reference does not know is an error, never identity.
	return actFrom(a.String, p.Floats, &compiler{node: n})
}

// refWindow resolves kernel, strides, dilations and pads for a 2-D window.
func refWindow(n *model.Node, h, w, kh, kw int) (kernels.ConvParams, error) {
	ks := attrIs(n, "kernel_shape", int64(kh), int64(kw))
	s := attrIs(n, "strides", 1, 1)
	d := attrIs(n, "dilations", 1, 1)
	p := attrIs(n, "pads", 0, 0, 0, 0)
	cp := kernels.ConvParams{KH: int(ks[0]), KW: int(ks[1]), StrideH: int(s[0]), StrideW: int(s[1]),
		DilH: int(d[0]), DilW: int(d[1]), PadT: int(p[0]), PadL: int(p[1]), PadB: int(p[2]), PadR: int(p[3])}
	ap := "NOTSET"
	if a, ok := n.Attr("auto_pad"); ok {
		ap = a.String
	}
	switch ap {
	case "VALID":
		cp.PadT, cp.PadL, cp.PadB, cp.PadR = 0, 0, 0, 0
	case "SAME_UPPER", "SAME_LOWER":
		for axis := 0; axis < 2; axis++ {
			in, k, st, dl := h, cp.KH, cp.StrideH, cp.DilH
			if axis == 1 {
				in, k, st, dl = w, cp.KW, cp.StrideW, cp.DilW
			}
			out := (in + st - 1) / st
			total := max(0, (out-1)*st+(k-1)*dl+1-in)
			small, big := total/2, total-total/2
			b, e := small, big
			if ap == "SAME_LOWER" {
				b, e = big, small
			}
			if axis == 0 {
				cp.PadT, cp.PadB = b, e
			} else {
				cp.PadL, cp.PadR = b, e
			}
		}
	}
	return cp, nil
}

func refNode(n *model.Node, env map[string]*refTensor) error {
	get := func(i int) *refTensor {
		if i >= len(n.Inputs) || n.Inputs[i] == "" {
			return nil
		}
		return env[n.Inputs[i]]
	}
	set := func(i int, shape []int, data []float32) {
		env[n.Outputs[i]] = &refTensor{shape: shape, data: data}
	}
	x := get(0)
	if x == nil {
		return fmt.Errorf("%w: missing input", ErrShape)
	}
	switch n.Op {
	case model.OpConv:
		w := get(1)
		cp, _ := refWindow(n, x.shape[2], x.shape[3], w.shape[2], w.shape[3])
		cp.N, cp.C, cp.H, cp.W, cp.K = x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0]
		cp.Group = int(attrI(n, "group", 1))
		if !cp.Resolve() {
			return fmt.Errorf("%w: conv does not fit", ErrShape)
		}
		var bias []float32
		if b := get(2); b != nil {
			bias = b.data
		}
		y := make([]float32, cp.N*cp.K*cp.OH*cp.OW)
		kernels.Conv2DRef(&cp, x.data, w.data, bias, y)
		act, err := refAct(n)
		if err != nil {
			return err
		}
		for i := range y {
			y[i] = act.Apply(y[i])
		}
		set(0, []int{cp.N, cp.K, cp.OH, cp.OW}, y)
	case model.OpMaxPool, model.OpAveragePool:
		cp, _ := refWindow(n, x.shape[2], x.shape[3], 0, 0)
		pp := kernels.PoolParams{N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3], KH: cp.KH, KW: cp.KW,
			StrideH: cp.StrideH, StrideW: cp.StrideW, DilH: cp.DilH, DilW: cp.DilW,
			PadT: cp.PadT, PadL: cp.PadL, PadB: cp.PadB, PadR: cp.PadR, CeilMode: attrI(n, "ceil_mode", 0) != 0}
		if !pp.Resolve() {
			return fmt.Errorf("%w: pool does not fit", ErrShape)
		}
		y := make([]float32, pp.N*pp.C*pp.OH*pp.OW)
		if n.Op == model.OpMaxPool {
			kernels.MaxPoolRef(&pp, x.data, y)
		} else {
			kernels.AvgPoolRef(&pp, attrI(n, "count_include_pad", 0) != 0, x.data, y)
		}
		set(0, []int{pp.N, pp.C, pp.OH, pp.OW}, y)
	case model.OpGlobalAveragePool:
		y := make([]float32, x.shape[0]*x.shape[1])
		kernels.GlobalAvgPoolRef(x.shape[0], x.shape[1], x.shape[2]*x.shape[3], x.data, y)
		set(0, []int{x.shape[0], x.shape[1], 1, 1}, y)
	case model.OpGemm:
		b := get(1)
		c := get(2)
		alpha, beta := attrF(n, "alpha", 1), attrF(n, "beta", 1)
		ta, tb := attrI(n, "transA", 0) != 0, attrI(n, "transB", 0) != 0
		M, K := x.shape[0], x.shape[1]
		if ta {
			M, K = K, M
		}
		N := b.shape[1]
		if tb {
			N = b.shape[0]
		}
		act, err := refAct(n)
		if err != nil {
			return err
		}
		y := make([]float32, M*N)
		for i := 0; i < M; i++ {
			for j := 0; j < N; j++ {
				var acc float32
				for p := 0; p < K; p++ {
					av := x.data[i*K+p]
					if ta {
						av = x.data[p*M+i]
					}
					bv := b.data[p*N+j]
					if tb {
						bv = b.data[j*K+p]
					}
					acc += av * bv
				}
				acc *= alpha
				if c != nil {
					acc += beta * c.data[bcastIndex(c.shape, []int{M, N}, []int{i, j})]
				}
				y[i*N+j] = act.Apply(acc)
			}
		}
		set(0, []int{M, N}, y)
	case model.OpMatMul:
		b := get(1)
		as, bs := x.shape, b.shape
		if len(as) == 1 {
			as = []int{1, as[0]}
		}
		if len(bs) == 1 {
			bs = []int{bs[0], 1}
		}
		M, K, N := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
		batch, ok := broadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
		if !ok {
			return ErrShape
		}
		nb := prod(batch)
		y := make([]float32, nb*M*N)
		idx := make([]int, len(batch))
		act, err := refAct(n)
		if err != nil {
			return err
		}
		for bi := 0; bi < nb; bi++ {
			unravel(bi, batch, idx)
			ao := bcastIndex(as[:len(as)-2], batch, idx) * M * K
			bo := bcastIndex(bs[:len(bs)-2], batch, idx) * K * N
			for i := 0; i < M; i++ {
				for j := 0; j < N; j++ {
					var acc float32
					for p := 0; p < K; p++ {
						acc += x.data[ao+i*K+p] * b.data[bo+p*N+j]
					}
					y[(bi*M+i)*N+j] = act.Apply(acc)
				}
			}
		}
		oshape := append([]int(nil), batch...)
		if len(x.shape) > 1 {
			oshape = append(oshape, M)
		}
		if len(b.shape) > 1 {
			oshape = append(oshape, N)
		}
		set(0, oshape, y)
	case model.OpBatchNormalization:
		sc, bb, mean, vr := get(1), get(2), get(3), get(4)
		eps := attrF(n, "epsilon", 1e-5)
		C := x.shape[1]
		inner := prod(x.shape[2:])
		y := make([]float32, len(x.data))
		for i := range y {
			c := (i / inner) % C
			y[i] = (x.data[i]-mean.data[c])/float32(math.Sqrt(float64(vr.data[c]+eps)))*sc.data[c] + bb.data[c]
		}
		set(0, x.shape, y)
	case model.OpRelu, model.OpClip, model.OpLeakyRelu, model.OpSigmoid, model.OpHardSigmoid, model.OpHardSwish, model.OpSiLU:
		y := make([]float32, len(x.data))
		for i, v := range x.data {
			y[i] = refUnary(n, v)
		}
		set(0, x.shape, y)
	case model.OpAdd, model.OpSub, model.OpMul, model.OpDiv:
		b := get(1)
		oshape, ok := broadcastShapes(x.shape, b.shape)
		if !ok {
			return ErrShape
		}
		y := make([]float32, prod(oshape))
		idx := make([]int, len(oshape))
		for i := range y {
			unravel(i, oshape, idx)
			av := x.data[bcastIndex(x.shape, oshape, idx)]
			bv := b.data[bcastIndex(b.shape, oshape, idx)]
			switch n.Op {
			case model.OpAdd:
				y[i] = av + bv
			case model.OpSub:
				y[i] = av - bv
			case model.OpMul:
				y[i] = av * bv
			default:
				y[i] = av / bv
			}
		}
		set(0, oshape, y)
	case model.OpConcat:
		axis := int(attrI(n, "axis", 0))
		if axis < 0 {
			axis += len(x.shape)
		}
		oshape := append([]int(nil), x.shape...)
		oshape[axis] = 0
		for i := range n.Inputs {
			oshape[axis] += get(i).shape[axis]
		}
		y := make([]float32, 0, prod(oshape))
		outer := prod(oshape[:axis])
		for o := 0; o < outer; o++ {
			for i := range n.Inputs {
				t := get(i)
				chunk := prod(t.shape[axis:])
				y = append(y, t.data[o*chunk:(o+1)*chunk]...)
			}
		}
		set(0, oshape, y)
	case model.OpSplit:
		axis := int(attrI(n, "axis", 0))
		if axis < 0 {
			axis += len(x.shape)
		}
		sizes := attrIs(n, "split")
		if len(sizes) == 0 {
			part := (x.shape[axis] + len(n.Outputs) - 1) / len(n.Outputs)
			for i := range n.Outputs {
				sizes = append(sizes, int64(min(part, x.shape[axis]-i*part)))
			}
		}
		outer := prod(x.shape[:axis])
		inner := prod(x.shape[axis+1:])
		off := 0
		for i, sz := range sizes {
			shape := append([]int(nil), x.shape...)
			shape[axis] = int(sz)
			var y []float32
			for o := 0; o < outer; o++ {
				start := (o*x.shape[axis] + off) * inner
				y = append(y, x.data[start:start+int(sz)*inner]...)
			}
			if y == nil {
				y = []float32{}
			}
			set(i, shape, y)
			off += int(sz)
		}
	case model.OpSlice:
		starts, ends := attrIs(n, "starts"), attrIs(n, "ends")
		axes := attrIs(n, "axes")
		steps := attrIs(n, "steps")
		r := len(x.shape)
		st := make([]int, r)
		sp := make([]int, r)
		oshape := append([]int(nil), x.shape...)
		for i := range sp {
			sp[i] = 1
		}
		for i := range starts {
			a := i
			if axes != nil {
				a = int(axes[i])
			}
			if a < 0 {
				a += r
			}
			k := int64(1)
			if steps != nil {
				k = steps[i]
			}
			s, cnt := shape.Slice(int64(x.shape[a]), starts[i], ends[i], k)
			if cnt <= 1 {
				k = 1
			}
			st[a], sp[a], oshape[a] = int(s), int(k), int(cnt)
		}
		y := make([]float32, prod(oshape))
		idx := make([]int, r)
		src := make([]int, r)
		for i := range y {
			unravel(i, oshape, idx)
			for d := range idx {
				src[d] = st[d] + idx[d]*sp[d]
			}
			y[i] = x.data[ravel(src, x.shape)]
		}
		set(0, oshape, y)
	case model.OpFlatten:
		axis := int(attrI(n, "axis", 1))
		if axis < 0 {
			axis += len(x.shape)
		}
		set(0, []int{prod(x.shape[:axis]), prod(x.shape[axis:])}, append([]float32(nil), x.data...))
	case model.OpReshape:
		spec := get(1).ints
		shape := make([]int, len(spec))
		infer, known := -1, 1
		for i, d := range spec {
			switch {
			case d == -1:
				infer = i
				continue
			case d == 0 && attrI(n, "allowzero", 0) == 0:
				shape[i] = x.shape[i]
			default:
				shape[i] = int(d)
			}
			known *= shape[i]
		}
		if infer >= 0 {
			shape[infer] = len(x.data) / known
		}
		set(0, shape, append([]float32(nil), x.data...))
	case model.OpTranspose:
		r := len(x.shape)
		perm := attrIs(n, "perm")
		if perm == nil {
			for i := r - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		oshape := make([]int, r)
		for i, p := range perm {
			oshape[i] = x.shape[p]
		}
		y := make([]float32, len(x.data))
		idx := make([]int, r)
		src := make([]int, r)
		for i := range y {
			unravel(i, oshape, idx)
			for d, p := range perm {
				src[p] = idx[d]
			}
			y[i] = x.data[ravel(src, x.shape)]
		}
		set(0, oshape, y)
	case model.OpReduceMean, model.OpReduceL2:
		r := len(x.shape)
		red := make([]bool, r)
		axes := attrIs(n, "axes")
		if len(axes) == 0 {
			if attrI(n, "noop_with_empty_axes", 0) != 0 {
				set(0, x.shape, append([]float32(nil), x.data...))
				return nil
			}
			for i := range red {
				red[i] = true
			}
		}
		for _, a := range axes {
			if a < 0 {
				a += int64(r)
			}
			red[a] = true
		}
		kshape := make([]int, r)
		for d := range kshape {
			kshape[d] = x.shape[d]
			if red[d] {
				kshape[d] = 1
			}
		}
		sums := make([]float64, prod(kshape))
		idx := make([]int, r)
		for i, v := range x.data {
			unravel(i, x.shape, idx)
			for d := range idx {
				if red[d] {
					idx[d] = 0
				}
			}
			j := ravel(idx, kshape)
			if n.Op == model.OpReduceL2 {
				sums[j] += float64(v) * float64(v)
			} else {
				sums[j] += float64(v)
			}
		}
		cnt := len(x.data) / max(1, len(sums))
		y := make([]float32, len(sums))
		for i, s := range sums {
			if n.Op == model.OpReduceL2 {
				y[i] = float32(math.Sqrt(s))
			} else {
				y[i] = float32(s / float64(cnt))
			}
		}
		oshape := kshape
		if attrI(n, "keepdims", 1) == 0 {
			oshape = nil
			for d := range kshape {
				if !red[d] {
					oshape = append(oshape, kshape[d])
				}
			}
		}
		set(0, oshape, y)
	case model.OpLpNormalization, model.OpL2Normalize:
		r := len(x.shape)
		var axis int
		p1 := false
		var eps float64
		if n.Op == model.OpLpNormalization {
			axis = int(attrI(n, "axis", -1))
			p1 = attrI(n, "p", 2) == 1
		} else {
			axis = int(attrI(n, "axis", 1))
			eps = float64(attrF(n, "epsilon", 1e-12))
		}
		if axis < 0 {
			axis += r
		}
		outer, dim, inner := prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis+1:])
		y := make([]float32, len(x.data))
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				var s float64
				for k := 0; k < dim; k++ {
					v := float64(x.data[(o*dim+k)*inner+i])
					if p1 {
						s += math.Abs(v)
					} else {
						s += v * v
					}
				}
				if !p1 {
					s = math.Sqrt(s)
				}
				s = math.Max(s, eps)
				for k := 0; k < dim; k++ {
					j := (o*dim+k)*inner + i
					y[j] = float32(float64(x.data[j]) / s)
				}
			}
		}
		set(0, x.shape, y)
	default:
		return fmt.Errorf("%w: op %s", ErrUnsupported, n.Op)
	}
	return nil
}

func refUnary(n *model.Node, v float32) float32 {
	switch n.Op {
	case model.OpRelu:
		return max(v, 0)
	case model.OpClip:
		return min(max(v, attrF(n, "min", float32(math.Inf(-1)))), attrF(n, "max", float32(math.Inf(1))))
	case model.OpLeakyRelu:
		if v < 0 {
			return attrF(n, "alpha", 0.01) * v
		}
		return v
	case model.OpSigmoid:
		return float32(1 / (1 + math.Exp(-float64(v))))
	case model.OpHardSigmoid:
		return max(0, min(1, attrF(n, "alpha", 0.2)*v+attrF(n, "beta", 0.5)))
	case model.OpHardSwish:
		return v * max(0, min(1, v/6+0.5))
	case model.OpSiLU:
		return float32(float64(v) / (1 + math.Exp(-float64(v))))
	}
	return v
}

func unravel(i int, shape, idx []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}

func ravel(idx, shape []int) int {
	o := 0
	for d := range shape {
		o = o*shape[d] + idx[d]
	}
	return o
}

// bcastIndex maps an index of the broadcast shape oshape to the flat index
// of a tensor of shape s (right-aligned, size-1 dims repeat).
func bcastIndex(s, oshape, idx []int) int {
	o := 0
	off := len(oshape) - len(s)
	for d := range s {
		i := idx[d+off]
		if s[d] == 1 {
			i = 0
		}
		o = o*s[d] + i
	}
	return o
}
