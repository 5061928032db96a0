package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine/reference"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// nmseQuant bounds the fused int8 cases in TestBackendOps: an output one
// quantum off the reference here and there (TestQuantFusedWithinOneQuantum
// holds them to that bound exactly).
const nmseQuant = 1e-4

// quantOpCases are the TestBackendOps cases of QDQ graphs.
func quantOpCases() []opCase {
	nchw := []int64{1, 8, 9, 7}
	return []opCase{
		{"Quantize/per-tensor-output", nmseExact, func(b *gb) []string {
			return []string{b.quantize("input", 0.01, 3)}
		}, nchw},
		{"Quantize/per-axis-nhwc", nmseExact, func(b *gb) []string {
			r := b.node(model.OpRelu, []string{"input"}) // NHWC storage
			s := []float32{0.01, 0.02, 0.005, 0.03, 0.01, 0.004, 0.02, 0.01}
			z := []int8{0, -5, 7, 1, -128, 2, 3, 127}
			q := b.qnode(model.OpQuantizeLinear, r, s, z, 1)
			return []string{b.qnode(model.OpDequantizeLinear, q, s, z, 1)}
		}, nchw},
		{"Dequantize/const-per-axis", nmseExact, func(b *gb) []string {
			w := b.int8s([]int64{8, 1, 1}, 127)
			d := b.qnode(model.OpDequantizeLinear, w, []float32{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, nil, 0)
			return []string{b.node(model.OpAdd, []string{"input", d})}
		}, nchw},
		{"QConv/3x3-relu", nmseQuant, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, -3)
			y := b.qconv(x, 1.0/127, -3, 8, 12, 3, true, 0.02, -20, ints("pads", 1, 1, 1, 1))
			return []string{b.dequantize(y, 0.02, -20)}
		}, nchw},
		{"QConv/1x1-stride2-chain", nmseQuant, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, 0)
			y := b.qconv(x, 1.0/127, 0, 8, 16, 1, false, 0.015, 4, ints("strides", 2, 2))
			y = b.qconv(y, 0.015, 4, 16, 8, 3, true, 0.01, -128, strA("auto_pad", "SAME_UPPER"))
			return []string{b.dequantize(y, 0.01, -128)}
		}, nchw},
		{"QGemm/transB-relu6", nmseQuant, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, 5)
			y := b.qgemm(x, 1.0/127, 5, 24, 10, true, 0.01, 0, model.Attr{Name: "activation", Kind: model.AttrString, String: "Clip"},
				model.Attr{Name: "activation_params", Kind: model.AttrFloats, Floats: []float32{0, 0.6}})
			return []string{b.dequantize(y, 0.01, 0)}
		}, []int64{3, 24}},
		{"QGemm/matmul-rank3", nmseQuant, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, -1)
			y := b.qgemm(x, 1.0/127, -1, 7, 6, false, 0.02, 2)
			return []string{b.dequantize(y, 0.02, 2)}
		}, []int64{2, 3, 7}},
		{"QMaxPool/ceil-pad", nmseExact, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, 4)
			y := b.node(model.OpMaxPool, []string{b.dequantize(x, 1.0/127, 4)}, ints("kernel_shape", 3, 3), ints("strides", 2, 2),
				ints("pads", 1, 1, 1, 1), intA("ceil_mode", 1))
			return []string{b.dequantize(b.quantize(y, 1.0/127, 4), 1.0/127, 4)}
		}, nchw},
		{"QAdd/residual-relu", nmseQuant, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, 4)
			y := b.qconv(x, 1.0/127, 4, 8, 8, 3, false, 0.01, -2, ints("pads", 1, 1, 1, 1))
			s := b.node(model.OpAdd, []string{b.dequantize(y, 0.01, -2), b.dequantize(x, 1.0/127, 4)})
			return []string{b.dequantize(b.quantize(b.node(model.OpRelu, []string{s}), 0.015, -100), 0.015, -100)}
		}, nchw},
		{"QGlobalAvgPool/clip", nmseQuant, func(b *gb) []string {
			x := b.quantize("input", 1.0/127, -7)
			y := b.node(model.OpGlobalAveragePool, []string{b.dequantize(x, 1.0/127, -7)})
			y = b.node(model.OpClip, []string{y}, floatA("min", -0.05), floatA("max", 0.1))
			return []string{b.dequantize(b.quantize(y, 0.001, 3), 0.001, 3)}
		}, nchw},
		{"Dequantize/depthwise-stays-float", nmseSum, func(b *gb) []string {
			x := b.dequantize(b.quantize("input", 1.0/127, 0), 1.0/127, 0)
			w := b.qnode(model.OpDequantizeLinear, b.int8s([]int64{8, 1, 3, 3}, 127), b.scales(8, 0.3/127), nil, 0)
			return []string{b.node(model.OpConv, []string{x, w}, intA("group", 8), ints("kernel_shape", 3, 3))}
		}, nchw},
	}
}

// qconst adds an initializer of dtype dt holding raw little-endian data.
func (b *gb) qconst(dt model.DType, shape []int64, data []byte) string {
	name := b.name("q")
	b.g.Initializers = append(b.g.Initializers, model.Tensor{Name: name, DType: dt, Shape: shape, Data: data})
	return name
}

// int8s adds an int8 constant of random values in [-limit, limit].
func (b *gb) int8s(shape []int64, limit int) string {
	d := randomFill(shape, func() byte { return byte(int8(b.r.Intn(2*limit+1) - limit)) })
	return b.qconst(model.Int8, shape, d)
}

// scales returns n scales around s.
func (b *gb) scales(n int, s float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = s * (0.5 + b.r.Float32())
	}
	return out
}

// qnode adds a QuantizeLinear or DequantizeLinear of x with the given
// scales and zero points (nil: none given), per tensor for one scale.
func (b *gb) qnode(op, x string, scale []float32, zero []int8, axis int64) string {
	shape := []int64{int64(len(scale))}
	if len(scale) == 1 {
		shape = nil
	}
	b.g.Initializers = append(b.g.Initializers, model.NewFloat32Tensor(b.name("scale"), shape, scale))
	ins := []string{x, b.g.Initializers[len(b.g.Initializers)-1].Name}
	if zero != nil {
		d := make([]byte, len(zero))
		for i, z := range zero {
			d[i] = byte(z)
		}
		ins = append(ins, b.qconst(model.Int8, shape, d))
	}
	var attrs []model.Attr
	if len(scale) > 1 {
		attrs = append(attrs, intA("axis", axis))
	}
	return b.node(op, ins, attrs...)
}

func (b *gb) quantize(x string, s float32, z int8) string {
	return b.qnode(model.OpQuantizeLinear, x, []float32{s}, []int8{z}, 1)
}

func (b *gb) dequantize(x string, s float32, z int8) string {
	return b.qnode(model.OpDequantizeLinear, x, []float32{s}, []int8{z}, 1)
}

// qbias adds DequantizeLinear(int32 bias) with scale xs·ws[o], as
// quantisers write it.
func (b *gb) qbias(xs float32, ws []float32, limit int) string {
	d := make([]byte, 4*len(ws))
	s := make([]float32, len(ws))
	for o := range ws {
		binary.LittleEndian.PutUint32(d[4*o:], uint32(int32(b.r.Intn(2*limit+1)-limit)))
		s[o] = xs * ws[o]
	}
	q := b.qconst(model.Int32, []int64{int64(len(ws))}, d)
	return b.qnode(model.OpDequantizeLinear, q, s, nil, 0)
}

// qconv adds the QDQ convolution layer DQ(x) * DQ(W per channel) +
// DQ(bias) [→ Relu] → Q(ys, yz) and returns the Q's output.
func (b *gb) qconv(x string, xs float32, xz int8, cin, cout, k int64, relu bool, ys float32, yz int8, attrs ...model.Attr) string {
	ws := b.scales(int(cout), 1/(127*float32(math.Sqrt(float64(cin*k*k)))))
	w := b.qnode(model.OpDequantizeLinear, b.int8s([]int64{cout, cin, k, k}, 127), ws, nil, 0)
	bias := b.qbias(xs, ws, 3000)
	y := b.node(model.OpConv, []string{b.dequantize(x, xs, xz), w, bias}, append(attrs, ints("kernel_shape", k, k))...)
	if relu {
		y = b.node(model.OpRelu, []string{y})
	}
	return b.quantize(y, ys, yz)
}

// qgemm adds DQ(x) · DQ(W per column) (+ DQ(bias) for a Gemm) → Q: a
// Gemm when transB (W given N×K), else a MatMul.
func (b *gb) qgemm(x string, xs float32, xz int8, K, N int64, transB bool, ys float32, yz int8, attrs ...model.Attr) string {
	ws := b.scales(int(N), 1/(127*float32(math.Sqrt(float64(K)))))
	var y string
	if transB {
		w := b.qnode(model.OpDequantizeLinear, b.int8s([]int64{N, K}, 127), ws, nil, 0)
		y = b.node(model.OpGemm, []string{b.dequantize(x, xs, xz), w, b.qbias(xs, ws, 3000)}, append(attrs, intA("transB", 1))...)
	} else {
		w := b.qnode(model.OpDequantizeLinear, b.int8s([]int64{K, N}, 127), ws, nil, 1)
		y = b.node(model.OpMatMul, []string{b.dequantize(x, xs, xz), w}, attrs...)
	}
	return b.quantize(y, ys, yz)
}

// qcnn is a small QDQ CNN, conv-relu-conv-gemm: int8 from the first
// QuantizeLinear to the last DequantizeLinear but for the flatten.
func qcnn(t testing.TB, seed int64) *model.Model {
	b := newGB(seed, []int64{1, 3, 12, 12})
	x := b.quantize("input", 1.0/127, 0)
	x = b.qconv(x, 1.0/127, 0, 3, 8, 3, true, 0.02, -128, ints("pads", 1, 1, 1, 1))
	x = b.qconv(x, 0.02, -128, 8, 8, 3, true, 0.02, -128, ints("strides", 2, 2), ints("pads", 1, 1, 1, 1))
	f := b.node(model.OpFlatten, []string{b.dequantize(x, 0.02, -128)}, intA("axis", 1))
	x = b.qgemm(b.quantize(f, 0.02, -128), 0.02, -128, 8*6*6, 10, true, 0.01, 3)
	return b.build(t, b.dequantize(x, 0.01, 3))
}

// quanta returns the largest |out − ref| / step over the outputs.
func quanta(out, ref []float32, step float32) float64 {
	var m float64
	for i := range ref {
		m = max(m, math.Abs(float64(out[i])-float64(ref[i]))/float64(step))
	}
	return m
}

// TestQuantFusedWithinOneQuantum holds the fused int8 steps to their
// stated bound: at most one quantum from the reference's float32-then-round
// result, at every tier and thread count, and bit-identical across them.
func TestQuantFusedWithinOneQuantum(t *testing.T) {
	defer forceParallel()()
	cases := []struct {
		name string
		m    func(t testing.TB, seed int64) *model.Model
		step float32 // the output's quantum
		in   []int
	}{
		{"qcnn", qcnn, 0.01, []int{1, 3, 12, 12}},
	}
	for _, tc := range quantOpCases() {
		if strings.HasPrefix(tc.name, "QConv") || strings.HasPrefix(tc.name, "QGemm") || strings.HasPrefix(tc.name, "QGlobal") {
			step := map[string]float32{"QGlobalAvgPool/clip": 0.001, "QConv/3x3-relu": 0.02, "QConv/1x1-stride2-chain": 0.01, "QGemm/transB-relu6": 0.01, "QGemm/matmul-rank3": 0.02}[tc.name]
			in := make([]int, len(tc.in))
			for i, d := range tc.in {
				in[i] = int(d)
			}
			cases = append(cases, struct {
				name string
				m    func(t testing.TB, seed int64) *model.Model
				step float32
				in   []int
			}{tc.name, func(t testing.TB, seed int64) *model.Model {
				b := newGB(seed, tc.in)
				return b.build(t, tc.build(b)...)
			}, step, in})
		}
	}
	for _, tc := range cases {
		for seed := int64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				m := tc.m(t, seed)
				in := randInput(rand.New(rand.NewSource(seed)), prod(tc.in))
				want, err := reference.Run(m, [][]float32{in})
				if err != nil {
					t.Fatalf("reference: %v", err)
				}
				var first []float32
				for _, tier := range kernels.Available() {
					for _, threads := range []int{1, 2, 3} {
						e, err := New(m, Options{Tier: tier, ForceTier: true, Threads: threads})
						if err != nil {
							t.Fatal(err)
						}
						fused := 0
						for _, l := range e.Layers() {
							if strings.HasPrefix(l.Kernel, "qs8-conv") || strings.HasPrefix(l.Kernel, "qs8-gemm") || strings.HasPrefix(l.Kernel, "qs8-gap") {
								fused++
							}
						}
						if fused == 0 {
							t.Fatalf("no fused int8 layer: %v", e.Layers())
						}
						out := runOutputs(t, e, [][]float32{in})[0]
						if q := quanta(out, want[0], tc.step); q > 1.0001 {
							t.Errorf("%s/%d threads: %.3g quanta from the reference", tier, threads, q)
						}
						if first == nil {
							first = out
						}
						for i := range out {
							if math.Float32bits(out[i]) != math.Float32bits(first[i]) {
								t.Fatalf("%s/%d threads: output %d = %v, %v on the first tier", tier, threads, i, out[i], first[i])
							}
						}
					}
				}
			})
		}
	}
}

// TestQuantPlan checks what the QDQ CNN plans: every conv and the gemm on
// int8 kernels, int8 values between them, and nothing float but the
// flatten's round trip and the output.
func TestQuantPlan(t *testing.T) {
	e, err := New(qcnn(t, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range e.Layers() {
		kinds = append(kinds, l.Op+":"+strings.SplitN(l.Kernel, "/", 2)[0])
	}
	got := strings.Join(kinds, " ")
	want := "QuantizeLinear:qs8-quantize Conv:qs8-conv-igemm Conv:qs8-conv-igemm DequantizeLinear:qs8-dequantize " +
		"Materialize:copy-strided QuantizeLinear:qs8-quantize Gemm:qs8-gemm DequantizeLinear:qs8-dequantize"
	if got != want {
		t.Errorf("layers:\n got %s\nwant %s", got, want)
	}
}

func TestQuantRunAllocatesNothing(t *testing.T) {
	checkRunAllocatesNothing(t, qcnn(t, 2), 3*12*12)
	// Every int8 step kind, each alone: an allocation in one of them (a
	// bound method value passed to the pooling loop cost one per output
	// row) must not hide behind a model that lacks it.
	for _, tc := range quantOpCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := newGB(1, tc.in)
			n := 1
			for _, d := range tc.in {
				n *= int(d)
			}
			checkRunAllocatesNothing(t, b.build(t, tc.build(b)...), n)
		})
	}
}

// TestQuantRefusals: QDQ the engine cannot run is refused at New.
func TestQuantRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(b *gb) string
		want  string
	}{
		{"float-into-dequantize", func(b *gb) string { return b.dequantize("input", 0.1, 0) }, "not int8"},
		{"int8-into-float-op", func(b *gb) string { return b.node(model.OpRelu, []string{b.quantize("input", 0.1, 0)}) }, "int8 tensor"},
		{"runtime-scale", func(b *gb) string {
			return b.node(model.OpQuantizeLinear, []string{"input", b.node(model.OpAbs, []string{"input"})})
		}, "float32 constant"},
		{"zero-scale", func(b *gb) string { return b.quantize("input", 0, 0) }, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newGB(1, []int64{1, 4})
			m := b.build(t, tc.build(b))
			_, err := New(m, Options{})
			if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want ErrUnsupported mentioning %q", err, tc.want)
			}
		})
	}
}

// TestQuantHoldsNoModelMemory: a planned QDQ engine keeps nothing of the
// model's tensors (int8 weights are packed, scales copied).
func TestQuantHoldsNoModelMemory(t *testing.T) {
	m := qcnn(t, 3)
	e, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := randInput(rand.New(rand.NewSource(3)), 3*12*12)
	before := runOutputs(t, e, [][]float32{in})[0]
	for i := range m.Graph.Initializers {
		d := m.Graph.Initializers[i].Data
		for j := range d {
			d[j] = 0x7f
		}
	}
	after := runOutputs(t, e, [][]float32{in})[0]
	for i := range before {
		if math.Float32bits(before[i]) != math.Float32bits(after[i]) {
			t.Fatalf("output %d changed from %v to %v with the model's tensors overwritten", i, before[i], after[i])
		}
	}
}
