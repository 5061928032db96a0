package reference

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/signet-go/signet/model"
)

// FuzzRun decodes the fuzz bytes as a graph (fuzzGraph below: any bytes
// give one, most of them malformed: undefined or omitted inputs, wrong
// arity, attributes of any kind and value, dimensions of any int64, data of
// the wrong length, unknown dtypes and ops), runs it without model
// validation under fuzzLimits, and checks that Run never panics, that every
// error wraps one of the package's errors, and that neither the outputs nor
// the bytes allocated exceed the limits. The seeds are the graphs of
// opCases, encoded by encodeGraph.

var fuzzLimits = Limits{MaxElements: 1 << 14, MaxTotal: 1 << 16, MaxWork: 1 << 22}

// fuzzAllocSlack is what a run may allocate beyond 8 bytes per counted
// element (int64 initializers take 8): maps, index vectors, error strings.
const fuzzAllocSlack = 1 << 20

func FuzzRun(f *testing.F) {
	for _, c := range opCases() {
		g, _ := oneNode(c.op, c.ins, max(c.nout, 1), c.attrs...)
		f.Add(encodeGraph(&g))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, feeds := decodeGraph(data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		outs, err := RunLimits(&model.Model{Graph: g}, feeds, fuzzLimits)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*uint64(fuzzLimits.MaxTotal)+fuzzAllocSlack {
			t.Errorf("run allocated %d bytes, limit %d elements", alloc, fuzzLimits.MaxTotal)
		}
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrShape) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error wraps none of the package's errors: %v", err)
			}
			return
		}
		if len(outs) != len(g.Outputs) {
			t.Fatalf("%d outputs for %d graph outputs", len(outs), len(g.Outputs))
		}
		total := 0
		for _, o := range outs {
			if len(o) > fuzzLimits.MaxElements {
				t.Errorf("output of %d elements, limit %d", len(o), fuzzLimits.MaxElements)
			}
			total += len(o)
		}
		if total > fuzzLimits.MaxTotal*len(outs) {
			t.Errorf("outputs hold %d elements", total)
		}
	})
}

// The tables the graph encoding indexes into.
var (
	fuzzOps = []string{model.OpConv, model.OpGemm, model.OpMatMul, model.OpBatchNormalization, model.OpRelu,
		model.OpClip, model.OpLeakyRelu, model.OpSigmoid, model.OpHardSigmoid, model.OpHardSwish, model.OpSiLU,
		model.OpMaxPool, model.OpAveragePool, model.OpGlobalAveragePool, model.OpAdd, model.OpSub, model.OpMul,
		model.OpDiv, model.OpConcat, model.OpFlatten, model.OpReshape, model.OpTranspose, model.OpSplit, model.OpSlice,
		model.OpReduceMean, model.OpReduceL2, model.OpLpNormalization, model.OpL2Normalize, "Swoosh", "Identity", "",
		model.OpPad, model.OpLayerNormalization, model.OpSoftmax, model.OpReduceSum, model.OpReduceMax, model.OpReduceMin,
		model.OpErf, model.OpGELU, model.OpSqrt, model.OpPow, model.OpTanh, model.OpNeg, model.OpAbs, model.OpReciprocal,
		model.OpExp, model.OpLog, model.OpMax, model.OpMin, model.OpPRelu, model.OpQuantizeLinear, model.OpDequantizeLinear}
	fuzzAttrNames = []string{"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "activation",
		"activation_params", "ceil_mode", "count_include_pad", "alpha", "beta", "transA", "transB", "epsilon", "min",
		"max", "axis", "split", "starts", "ends", "axes", "steps", "allowzero", "perm", "keepdims",
		"noop_with_empty_axes", "p", "storage_order", "bogus", "mode", "value"}
	fuzzStrings = []string{"", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "SAME", model.ActRelu, model.ActClip,
		model.ActLeakyRelu, model.ActSigmoid, model.ActHardSigmoid, model.ActHardSwish, model.ActSiLU, "Swoosh",
		"constant", "edge", "reflect", "wrap", model.ActGELU}
	fuzzFloats = []float32{0, 1, -1, 0.5, -0.5, 2, 10, 0.01, 0.2, 0.25, 0.125, 0.3, -0.3, 0.4, 0.45, 0.15, 1e-3, 1e-5,
		1e-6, 1e-12, 1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
)

// fuzzReader hands out bytes, varints and table entries; past the end of
// the data every read is 0.
type fuzzReader struct {
	b []byte
	i int
}

func (r *fuzzReader) u8() int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

func (r *fuzzReader) varint() int64 {
	if r.i >= len(r.b) {
		return 0
	}
	v, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		r.i = len(r.b)
		return 0
	}
	r.i += n
	return v
}

// fuzzValues is the pattern that fills float data: seed 0 gives small
// integers over 4, seed 1 special values, any other a scaled pattern.
func fuzzValues(n, seed int) []float32 {
	v := make([]float32, n)
	for j := range v {
		switch seed {
		case 0:
			v[j] = float32(j%13-6) / 4
		case 1:
			v[j] = fuzzFloats[j%len(fuzzFloats)]
		default:
			v[j] = float32((j*seed+1)%17-8) / float32(seed)
		}
	}
	return v
}

// fuzzCount is the number of values of a tensor: code 0 gives the product
// of dims when that is small (else 1), any other code-1.
func fuzzCount(code int, dims []int64) int {
	if code != 0 {
		return code - 1
	}
	n := int64(1)
	for _, d := range dims {
		if d < 0 || d > 4096 || n*d > 4096 {
			return 1
		}
		n *= d
	}
	return int(n)
}

// decodeGraph turns any bytes into a graph and feeds for its inputs. Layout:
// inputs (count, then per input: rank, dims, value count code, value seed),
// initializers (count, then dtype, rank, dims, count code, float seed or
// int64 varints), nodes (count, then op, inputs as value indices (-1: "",
// past the end: undefined), outputs as codes (0: "", 3: the latest name
// again, other: a new one), attributes (name, kind, value)), outputs
// (count, value indices).
func decodeGraph(data []byte) (model.Graph, [][]float32) {
	r := &fuzzReader{b: data}
	var g model.Graph
	var feeds [][]float32
	var names []string
	name := func() string {
		names = append(names, fmt.Sprintf("v%d", len(names)))
		return names[len(names)-1]
	}
	dims := func() []int64 {
		d := make([]int64, r.u8()%6)
		for i := range d {
			d[i] = r.varint()
		}
		return d
	}
	for range r.u8() % 4 {
		v := model.Value{Name: name(), Shape: dims()}
		g.Inputs = append(g.Inputs, v)
		feeds = append(feeds, fuzzValues(fuzzCount(r.u8(), v.Shape), r.u8()))
	}
	for range r.u8() % 8 {
		t := model.Tensor{Name: name(), DType: model.DType(r.u8() % 6), Shape: dims()}
		n := fuzzCount(r.u8(), t.Shape)
		switch t.DType {
		case model.Int64:
			v := make([]int64, n)
			for i := range v {
				v[i] = r.varint()
			}
			t = model.NewInt64Tensor(t.Name, t.Shape, v)
		case model.Float32:
			t = model.NewFloat32Tensor(t.Name, t.Shape, fuzzValues(n, r.u8()))
		default:
			t.Data = make([]byte, n)
		}
		g.Initializers = append(g.Initializers, t)
	}
	for range r.u8() % 16 {
		n := model.Node{Op: fuzzOps[r.u8()%len(fuzzOps)], Name: fmt.Sprintf("n%d", len(g.Nodes))}
		for range r.u8() % 7 {
			k := r.varint()
			switch {
			case k < 0:
				n.Inputs = append(n.Inputs, "")
			case k < int64(len(names)):
				n.Inputs = append(n.Inputs, names[k])
			default:
				n.Inputs = append(n.Inputs, "undefined")
			}
		}
		for range r.u8() % 4 {
			switch c := r.u8() % 4; {
			case c == 0:
				n.Outputs = append(n.Outputs, "")
			case c == 3 && len(names) > 0:
				n.Outputs = append(n.Outputs, names[len(names)-1])
			default:
				n.Outputs = append(n.Outputs, name())
			}
		}
		for range r.u8() % 6 {
			a := model.Attr{Name: fuzzAttrNames[r.u8()%len(fuzzAttrNames)], Kind: model.AttrKind(r.u8() % 7)}
			switch a.Kind {
			case model.AttrInt:
				a.Int = r.varint()
			case model.AttrFloat:
				a.Float = fuzzFloats[r.u8()%len(fuzzFloats)]
			case model.AttrInts:
				a.Ints = make([]int64, r.u8()%6)
				for i := range a.Ints {
					a.Ints[i] = r.varint()
				}
			case model.AttrFloats:
				a.Floats = make([]float32, r.u8()%4)
				for i := range a.Floats {
					a.Floats[i] = fuzzFloats[r.u8()%len(fuzzFloats)]
				}
			case model.AttrString:
				a.String = fuzzStrings[r.u8()%len(fuzzStrings)]
			}
			n.Attrs = append(n.Attrs, a)
		}
		g.Nodes = append(g.Nodes, n)
	}
	for range r.u8() % 5 {
		k := r.varint()
		o := "undefined"
		if k >= 0 && k < int64(len(names)) {
			o = names[k]
		}
		g.Outputs = append(g.Outputs, model.Value{Name: o})
	}
	return g, feeds
}

// encodeGraph writes g in decodeGraph's layout: values are renumbered in
// the order decodeGraph names them (graph inputs, initializers, node
// outputs), float data becomes the pattern of seed 0 (dims and counts are
// kept), float attributes not in fuzzFloats become 0. It is how builder
// graphs become seeds.
func encodeGraph(g *model.Graph) []byte {
	var b []byte
	u8 := func(v int) { b = append(b, byte(v)) }
	varint := func(v int64) { b = binary.AppendVarint(b, v) }
	index := map[string]int64{}
	define := func(name string) { index[name] = int64(len(index)) }
	dims := func(d []int64) {
		u8(len(d))
		for _, x := range d {
			varint(x)
		}
	}
	find := func(table []string, s string) int { return max(slices.Index(table, s), 0) }
	u8(len(g.Inputs))
	for _, v := range g.Inputs {
		define(v.Name)
		dims(v.Shape)
		u8(0)
		u8(0)
	}
	u8(len(g.Initializers))
	for _, t := range g.Initializers {
		define(t.Name)
		u8(int(t.DType))
		dims(t.Shape)
		switch t.DType {
		case model.Int64:
			v := t.Int64s()
			u8(len(v) + 1)
			for _, x := range v {
				varint(x)
			}
		case model.Float32:
			u8(len(t.Data)/4 + 1)
			u8(0)
		default:
			u8(len(t.Data) + 1)
		}
	}
	u8(len(g.Nodes))
	for _, n := range g.Nodes {
		u8(find(fuzzOps, n.Op))
		u8(len(n.Inputs))
		for _, in := range n.Inputs {
			k, ok := index[in]
			switch {
			case in == "":
				k = -1
			case !ok:
				k = int64(len(index)) + 1000
			}
			varint(k)
		}
		u8(len(n.Outputs))
		for _, o := range n.Outputs {
			if o == "" {
				u8(0)
				continue
			}
			define(o)
			u8(1)
		}
		u8(len(n.Attrs))
		for _, a := range n.Attrs {
			u8(find(fuzzAttrNames, a.Name))
			u8(int(a.Kind))
			switch a.Kind {
			case model.AttrInt:
				varint(a.Int)
			case model.AttrFloat:
				u8(max(slices.Index(fuzzFloats, a.Float), 0))
			case model.AttrInts:
				u8(len(a.Ints))
				for _, x := range a.Ints {
					varint(x)
				}
			case model.AttrFloats:
				u8(len(a.Floats))
				for _, x := range a.Floats {
					u8(max(slices.Index(fuzzFloats, x), 0))
				}
			case model.AttrString:
				u8(find(fuzzStrings, a.String))
			}
		}
	}
	u8(len(g.Outputs))
	for _, o := range g.Outputs {
		varint(index[o.Name])
	}
	return b
}

// The encoding round-trips a builder graph's structure, so the seeds are
// the graphs they claim to be.
func TestEncodeGraph(t *testing.T) {
	for _, c := range opCases() {
		g, orig := oneNode(c.op, c.ins, max(c.nout, 1), c.attrs...)
		back, feeds := decodeGraph(encodeGraph(&g))
		if len(back.Nodes) != 1 || back.Nodes[0].Op != g.Nodes[0].Op || len(back.Nodes[0].Attrs) != len(g.Nodes[0].Attrs) ||
			len(back.Inputs) != len(g.Inputs) || len(back.Initializers) != len(g.Initializers) || len(back.Outputs) != len(g.Outputs) {
			t.Errorf("%s/%s: decoded %+v", c.op, c.name, back)
			continue
		}
		for i, a := range g.Nodes[0].Attrs {
			if b := back.Nodes[0].Attrs[i]; b.Name != a.Name || b.Kind != a.Kind || b.Int != a.Int || !slices.Equal(b.Ints, a.Ints) || b.String != a.String {
				t.Errorf("%s/%s: attribute %+v decoded as %+v", c.op, c.name, a, b)
			}
		}
		for i, in := range g.Initializers {
			if !slices.Equal(back.Initializers[i].Shape, in.Shape) || len(back.Initializers[i].Data) != len(in.Data) {
				t.Errorf("%s/%s: initializer %d decoded as %v", c.op, c.name, i, back.Initializers[i].Shape)
			}
		}
		for i, v := range g.Inputs {
			if !slices.Equal(back.Inputs[i].Shape, v.Shape) || len(feeds[i]) != len(orig[i]) {
				t.Errorf("%s/%s: input %d decoded as %v with %d values", c.op, c.name, i, back.Inputs[i].Shape, len(feeds[i]))
			}
		}
		// The decoded graph fails or succeeds as the original does.
		_, err1 := Run(&model.Model{Graph: g}, orig)
		_, err2 := Run(&model.Model{Graph: back}, feeds)
		if (err1 == nil) != (err2 == nil) {
			t.Errorf("%s/%s: original err %v, decoded err %v", c.op, c.name, err1, err2)
		}
	}
}
