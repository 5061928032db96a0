package engine

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-go/signet/engine/reference"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// Differential testing: the fuzz bytes are decoded as a program that builds a
// small random graph (2–12 nodes over the supported ops, rank 0–4 values,
// dims mostly ≤ 9 and now and then 16–33 to fill SIMD vectors and GEMM tiles,
// at most diffMaxElems elements per tensor; one program in 16 goes up to
// diffLargeElems so element-wise steps split over threads), which runs on
// reference.Run and on the engine under every available tier × Threads 1 and
// 3. Rank-4 values come from producers the engine stores NHWC (Conv, pooling,
// element-wise, Concat) and from ones it stores in logical order (MatMul,
// reductions, copies of Reshape), and are mixed into Concat, Split, Slice and
// Transpose, where layout mix-ups live.
//
// Tolerance, per output element: |got − ref| ≤ diffTol·(max(1, max|ref|) + |ref|),
// i.e. 1e-4 of the output's scale plus 1e-4 relative: the engine's SIMD
// kernels sum in another order (and with FMA) than the reference's loops, and
// the reductions sum in float32 where the reference uses float64. NaN must be
// NaN on both sides. For one tier, Threads 1 and 3 must agree bit for bit.

// diffKnownBugs, when set, skips programs that contain one of the known*
// patterns below (bug classes fixed in the planner: set it while one of them
// regresses and is being fixed, so the fuzzer keeps looking elsewhere).
// diffMemoryLimit is the engine budget of every fuzzed program, and
// diffPlanSlack the bookkeeping (plan, layer records, worker pool) that New
// and NewSession may allocate beyond what MemoryBytes and SessionBytes count.
const (
	diffMemoryLimit = 64 << 20
	diffPlanSlack   = 2 << 20
)

var diffKnownBugs = false

const (
	diffTol        = 1e-4
	diffMaxElems   = 2048
	diffLargeElems = 40000
	diffMaxMACs    = 200000
	diffMaxNodes   = 12
	diffSeedCount  = 300
)

// Known-bug patterns a program may contain (diffProg.known; the plain-order
// Concat is found on the plan by diffConcatReadsPlain).
const (
	// A Concat reads a rank-4 value stored in logical order with C == 1 or
	// H·W == 1 (MatMul or non-spatial reduction output, a rank-4 constant).
	knownPlainConcat = "concat-of-plain-order-input"
	// An Int64 initializer is a graph output.
	knownInt64Output = "int64-initializer-output"
	// Dimensions whose product overflows int (a graph input of 2^32×2^32),
	// or a Slice step near ±2^63.
	knownOverflow = "shape-overflow"
	// A zero-size value (empty Slice, Split part of 0).
	knownZeroSize = "zero-size-value"
)

// diffSrc hands out the program's decisions, one byte each; past the end of
// the data they continue from a fixed pseudo-random stream, so every input
// decodes to a finite program.
type diffSrc struct {
	b     []byte
	i     int
	state uint64
}

func (s *diffSrc) intn(n int) int {
	var v int
	if s.i < len(s.b) {
		v = int(s.b[s.i])
		s.i++
	} else {
		s.state ^= s.state << 13 // xorshift64
		s.state ^= s.state >> 7
		s.state ^= s.state << 17
		v = int(s.state >> 56)
	}
	if n <= 1 {
		return 0
	}
	return v % n
}

func (s *diffSrc) chance(n int) bool { return s.intn(n) == 0 }

func (s *diffSrc) pick(v ...int64) int64 { return v[s.intn(len(v))] }

type diffVal struct {
	name  string
	shape []int
}

// diffProg is one decoded program: the graph and what it exercises.
type diffProg struct {
	s      *diffSrc
	r      *rand.Rand // constant and input values
	g      model.Graph
	pool   []diffVal // runtime values: graph inputs and node outputs
	used   map[string]bool
	shapes map[string][]int
	cnt    int
	ops    map[string]bool // op names (and variants) present
	known  map[string]bool
	// unsupported names the documented unsupported feature the program
	// uses; New must refuse it with ErrUnsupported.
	unsupported string
	huge        bool // the graph cannot be run; New must refuse it
	large       bool // a rare program over tensors of up to diffLargeElems
	maxElems    int
	// multiply-adds of the Conv, Gemm and MatMul nodes so far, and their
	// cap: the reference runs them as plain loops
	macs, maxMACs int
}

func (p *diffProg) name(prefix string) string {
	p.cnt++
	return fmt.Sprintf("%s%d", prefix, p.cnt)
}

func diffSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func diffI64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, d := range v {
		out[i] = int64(d)
	}
	return out
}

// constant adds a Float32 initializer with values in ±scale, or, when away
// is set, in ±[0.5, 1.5]·scale (divisors, variances).
func (p *diffProg) constant(shape []int, scale float32, away bool) string {
	v := make([]float32, diffSize(shape))
	for i := range v {
		if away {
			v[i] = (0.5 + p.r.Float32()) * scale
			if p.r.Intn(2) == 0 {
				v[i] = -v[i]
			}
		} else {
			v[i] = (p.r.Float32()*2 - 1) * scale
		}
	}
	name := p.name("c")
	p.g.Initializers = append(p.g.Initializers, model.NewFloat32Tensor(name, diffI64(shape), v))
	return name
}

// node adds a node with one output per shape and puts the outputs in the
// pool.
func (p *diffProg) node(op string, inputs []string, shapes [][]int, attrs ...model.Attr) []string {
	outs := make([]string, len(shapes))
	for i, sh := range shapes {
		outs[i] = p.name("v")
		p.pool = append(p.pool, diffVal{outs[i], sh})
		p.shapes[outs[i]] = sh
		for _, d := range sh {
			if d == 0 {
				p.known[knownZeroSize] = true
			}
		}
	}
	for _, in := range inputs {
		p.used[in] = true
	}
	p.ops[op] = true
	p.g.Nodes = append(p.g.Nodes, model.Node{Op: op, Name: p.name(op), Inputs: inputs, Outputs: outs, Attrs: attrs})
	return outs
}

func (p *diffProg) node1(op string, inputs []string, shape []int, attrs ...model.Attr) diffVal {
	return diffVal{p.node(op, inputs, [][]int{shape}, attrs...)[0], shape}
}

// spend adds n multiply-adds to the program's work, or reports false when
// that would exceed its cap.
func (p *diffProg) spend(n int) bool {
	if p.macs+n > p.maxMACs {
		return false
	}
	p.macs += n
	return true
}

// dim draws a dimension, 1 more often than the others (the layouts
// coincide at C == 1 or H·W == 1), rarely one past the SIMD widths (full
// 8- and 16-lane vectors, full GEMM tiles).
func (p *diffProg) dim() int {
	if p.large {
		return []int{1, 3, 8, 16, 17, 24, 33, 48}[p.s.intn(8)]
	}
	return []int{1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 1, 16, 17, 32}[p.s.intn(16)]
}

func (p *diffProg) randShape(rank int) []int {
	sh := make([]int, rank)
	for i := range sh {
		sh[i] = p.dim()
	}
	for i := 0; diffSize(sh) > p.maxElems/2; i++ {
		sh[i%rank] = max(1, sh[i%rank]/2)
	}
	return sh
}

// decodeDiffProg builds the program data describes.
func decodeDiffProg(data []byte) *diffProg {
	h := fnv.New64a()
	h.Write(data)
	// The decisions past the data come from a fixed stream, so that inputs
	// sharing a prefix decode to programs sharing a prefix (which keeps the
	// fuzzer's minimization of an input to similar programs).
	p := &diffProg{s: &diffSrc{b: data, state: 0x9e3779b97f4a7c15}, r: rand.New(rand.NewSource(int64(h.Sum64()))),
		used: map[string]bool{}, shapes: map[string][]int{}, ops: map[string]bool{}, known: map[string]bool{}}
	p.maxElems, p.maxMACs = diffMaxElems, diffMaxMACs
	if p.s.chance(16) {
		// Large enough for the element-wise and copy steps to be cut into
		// tasks for several threads (they split above 2^14 elements).
		p.large, p.maxElems, p.maxMACs = true, diffLargeElems, 10*diffMaxMACs
	}
	nin := 1 + p.s.intn(2)
	for i := 0; i < nin; i++ {
		rank := []int{4, 4, 4, 3, 2}[p.s.intn(5)]
		sh := p.randShape(rank)
		if p.s.chance(97) {
			// Dims whose product overflows (or nearly overflows) int.
			sh = []int{1, 3, 1 << 32, 1 << 32}[:rank]
			if rank < 4 {
				sh[rank-1] = 1 << 62
			}
			p.huge = true
			p.known[knownOverflow] = true
		}
		name := p.name("in")
		decl := diffI64(sh)
		if sh[0] == 1 && p.s.chance(8) {
			decl[0] = -1 // a dynamic batch, planned as 1
		}
		p.g.Inputs = append(p.g.Inputs, model.Value{Name: name, Shape: decl})
		p.pool = append(p.pool, diffVal{name, sh})
		p.shapes[name] = sh
	}
	nodes := 2 + p.s.intn(diffMaxNodes-1)
	for len(p.g.Nodes) < nodes {
		before := len(p.g.Nodes)
		if p.huge {
			p.unary(p.pool[len(p.pool)-1]) // shapes of this size only need to be refused
			continue
		}
		x := p.pickX()
		op := p.s.intn(len(diffOps))
		for k := 0; k < len(diffOps); k++ {
			if diffOps[(op+k)%len(diffOps)].emit(p, x) {
				break
			}
		}
		if len(p.g.Nodes) == before {
			// Nothing applies to x (a scalar, say): a unary op always does.
			p.unary(x)
		}
	}
	// Outputs: every value nobody reads, and some that are read.
	seen := map[string]bool{}
	for _, v := range p.pool {
		if (!p.used[v.name] || p.s.chance(4)) && !seen[v.name] {
			seen[v.name] = true
			p.g.Outputs = append(p.g.Outputs, model.Value{Name: v.name})
		}
	}
	if p.s.chance(29) {
		// An Int64 initializer as a graph output.
		name := p.name("i64")
		p.g.Initializers = append(p.g.Initializers, model.NewInt64Tensor(name, []int64{3}, []int64{7, -2, 5}))
		p.g.Outputs = append(p.g.Outputs, model.Value{Name: name})
		p.known[knownInt64Output] = true
	}
	return p
}

// pickX chooses the main operand, most often one of the latest values.
// Zero-size values are not picked (constants shaped after them would be
// invalid initializers); they still reach outputs, Concat and broadcasts.
func (p *diffProg) pickX() diffVal {
	x := p.pool[len(p.pool)-1-p.s.intn(min(3, len(p.pool)))]
	if p.s.chance(3) {
		x = p.pool[p.s.intn(len(p.pool))]
	}
	for i := len(p.pool) - 1; diffSize(x.shape) == 0; i-- {
		x = p.pool[i] // graph inputs are never empty
	}
	return x
}

type diffOp struct {
	name string
	emit func(p *diffProg, x diffVal) bool
}

// diffOps are the generator's op families; emit reports false when the op
// does not apply to x.
var diffOps = []diffOp{
	{"Conv", (*diffProg).conv},
	{"Conv", (*diffProg).conv},
	{"Conv", (*diffProg).conv},
	{"Pool", (*diffProg).pool2D},
	{"GlobalAveragePool", func(p *diffProg, x diffVal) bool {
		if len(x.shape) != 4 {
			return false
		}
		p.node1(model.OpGlobalAveragePool, []string{x.name}, []int{x.shape[0], x.shape[1], 1, 1})
		return true
	}},
	{"Gemm", (*diffProg).gemm},
	{"MatMul", (*diffProg).matmul},
	{"BatchNormalization", (*diffProg).batchNorm},
	{"Unary", func(p *diffProg, x diffVal) bool { p.unary(x); return true }},
	{"Binary", (*diffProg).binary},
	{"Binary", (*diffProg).binary},
	{"Concat", (*diffProg).concat},
	{"Concat", (*diffProg).concat},
	{"Split", (*diffProg).split},
	{"Slice", func(p *diffProg, x diffVal) bool { _, ok := p.slice(x, -1); return ok }},
	{"Transpose", (*diffProg).transpose},
	{"Reshape", (*diffProg).reshape},
	{"Reduce", func(p *diffProg, x diffVal) bool { _, ok := p.reduce(x, nil); return ok }},
	{"Normalize", (*diffProg).normalize},
	{"FromConst", (*diffProg).fromConst},
	{"Pad", (*diffProg).pad},
	{"LayerNorm", (*diffProg).layerNorm},
	{"Softmax", (*diffProg).softmax},
	{"Math", (*diffProg).math}, // ops_math_test.go
}

var diffActs = []string{model.ActRelu, model.ActClip, model.ActLeakyRelu, model.ActSigmoid, model.ActHardSigmoid, model.ActHardSwish, model.ActSiLU,
	model.ActGELU}

// fusedAct returns the attributes of a random fused activation (or none).
func (p *diffProg) fusedAct() []model.Attr {
	if p.s.chance(2) {
		return nil
	}
	a := diffActs[p.s.intn(len(diffActs))]
	attrs := []model.Attr{strA("activation", a)}
	var params []float32
	switch a {
	case model.ActClip:
		params = []float32{-0.3, 0.4}
	case model.ActLeakyRelu:
		params = []float32{0.15}
	case model.ActHardSigmoid:
		params = []float32{0.3, 0.45}
	}
	if params != nil && !p.s.chance(4) {
		attrs = append(attrs, model.Attr{Name: "activation_params", Kind: model.AttrFloats, Floats: params})
	}
	return attrs
}

// convOut is the output length of a window over in (ONNX floor mode).
func convOut(in, k, s, d, pb, pe int) int {
	span := in + pb + pe - ((k-1)*d + 1)
	if span < 0 {
		return -1
	}
	return span/s + 1
}

// windowAttrs draws kernel, strides, dilations, pads and auto_pad for a
// window over h×w; it returns the attributes and the output size.
// With square set it mostly draws the square 3×3 and 5×5 windows of stride
// 1 or 2 that the depthwise SIMD kernels take.
func (p *diffProg) windowAttrs(h, w int, dilation, poolPads, square bool) ([]model.Attr, int, int, bool) {
	kh, kw := 1+p.s.intn(3), 1+p.s.intn(3)
	if p.s.chance(3) {
		kw = kh
	}
	sh, sw := 1+p.s.intn(3), 1+p.s.intn(3)
	dh, dw := 1, 1
	if dilation && p.s.chance(4) {
		dh, dw = 1+p.s.intn(2), 1+p.s.intn(2)
	}
	if square && !p.s.chance(4) {
		kh, sh = 3+2*p.s.intn(2), 1+p.s.intn(2)
		kw, sw, dh, dw = kh, sh, 1, 1
	}
	var pads [4]int
	maxPad := func(k int) int {
		if poolPads {
			return k // pad < kernel: no window lies in the padding alone
		}
		return 3
	}
	for i := range pads {
		pads[i] = p.s.intn(maxPad([]int{kh, kw, kh, kw}[i]))
	}
	attrs := []model.Attr{ints("kernel_shape", int64(kh), int64(kw))}
	if sh != 1 || sw != 1 || p.s.chance(2) {
		attrs = append(attrs, ints("strides", int64(sh), int64(sw)))
	}
	if dh != 1 || dw != 1 {
		attrs = append(attrs, ints("dilations", int64(dh), int64(dw)))
	}
	switch p.s.intn(6) {
	case 0:
		attrs = append(attrs, strA("auto_pad", "VALID"))
		pads = [4]int{}
	case 1, 2:
		lower := p.s.chance(2)
		attrs = append(attrs, strA("auto_pad", map[bool]string{false: "SAME_UPPER", true: "SAME_LOWER"}[lower]))
		pads[0], pads[2] = shape.SamePad(h, kh, sh, dh, lower)
		pads[1], pads[3] = shape.SamePad(w, kw, sw, dw, lower)
	default:
		if pads != [4]int{} || p.s.chance(2) {
			attrs = append(attrs, ints("pads", int64(pads[0]), int64(pads[1]), int64(pads[2]), int64(pads[3])))
		}
	}
	oh := convOut(h, kh, sh, dh, pads[0], pads[2])
	ow := convOut(w, kw, sw, dw, pads[1], pads[3])
	return attrs, oh, ow, oh >= 1 && ow >= 1
}

func (p *diffProg) conv(x diffVal) bool {
	if len(x.shape) != 4 {
		return false
	}
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	group, k := 1, []int{1, 2, 3, 4, 5, 6, 7, 8, 16, 33}[p.s.intn(10)]
	switch p.s.intn(5) {
	case 1: // depthwise
		group, k = c, c
	case 2: // depthwise with a channel multiplier
		group, k = c, 2*c
	case 3: // grouped
		var ds []int
		for g := 2; g <= c; g++ {
			if c%g == 0 {
				ds = append(ds, g)
			}
		}
		if len(ds) > 0 {
			group = ds[p.s.intn(len(ds))]
			k = group * (1 + p.s.intn(2))
		}
	}
	attrs, oh, ow, ok := p.windowAttrs(h, w, true, false, group == c && group > 1)
	if !ok || n*k*oh*ow > p.maxElems {
		return false
	}
	var kh, kw int64
	for _, a := range attrs {
		if a.Name == "kernel_shape" {
			kh, kw = a.Ints[0], a.Ints[1]
		}
	}
	if !p.spend(n * k * oh * ow * c / group * int(kh*kw)) {
		return false
	}
	if p.s.chance(4) { // kernel_shape is optional: the weights give it
		attrs = attrs[1:]
	}
	if group != 1 || p.s.chance(2) {
		attrs = append(attrs, intA("group", int64(group)))
	}
	attrs = append(attrs, p.fusedAct()...)
	fan := float32(c / group * int(kh*kw))
	in := []string{x.name, p.constant([]int{k, c / group, int(kh), int(kw)}, 1/float32(math.Sqrt(float64(fan))), false)}
	if !p.s.chance(5) {
		in = append(in, p.constant([]int{k}, 0.2, false))
	}
	p.node1(model.OpConv, in, []int{n, k, oh, ow}, attrs...)
	p.ops[fmt.Sprintf("Conv/group=%v,depthwise=%v", group > 1, group == c && k == c)] = true
	return true
}

func (p *diffProg) pool2D(x diffVal) bool {
	if len(x.shape) != 4 {
		return false
	}
	isMax := p.s.chance(2)
	attrs, oh, ow, ok := p.windowAttrs(x.shape[2], x.shape[3], isMax, true, false)
	if !ok {
		return false
	}
	var ks, st, pads []int64
	notset := true
	for _, a := range attrs {
		switch a.Name {
		case "kernel_shape":
			ks = a.Ints
		case "strides":
			st = a.Ints
		case "pads":
			pads = a.Ints
		case "auto_pad":
			notset = false
		}
	}
	if notset && p.s.chance(3) {
		// ceil_mode (only with explicit pads: with SAME the output size is
		// fixed at ceil(in/stride) already).
		attrs = append(attrs, intA("ceil_mode", 1))
		if st == nil {
			st = []int64{1, 1}
		}
		if pads == nil {
			pads = []int64{0, 0, 0, 0}
		}
		d := []int64{1, 1}
		for _, a := range attrs {
			if a.Name == "dilations" {
				d = a.Ints
			}
		}
		var ok bool
		if oh, ok = diffPoolCeil(x.shape[2], int(ks[0]), int(st[0]), int(d[0]), int(pads[0]), int(pads[2])); !ok {
			return false
		}
		if ow, ok = diffPoolCeil(x.shape[3], int(ks[1]), int(st[1]), int(d[1]), int(pads[1]), int(pads[3])); !ok {
			return false
		}
	}
	if x.shape[0]*x.shape[1]*oh*ow > p.maxElems {
		return false
	}
	op := model.OpMaxPool
	if !isMax {
		op = model.OpAveragePool
		if p.s.chance(2) {
			attrs = append(attrs, intA("count_include_pad", 1))
		}
		if p.s.chance(40) {
			attrs = append(attrs, ints("dilations", 2, 1))
			p.unsupported = "AveragePool with dilations"
		}
	}
	p.node1(op, []string{x.name}, []int{x.shape[0], x.shape[1], oh, ow}, attrs...)
	if isMax && p.s.chance(40) {
		n := &p.g.Nodes[len(p.g.Nodes)-1]
		n.Outputs = append(n.Outputs, p.name("indices"))
		p.unsupported = "the Indices output of MaxPool"
	}
	return true
}

// diffPoolCeil is the ceil_mode output length (ONNX: the last window must
// start inside the input or its begin padding).
func diffPoolCeil(in, k, s, d, pb, pe int) (int, bool) {
	span := in + pb + pe - ((k-1)*d + 1)
	if span < 0 {
		return 0, false
	}
	o := (span+s-1)/s + 1
	if (o-1)*s >= in+pb {
		o--
	}
	return o, o >= 1
}

// flatten2 returns x as a rank-2 value, adding a Flatten when needed.
func (p *diffProg) flatten2(x diffVal) (diffVal, bool) {
	if len(x.shape) == 2 {
		return x, true
	}
	if len(x.shape) == 0 {
		return x, false
	}
	axis := 1
	if len(x.shape) > 2 && p.s.chance(3) {
		axis = len(x.shape) - 1
	}
	sh := []int{diffSize(x.shape[:axis]), diffSize(x.shape[axis:])}
	return p.node1(model.OpFlatten, []string{x.name}, sh, intA("axis", int64(axis))), true
}

func (p *diffProg) gemm(x diffVal) bool {
	a, ok := p.flatten2(x)
	if !ok {
		return false
	}
	transA := p.s.chance(3)
	M, K := a.shape[0], a.shape[1]
	if transA {
		M, K = K, M
	}
	transB := p.s.chance(2)
	N := []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 33}[p.s.intn(10)]
	var b string
	if p.s.chance(4) && !transA {
		// Runtime B: A·Aᵀ.
		b, N, transB = a.name, M, true
	} else if transB {
		b = p.constant([]int{N, K}, 1/float32(math.Sqrt(float64(K))), false)
	} else {
		b = p.constant([]int{K, N}, 1/float32(math.Sqrt(float64(K))), false)
	}
	if M*N > p.maxElems || !p.spend(M*N*K) {
		return false
	}
	in := []string{a.name, b}
	switch p.s.intn(7) {
	case 1:
		in = append(in, p.constant([]int{N}, 0.3, false))
	case 2:
		in = append(in, p.constant([]int{1, N}, 0.3, false))
	case 3:
		in = append(in, p.constant([]int{M, N}, 0.3, false))
	case 4:
		in = append(in, p.constant([]int{1}, 0.3, false))
	case 5:
		in = append(in, p.constant([]int{M, 1}, 0.3, false))
	case 6: // a runtime C of rank ≤ 2 that broadcasts to [M, N]
		for _, v := range p.pool {
			if o, ok := shape.Broadcast([]int{M, N}, v.shape); ok && len(v.shape) <= 2 && slices.Equal(o, []int{M, N}) && diffSize(v.shape) > 0 {
				in = append(in, v.name)
				break
			}
		}
	}
	var attrs []model.Attr
	if transA {
		attrs = append(attrs, intA("transA", 1))
	}
	if transB {
		attrs = append(attrs, intA("transB", 1))
	}
	if p.s.chance(3) {
		attrs = append(attrs, floatA("alpha", float32(p.s.pick(2, -1))*0.75))
	}
	if p.s.chance(3) {
		attrs = append(attrs, floatA("beta", float32(p.s.pick(2, -1))*0.5))
	}
	attrs = append(attrs, p.fusedAct()...)
	p.node1(model.OpGemm, in, []int{M, N}, attrs...)
	return true
}

func (p *diffProg) matmul(x diffVal) bool {
	r := len(x.shape)
	if r == 0 {
		return false
	}
	K := x.shape[r-1]
	scale := 1 / float32(math.Sqrt(float64(K)))
	lead := x.shape[:r-1] // batch dims and M
	var in []string
	var oshape []int
	switch p.s.intn(4) {
	case 0, 1: // constant matrix: the packed path, folding leading dims into M
		N := []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 33}[p.s.intn(10)]
		in = []string{x.name, p.constant([]int{K, N}, scale, false)}
		oshape = append(slices.Clone(lead), N)
	case 2: // constant vector: the last dim drops
		in = []string{x.name, p.constant([]int{K}, scale, false)}
		oshape = slices.Clone(lead)
	default: // runtime B: x·xᵀ over the last two dims (batched)
		if r < 2 {
			return false
		}
		perm := make([]int64, r)
		for i := range perm {
			perm[i] = int64(i)
		}
		perm[r-1], perm[r-2] = perm[r-2], perm[r-1]
		tshape := slices.Clone(x.shape)
		tshape[r-1], tshape[r-2] = tshape[r-2], tshape[r-1]
		t := p.node1(model.OpTranspose, []string{x.name}, tshape, ints("perm", perm...))
		in = []string{x.name, t.name}
		oshape = append(slices.Clone(lead), x.shape[r-2])
		if r >= 3 && p.s.chance(2) {
			// Broadcast batch: a constant [K, N] stack of one.
			N := 1 + p.s.intn(5)
			in = []string{x.name, p.constant([]int{1, K, N}, scale, false)}
			oshape = append(slices.Clone(lead), N)
		}
	}
	if diffSize(oshape) > p.maxElems || !p.spend(diffSize(oshape)*K) {
		return false
	}
	p.node1(model.OpMatMul, in, oshape, p.fusedAct()...)
	return true
}

func (p *diffProg) batchNorm(x diffVal) bool {
	if len(x.shape) < 2 {
		return false
	}
	c := x.shape[1]
	in := []string{x.name, p.constant([]int{c}, 1, true), p.constant([]int{c}, 0.5, false), p.constant([]int{c}, 0.5, false), p.positive(c)}
	var attrs []model.Attr
	if p.s.chance(2) {
		attrs = append(attrs, floatA("epsilon", 1e-3))
	}
	p.node1(model.OpBatchNormalization, in, x.shape, attrs...)
	return true
}

func (p *diffProg) positive(n int) string {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.5 + p.r.Float32()
	}
	name := p.name("var")
	p.g.Initializers = append(p.g.Initializers, model.NewFloat32Tensor(name, []int64{int64(n)}, v))
	return name
}

func (p *diffProg) unary(x diffVal) diffVal {
	var attrs []model.Attr
	op := []string{model.OpRelu, model.OpClip, model.OpLeakyRelu, model.OpSigmoid, model.OpHardSigmoid, model.OpHardSwish, model.OpSiLU}[p.s.intn(7)]
	switch op {
	case model.OpClip:
		if !p.s.chance(3) {
			attrs = append(attrs, floatA("min", -0.25))
		}
		if !p.s.chance(3) {
			attrs = append(attrs, floatA("max", 0.5))
		}
	case model.OpLeakyRelu:
		if p.s.chance(2) {
			attrs = append(attrs, floatA("alpha", 0.2))
		}
	case model.OpHardSigmoid:
		if p.s.chance(2) {
			attrs = append(attrs, floatA("alpha", 0.25), floatA("beta", 0.4))
		}
	}
	return p.node1(op, []string{x.name}, x.shape, attrs...)
}

// bcastShape returns a shape that broadcasts against s: some dims set to 1,
// leading dims dropped, or (rarely) extra leading dims of 1.
func (p *diffProg) bcastShape(s []int) []int {
	out := slices.Clone(s)
	for i := range out {
		if p.s.chance(2) {
			out[i] = 1
		}
	}
	switch p.s.intn(5) {
	case 0:
		out = out[p.s.intn(len(out)+1):]
	case 1:
		if len(out) < 4 {
			out = append([]int{1}, out...)
		}
	case 2: // expand where s is 1: the output outgrows both operands
		for i, d := range s {
			if d == 1 && p.s.chance(2) && diffSize(s)*4 <= p.maxElems {
				out[i] = 1 + p.s.intn(4)
			}
		}
	}
	return out
}

func (p *diffProg) binary(x diffVal) bool {
	op := []string{model.OpAdd, model.OpSub, model.OpMul, model.OpDiv}[p.s.intn(4)]
	var b diffVal
	if op != model.OpDiv && p.s.chance(2) {
		// A runtime operand that broadcasts with x.
		var cands []diffVal
		for _, v := range p.pool {
			if o, ok := shape.Broadcast(x.shape, v.shape); ok && diffSize(o) <= p.maxElems {
				cands = append(cands, v)
			}
		}
		if len(cands) == 0 {
			return false
		}
		b = cands[p.s.intn(len(cands))]
	} else {
		sh := p.bcastShape(x.shape)
		b = diffVal{p.constant(sh, 1, op == model.OpDiv), sh}
	}
	a := x
	if op != model.OpDiv && p.s.chance(3) {
		a, b = b, a
	}
	o, _ := shape.Broadcast(a.shape, b.shape)
	if diffSize(o) > p.maxElems {
		return false
	}
	p.node1(op, []string{a.name, b.name}, o)
	return true
}

// concat joins x with 1–3 partners along a random axis; partners are values
// of compatible shape in the pool, x itself, constants, or made now from x
// by producers of either layout.
func (p *diffProg) concat(x diffVal) bool {
	r := len(x.shape)
	if r == 0 {
		return false
	}
	axis := p.s.intn(r)
	ins := []diffVal{x}
	for k := 1 + p.s.intn(3); k > 0; k-- {
		var part diffVal
		ok := true
		switch m := p.s.intn(8); {
		case m == 0 || m == 1: // a compatible value already in the pool
			var cands []diffVal
			for _, v := range p.pool {
				if diffConcatFits(x.shape, v.shape, axis) {
					cands = append(cands, v)
				}
			}
			part = cands[p.s.intn(len(cands))]
		case m == 2 && r == 4 && axis == 1: // NHWC: a 1×1 conv
			kk := 1 + p.s.intn(4)
			w := p.constant([]int{kk, x.shape[1], 1, 1}, 0.5, false)
			part = p.node1(model.OpConv, []string{x.name, w}, []int{x.shape[0], kk, x.shape[2], x.shape[3]})
		case m == 3 && r >= 2: // reduction over axis keeping dims: logical order
			part, ok = p.reduce(x, []int{axis})
		case m == 4 && axis == r-1 && r >= 2: // MatMul changes the last dim: logical order
			n := 1 + p.s.intn(5)
			w := p.constant([]int{x.shape[r-1], n}, 0.5, false)
			part = p.node1(model.OpMatMul, []string{x.name, w}, append(slices.Clone(x.shape[:r-1]), n))
		case m == 5: // a slice along the axis
			part, ok = p.slice(x, axis)
		case m == 6 && p.s.chance(2): // a constant
			sh := slices.Clone(x.shape)
			sh[axis] = 1 + p.s.intn(3)
			part = diffVal{p.constant(sh, 1, false), sh}
		default:
			part = x
		}
		if !ok {
			part = x
		}
		ins = append(ins, part)
	}
	oshape := slices.Clone(x.shape)
	oshape[axis] = 0
	var names []string
	for _, v := range ins {
		oshape[axis] += v.shape[axis]
		names = append(names, v.name)
	}
	if diffSize(oshape) > p.maxElems {
		return false
	}
	a := int64(axis)
	if p.s.chance(3) {
		a -= int64(r)
	}
	p.node1(model.OpConcat, names, oshape, intA("axis", a))
	return true
}

func diffConcatFits(a, b []int, axis int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if i != axis && a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *diffProg) split(x diffVal) bool {
	r := len(x.shape)
	if r == 0 {
		return false
	}
	axis := p.s.intn(r)
	d := x.shape[axis]
	nout := 2 + p.s.intn(2)
	var sizes []int
	var attrs []model.Attr
	if p.s.chance(2) && (nout-1)*((d+nout-1)/nout) < d {
		// Equal parts (the last may be smaller).
		part := (d + nout - 1) / nout
		for i := 0; i < nout; i++ {
			sizes = append(sizes, min(part, d-i*part))
		}
	} else {
		if d < nout {
			nout = d
		}
		if nout < 1 || (nout == 1 && !p.s.chance(2)) {
			return false
		}
		left := d
		for i := 0; i < nout-1; i++ {
			sz := 1 + p.s.intn(left-(nout-1-i))
			sizes = append(sizes, sz)
			left -= sz
		}
		sizes = append(sizes, left)
		if p.s.chance(31) {
			sizes = append(sizes, 0) // an empty part
		}
		attrs = append(attrs, ints("split", diffI64(sizes)...))
	}
	a := int64(axis)
	if p.s.chance(3) {
		a -= int64(r)
	}
	attrs = append(attrs, intA("axis", a))
	var shapes [][]int
	for _, sz := range sizes {
		sh := slices.Clone(x.shape)
		sh[axis] = sz
		shapes = append(shapes, sh)
	}
	p.node(model.OpSplit, []string{x.name}, shapes, attrs...)
	return true
}

// slice slices x along 1..rank axes (or along only, when ≥ 0).
func (p *diffProg) slice(x diffVal, only int) (diffVal, bool) {
	r := len(x.shape)
	if r == 0 {
		return x, false
	}
	var axes []int
	if only >= 0 {
		axes = []int{only}
	} else {
		perm := p.permutation(r)
		axes = perm[:1+p.s.intn(r)]
	}
	oshape := slices.Clone(x.shape)
	var starts, ends, steps, ax []int64
	explicitSteps := p.s.chance(2)
	for _, a := range axes {
		d := int64(x.shape[a])
		k := p.s.pick(1, 1, 2, 3, -1, -2)
		if p.s.chance(61) {
			k = p.s.pick(math.MaxInt64, math.MinInt64, math.MaxInt64-1)
			p.known[knownOverflow] = true
		}
		if k != 1 {
			explicitSteps = true
		}
		s := int64(p.s.intn(int(2*d+3))) - d - 1
		e := int64(p.s.intn(int(2*d+3))) - d - 1
		switch p.s.intn(8) {
		case 0: // the whole axis, as exporters write it
			s, e = 0, math.MaxInt64
			if k < 0 {
				s, e = -1, math.MinInt64
			}
		case 1:
			e = p.s.pick(math.MaxInt64, math.MinInt64, -math.MaxInt64)
		}
		n := diffSliceCount(s, e, k, d)
		if n == 0 && !p.s.chance(23) {
			// Make it non-empty: from the first (last) element onwards.
			s, e = 0, d
			if k < 0 {
				s, e = d-1, -d-1
			}
			n = diffSliceCount(s, e, k, d)
		}
		oshape[a] = int(n)
		starts, ends, steps = append(starts, s), append(ends, e), append(steps, k)
		aa := int64(a)
		if p.s.chance(3) {
			aa -= int64(r)
		}
		ax = append(ax, aa)
	}
	attrs := []model.Attr{ints("starts", starts...), ints("ends", ends...)}
	inOrder := true
	for i, a := range axes {
		inOrder = inOrder && a == i && ax[i] >= 0
	}
	if !inOrder || p.s.chance(2) {
		attrs = append(attrs, ints("axes", ax...))
	}
	if explicitSteps {
		attrs = append(attrs, ints("steps", steps...))
	}
	return p.node1(model.OpSlice, []string{x.name}, oshape, attrs...), true
}

// diffSliceCount is ONNX Slice's element count along one axis, computed
// without overflow.
func diffSliceCount(s, e, k, d int64) int64 {
	if s < 0 {
		s += d // cannot overflow: d ≥ 0
	}
	if e < 0 {
		e += d
	}
	if k > 0 {
		s, e = min(max(s, 0), d), min(max(e, 0), d)
		if e <= s {
			return 0
		}
		return 1 + (e-s-1)/k
	}
	s, e = min(max(s, 0), d-1), min(max(e, -1), d-1)
	if s <= e {
		return 0
	}
	if k == math.MinInt64 {
		return 1
	}
	return 1 + (s-e-1)/(-k)
}

func (p *diffProg) permutation(r int) []int {
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	for i := r - 1; i > 0; i-- {
		j := p.s.intn(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

func (p *diffProg) transpose(x diffVal) bool {
	r := len(x.shape)
	if r < 2 {
		return false
	}
	perm := p.permutation(r)
	var attrs []model.Attr
	if p.s.chance(5) {
		for i := range perm {
			perm[i] = r - 1 - i // the default: reverse
		}
	} else {
		attrs = append(attrs, ints("perm", diffI64(perm)...))
	}
	oshape := make([]int, r)
	for i, q := range perm {
		oshape[i] = x.shape[q]
	}
	p.node1(model.OpTranspose, []string{x.name}, oshape, attrs...)
	return true
}

func (p *diffProg) reshape(x diffVal) bool {
	total := diffSize(x.shape)
	if total == 0 {
		return false
	}
	if p.s.chance(4) {
		if len(x.shape) == 0 {
			return false
		}
		axis := p.s.intn(len(x.shape) + 1)
		var attrs []model.Attr
		if axis != 1 || p.s.chance(2) {
			attrs = append(attrs, intA("axis", int64(axis)))
		}
		p.node1(model.OpFlatten, []string{x.name}, []int{diffSize(x.shape[:axis]), diffSize(x.shape[axis:])}, attrs...)
		return true
	}
	rank := 1 + p.s.intn(4)
	sh := make([]int, rank)
	rem := total
	for i := 0; i < rank-1; i++ {
		var ds []int
		for d := 1; d <= min(rem, 9); d++ {
			if rem%d == 0 {
				ds = append(ds, d)
			}
		}
		sh[i] = ds[p.s.intn(len(ds))]
		rem /= sh[i]
	}
	sh[rank-1] = rem
	spec := diffI64(sh)
	if p.s.chance(3) {
		spec[p.s.intn(rank)] = -1
	}
	for i := range spec {
		if i < len(x.shape) && spec[i] == int64(x.shape[i]) && p.s.chance(4) {
			spec[i] = 0 // copy the input's dim
		}
	}
	name := p.name("shape")
	p.g.Initializers = append(p.g.Initializers, model.NewInt64Tensor(name, []int64{int64(rank)}, spec))
	p.node1(model.OpReshape, []string{x.name, name}, sh)
	return true
}

// reduce adds a ReduceMean or ReduceL2 over random axes (or axes, keeping
// dims, when given).
func (p *diffProg) reduce(x diffVal, axes []int) (diffVal, bool) {
	r := len(x.shape)
	if r == 0 {
		return x, false
	}
	op := model.OpReduceMean
	switch p.s.intn(6) {
	case 0, 1:
		op = model.OpReduceL2
	case 2:
		op = model.OpReduceSum
	case 3:
		op = []string{model.OpReduceMax, model.OpReduceMin}[p.s.intn(2)]
	}
	keep := true
	var attrs []model.Attr
	if axes == nil {
		keep = !p.s.chance(3)
		perm := p.permutation(r)
		switch p.s.intn(6) {
		case 0: // no axes: all of them, or none with noop_with_empty_axes
			if p.s.chance(3) {
				attrs = append(attrs, intA("noop_with_empty_axes", 1))
				return p.node1(op, []string{x.name}, x.shape, attrs...), true
			}
			axes = perm
		case 1:
			if r == 4 {
				axes = []int{2, 3} // the spatial mean the engine plans as GAP
			} else {
				axes = perm[:1]
			}
		default:
			axes = perm[:1+p.s.intn(r)]
		}
		if len(axes) < r || p.s.chance(2) {
			ax := diffI64(axes)
			for i := range ax {
				if p.s.chance(3) {
					ax[i] -= int64(r)
				}
			}
			attrs = append(attrs, ints("axes", ax...))
		}
	} else {
		attrs = append(attrs, ints("axes", diffI64(axes)...))
	}
	if !keep || p.s.chance(2) {
		attrs = append(attrs, intA("keepdims", map[bool]int64{false: 0, true: 1}[keep]))
	}
	var oshape []int
	for d := 0; d < r; d++ {
		switch {
		case !slices.Contains(axes, d):
			oshape = append(oshape, x.shape[d])
		case keep:
			oshape = append(oshape, 1)
		}
	}
	return p.node1(op, []string{x.name}, oshape, attrs...), true
}

// pad adds a Pad of random mode and pads (some negative) along random dims.
func (p *diffProg) pad(x diffVal) bool {
	r := len(x.shape)
	if r == 0 {
		return false
	}
	pads := make([]int64, 2*r)
	oshape := append([]int(nil), x.shape...)
	for d := 0; d < r; d++ {
		if !p.s.chance(2) {
			continue
		}
		for k := 0; k < 2; k++ {
			v := int64(p.s.intn(4))
			if p.s.chance(4) && int64(oshape[d])+pads[d]+pads[r+d]-v-1 >= 1 {
				v = -v - 1
			}
			pads[d+k*r] = v
		}
		oshape[d] += int(pads[d] + pads[r+d])
		if oshape[d] < 1 {
			return false
		}
	}
	if !p.spend(diffSize(oshape)) || diffSize(oshape) > p.maxElems {
		return false
	}
	attrs := []model.Attr{ints("pads", pads...)}
	switch p.s.intn(4) {
	case 0:
		attrs = append(attrs, strA("mode", "edge"))
	case 1:
		attrs = append(attrs, strA("mode", "reflect"))
	case 2:
		attrs = append(attrs, floatA("value", -0.75))
	}
	p.node1(model.OpPad, []string{x.name}, oshape, attrs...)
	return true
}

// layerNorm adds a LayerNormalization over a random run of axes, with or
// without scale and bias. epsilon stays at 1e-3 or more: it bounds by
// 1/√epsilon how much a vector of near-equal elements amplifies the
// rounding differences of its input.
func (p *diffProg) layerNorm(x diffVal) bool {
	r := len(x.shape)
	if r == 0 || diffSize(x.shape) == 0 {
		return false
	}
	first := p.s.intn(r)
	last := first + p.s.intn(r-first)
	var axes []int64
	for a := first; a <= last; a++ {
		axes = append(axes, int64(a))
	}
	ins := []string{x.name}
	if p.s.chance(2) {
		ins = append(ins, p.constant(x.shape[first:last+1], 1, true))
		if p.s.chance(2) {
			ins = append(ins, p.constant(x.shape[first:last+1], 0.5, false))
		}
	}
	p.node1(model.OpLayerNormalization, ins, x.shape, ints("axes", axes...),
		floatA("epsilon", []float32{1e-3, 1e-2, 1}[p.s.intn(3)]))
	return true
}

// softmax adds a Softmax along a random axis.
func (p *diffProg) softmax(x diffVal) bool {
	r := len(x.shape)
	if r == 0 || diffSize(x.shape) == 0 {
		return false
	}
	axis := int64(p.s.intn(r))
	if p.s.chance(3) {
		axis -= int64(r)
	}
	p.node1(model.OpSoftmax, []string{x.name}, x.shape, intA("axis", axis))
	return true
}

// normalize adds LpNormalization or L2Normalize. A norm below epsilon
// amplifies the kernels' rounding by 1/epsilon, so epsilon stays small: an
// input that small is then as unlikely as one exactly at zero. Over an
// axis of length 1, though, the norm is one element's |x|, and a value
// that cancels to about 0 upstream (a LayerNorm of a row and its own mean)
// comes out as ±1 or x/epsilon from rounding alone; there the operand is
// |x|+1, as the math family does for 1/x.
func (p *diffProg) normalize(x diffVal) bool {
	r := len(x.shape)
	if r == 0 {
		return false
	}
	axis := int64(p.s.intn(r))
	if x.shape[axis] == 1 {
		a := p.node1(model.OpAbs, []string{x.name}, x.shape)
		one := p.name("c")
		p.g.Initializers = append(p.g.Initializers, model.NewFloat32Tensor(one, nil, []float32{1}))
		x = p.node1(model.OpAdd, []string{a.name, one}, x.shape)
	}
	if p.s.chance(3) {
		axis -= int64(r)
	}
	if p.s.chance(2) {
		attrs := []model.Attr{intA("axis", axis)}
		switch p.s.intn(3) {
		case 0:
			attrs = append(attrs, intA("p", 1))
		case 1:
			attrs = append(attrs, intA("p", 2))
		}
		if p.s.chance(40) {
			attrs = append(attrs[:1], intA("p", 3))
			p.unsupported = "LpNormalization with p=3"
		}
		p.node1(model.OpLpNormalization, []string{x.name}, x.shape, attrs...)
		return true
	}
	p.node1(model.OpL2Normalize, []string{x.name}, x.shape, intA("axis", axis), floatA("epsilon", []float32{1e-12, 1e-6}[p.s.intn(2)]))
	return true
}

// fromConst adds a runtime value computed from a constant shaped like x
// (a Transpose or Reshape of a constant is a copy, not a view, and a rank-4
// constant is stored in logical order).
func (p *diffProg) fromConst(x diffVal) bool {
	r := len(x.shape)
	if r == 0 || diffSize(x.shape) == 0 {
		return false
	}
	switch p.s.intn(3) {
	case 0:
		c := p.constant(x.shape, 1, false)
		p.node1(model.OpRelu, []string{c}, x.shape)
	case 1:
		if r < 2 {
			return false
		}
		perm := p.permutation(r)
		csh := make([]int, r)
		for i, q := range perm {
			csh[q] = x.shape[i] // the transpose of c is shaped like x
		}
		c := p.constant(csh, 1, false)
		p.node1(model.OpTranspose, []string{c}, x.shape, ints("perm", diffI64(perm)...))
	default:
		c := p.constant([]int{diffSize(x.shape)}, 1, false)
		name := p.name("shape")
		p.g.Initializers = append(p.g.Initializers, model.NewInt64Tensor(name, []int64{int64(r)}, diffI64(x.shape)))
		p.node1(model.OpReshape, []string{c, name}, x.shape)
	}
	return true
}

// describe lists the program for failure messages.
func (p *diffProg) describe() string {
	var b strings.Builder
	for _, in := range p.g.Inputs {
		fmt.Fprintf(&b, "  input %s %v\n", in.Name, in.Shape)
	}
	for _, t := range p.g.Initializers {
		fmt.Fprintf(&b, "  const %s %s %v\n", t.Name, t.DType, t.Shape)
	}
	for _, n := range p.g.Nodes {
		var ins []string
		for _, in := range n.Inputs {
			if sh, ok := p.shapes[in]; ok {
				ins = append(ins, fmt.Sprintf("%s%v", in, sh))
			} else {
				ins = append(ins, in)
			}
		}
		var attrs []string
		for _, a := range n.Attrs {
			switch a.Kind {
			case model.AttrInt:
				attrs = append(attrs, fmt.Sprintf("%s=%d", a.Name, a.Int))
			case model.AttrFloat:
				attrs = append(attrs, fmt.Sprintf("%s=%g", a.Name, a.Float))
			case model.AttrInts:
				attrs = append(attrs, fmt.Sprintf("%s=%v", a.Name, a.Ints))
			case model.AttrFloats:
				attrs = append(attrs, fmt.Sprintf("%s=%v", a.Name, a.Floats))
			case model.AttrString:
				attrs = append(attrs, fmt.Sprintf("%s=%s", a.Name, a.String))
			}
		}
		var outs []string
		for _, o := range n.Outputs {
			outs = append(outs, fmt.Sprintf("%s%v", o, p.shapes[o]))
		}
		fmt.Fprintf(&b, "  %s = %s(%s) %s\n", strings.Join(outs, ", "), n.Op, strings.Join(ins, ", "), strings.Join(attrs, " "))
	}
	var outs []string
	for _, o := range p.g.Outputs {
		outs = append(outs, o.Name)
	}
	fmt.Fprintf(&b, "  outputs %s\n", strings.Join(outs, ", "))
	return b.String()
}

// diffConcatReadsPlain reports whether a Concat of m reads a rank-4 value the
// plan stores in logical order while C == 1 or H·W == 1 (the layouts hold
// the same bytes, so no conversion is planned, but the axis arithmetic of
// the NHWC output does not fit them).
func diffConcatReadsPlain(m *model.Model) (found bool) {
	defer func() {
		if recover() != nil {
			found = false // the differential run reports the panic
		}
	}()
	pl, err := compileWith(newCompiler(m, kernels.Generic, 1, Options{}, nil))
	if err != nil {
		return false
	}
	byName := map[string]*value{}
	for i := range pl.vals {
		v := &pl.vals[i]
		if _, dup := byName[v.name]; v.name != "" && !dup {
			byName[v.name] = v
		}
	}
	for _, n := range m.Graph.Nodes {
		if n.Op != model.OpConcat {
			continue
		}
		for _, in := range n.Inputs {
			if v := byName[in]; v != nil && v.view == nil && len(v.shape) == 4 && v.layout == layoutLogical && v.trivialNHWC() {
				return true
			}
		}
	}
	return false
}

// diffOutcome is what running one program gave.
type diffOutcome struct {
	skipped string // known-bug pattern, when skipped
	refused string // why New's refusal was expected
}

// runDiffProg runs one program on the reference and on every tier × thread
// count, reporting any disagreement on t.
func runDiffProg(t *testing.T, data []byte) diffOutcome {
	t.Helper()
	p := decodeDiffProg(data)
	m, err := model.New(model.Metadata{Name: "diff"}, p.g)
	if err != nil {
		t.Fatalf("generator made an invalid graph: %v\n%s", err, p.describe())
	}
	if diffKnownBugs {
		if !p.known[knownPlainConcat] && diffConcatReadsPlain(m) {
			p.known[knownPlainConcat] = true
		}
		for _, k := range []string{knownPlainConcat, knownInt64Output, knownOverflow, knownZeroSize} {
			if p.known[k] {
				return diffOutcome{skipped: k}
			}
		}
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nprogram:\n%s", fmt.Sprintf(format, args...), p.describe())
	}
	newEngine := func(opts Options) (e *Engine, err error) {
		defer func() {
			if r := recover(); r != nil {
				fail("New(%+v) panicked: %v", opts, r)
			}
		}()
		// Allocation is bounded by what the budget accounts for, plus a
		// little plan bookkeeping: a program cannot make New allocate past
		// its stated MemoryLimit.
		opts.MemoryLimit = diffMemoryLimit
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, err = New(m, opts)
		runtime.ReadMemStats(&after)
		if err == nil {
			if mb := e.MemoryBytes(); mb > diffMemoryLimit {
				fail("New(%+v): MemoryBytes %d over the %d limit", opts, mb, diffMemoryLimit)
			}
			if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(e.MemoryBytes())+diffPlanSlack; got > bound {
				fail("New(%+v) allocated %d bytes, bound %d (MemoryBytes %d + slack)", opts, got, bound, e.MemoryBytes())
			}
		}
		return e, err
	}
	// Refusals: the same answer on every tier; expected only for documented
	// unsupported features, zero-size values and unrunnable sizes.
	tiers := kernels.Available()
	var engines []*Engine
	var optsList []Options
	var refusal error
	var refusedOpts Options
	for _, tier := range tiers {
		for _, threads := range []int{1, 3} {
			// Direct convolutions only: Winograd turns a non-finite input
			// value into NaN across its whole 4×4 tile (Options.NoWinograd),
			// which random programs that overflow would report as a
			// mismatch. Its finite results are held to the reference by
			// kernels' tests, TestBackendOps and the torchvision parity tests.
			opts := Options{Threads: threads, Tier: tier, ForceTier: true, WorkerSpin: []time.Duration{-1, 0}[len(data)%2], NoWinograd: true}
			e, err := newEngine(opts)
			switch {
			case err != nil && len(engines) > 0:
				fail("New(%+v) = %v, but %+v planned", opts, err, optsList[0])
			case err == nil && refusal != nil:
				fail("New(%+v) planned, but %+v gave %v", opts, refusedOpts, refusal)
			case err != nil:
				refusal, refusedOpts = err, opts
			default:
				engines = append(engines, e)
				optsList = append(optsList, opts)
			}
		}
	}
	switch {
	case p.unsupported != "":
		if refusal == nil || !errors.Is(refusal, ErrUnsupported) {
			fail("graph uses %s: New = %v, want ErrUnsupported", p.unsupported, refusal)
		}
		return diffOutcome{refused: "unsupported: " + p.unsupported}
	case p.huge:
		if refusal == nil {
			fail("graph has an input of %v elements: planned", p.g.Inputs)
		}
		return diffOutcome{refused: "too large"}
	}
	inputs := make([][]float32, len(p.g.Inputs))
	for i, in := range p.g.Inputs {
		inputs[i] = make([]float32, diffSize(p.shapes[in.Name]))
		for j := range inputs[i] {
			inputs[i][j] = p.r.Float32()*2 - 1
		}
	}
	want, refErr := func() (out [][]float32, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("reference panicked: %v", r)
			}
		}()
		return reference.Run(m, inputs)
	}()
	if refusal != nil {
		switch {
		case p.known[knownZeroSize] && (errors.Is(refusal, ErrUnsupported) || errors.Is(refusal, ErrShape)):
			return diffOutcome{refused: "zero-size value"}
		case refErr != nil:
			return diffOutcome{refused: "reference refuses too"}
		}
		fail("New refused a graph the reference runs: %v", refusal)
	}
	if refErr != nil {
		fail("engine plans the graph, reference fails: %v", refErr)
	}
	for i, o := range p.g.Outputs {
		if sh, ok := p.shapes[o.Name]; ok && len(want[i]) != diffSize(sh) {
			fail("generator: output %s has shape %v, reference gives %d values", o.Name, sh, len(want[i]))
		}
	}
	var prev [][]float32
	for k, e := range engines {
		opts := optsList[k]
		for i, o := range p.g.Outputs {
			if sh, ok := p.shapes[o.Name]; ok && !slices.Equal(e.OutputShapes()[i], sh) {
				fail("%+v: output %s has shape %v, want %v", opts, o.Name, e.OutputShapes()[i], sh)
			}
		}
		got := make([][]float32, len(want))
		for i := range got {
			got[i] = make([]float32, len(want[i]))
		}
		if len(e.OutputShapes()) != len(got) {
			fail("%+v: %d outputs, reference %d", opts, len(e.OutputShapes()), len(got))
		}
		for i, sh := range e.OutputShapes() {
			if prod(sh) != len(got[i]) {
				fail("%+v: output %d has %d values, reference %d", opts, i, prod(sh), len(got[i]))
			}
		}
		func() {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s := e.NewSession()
			runtime.ReadMemStats(&after)
			if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(e.SessionBytes())+diffPlanSlack; got > bound {
				fail("%+v: NewSession allocated %d bytes, bound %d (SessionBytes + slack)", opts, got, bound)
			}
			defer s.Close()
			defer func() {
				if r := recover(); r != nil {
					fail("%+v: Run panicked: %v", opts, r)
				}
			}()
			if err := s.RunMulti(inputs, got); err != nil {
				fail("%+v: RunMulti: %v", opts, err)
			}
		}()
		for i := range want {
			if j, msg := diffCompare(got[i], want[i]); j >= 0 {
				fail("%+v: output %d (%s) [%d]: %s", opts, i, p.g.Outputs[i].Name, j, msg)
			}
		}
		if opts.Threads != 1 {
			for i := range got {
				for j := range got[i] {
					if math.Float32bits(got[i][j]) != math.Float32bits(prev[i][j]) {
						fail("%+v: output %d [%d] = %v, Threads 1 gave %v", opts, i, j, got[i][j], prev[i][j])
					}
				}
			}
		}
		prev = got
	}
	return diffOutcome{}
}

// diffCompare returns the first element of got outside the tolerance (see
// the top of the file) and a description, or -1.
func diffCompare(got, want []float32) (int, string) {
	scale := 1.0
	for _, w := range want {
		if a := math.Abs(float64(w)); a > scale && !math.IsInf(a, 0) {
			scale = a
		}
	}
	for j := range want {
		g, w := float64(got[j]), float64(want[j])
		switch {
		case math.IsNaN(w) || math.IsNaN(g):
			if math.IsNaN(w) != math.IsNaN(g) {
				return j, fmt.Sprintf("got %v, reference %v", got[j], want[j])
			}
		case math.IsInf(w, 0) || math.IsInf(g, 0):
			if g != w {
				return j, fmt.Sprintf("got %v, reference %v", got[j], want[j])
			}
		case math.Abs(g-w) > diffTol*(scale+math.Abs(w)):
			return j, fmt.Sprintf("got %v, reference %v (|d| = %g, bound %g)", got[j], want[j], math.Abs(g-w), diffTol*(scale+math.Abs(w)))
		}
	}
	return -1, ""
}

// diffSeed returns the bytes of seed program i.
func diffSeed(i int) []byte {
	r := rand.New(rand.NewSource(int64(i)))
	b := make([]byte, 64+r.Intn(192))
	r.Read(b)
	return b
}

func FuzzDifferential(f *testing.F) {
	for i := 0; i < 16; i++ {
		f.Add(diffSeed(i))
	}
	f.Add([]byte{})
	defer forceParallel()()
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := runDiffProg(t, data); o.skipped != "" {
			t.Skipf("known bug: %s", o.skipped)
		}
	})
}

// TestDifferentialSeeds runs diffSeedCount deterministic programs; every op
// family must be compared at least once, and most programs must run.
func TestDifferentialSeeds(t *testing.T) {
	defer forceParallel()()
	n := diffSeedCount
	if testing.Short() {
		n /= 5
	}
	skipped := map[string]int{}
	refused := map[string]int{}
	ops := map[string]int{}
	compared := 0
	for i := 0; i < n; i++ {
		o := runDiffProg(t, diffSeed(i))
		switch {
		case o.skipped != "":
			skipped[o.skipped]++
		case o.refused != "":
			refused[o.refused]++
		default:
			compared++
			for op := range decodeDiffProg(diffSeed(i)).ops {
				ops[op]++
			}
		}
	}
	t.Logf("%d programs on tiers %v: %d compared, refused %v, skipped (known bugs) %v", n, kernels.Available(), compared, refused, skipped)
	t.Logf("ops compared: %v", ops)
	if compared < n*3/5 {
		t.Errorf("only %d of %d programs compared", compared, n)
	}
	if testing.Short() {
		return
	}
	for _, op := range []string{model.OpConv, model.OpMaxPool, model.OpAveragePool, model.OpGlobalAveragePool, model.OpGemm,
		model.OpMatMul, model.OpBatchNormalization, model.OpAdd, model.OpSub, model.OpMul, model.OpDiv, model.OpConcat,
		model.OpSplit, model.OpSlice, model.OpTranspose, model.OpReshape, model.OpFlatten, model.OpReduceMean,
		model.OpReduceL2, model.OpLpNormalization, model.OpL2Normalize, model.OpRelu, model.OpSigmoid,
		model.OpPad, model.OpLayerNormalization, model.OpSoftmax, model.OpReduceSum, model.OpReduceMax, model.OpReduceMin,
		"Conv/group=true,depthwise=true", "Conv/group=true,depthwise=false"} {
		if ops[op] == 0 {
			t.Errorf("no compared program uses %s", op)
		}
	}
}
