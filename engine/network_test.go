package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/engine/reference"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// gb builds small graphs for tests.
type gb struct {
	r   *rand.Rand
	g   model.Graph
	cnt int
}

func newGB(seed int64, inShape []int64) *gb {
	b := &gb{r: rand.New(rand.NewSource(seed))}
	b.g.Inputs = []model.Value{{Name: "input", Shape: inShape}}
	return b
}

func (b *gb) name(p string) string {
	b.cnt++
	return fmt.Sprintf("%s%d", p, b.cnt)
}

// randomFill returns as many values from next as shape holds, in order.
func randomFill[T any](shape []int64, next func() T) []T {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	v := make([]T, n)
	for i := range v {
		v[i] = next()
	}
	return v
}

func (b *gb) constant(shape []int64, scale float32) string {
	v := randomFill(shape, func() float32 { return (b.r.Float32()*2 - 1) * scale })
	name := b.name("w")
	b.g.Initializers = append(b.g.Initializers, model.NewFloat32Tensor(name, shape, v))
	return name
}

func (b *gb) node(op string, inputs []string, attrs ...model.Attr) string {
	out := b.name("v")
	b.g.Nodes = append(b.g.Nodes, model.Node{Op: op, Name: b.name(op), Inputs: inputs, Outputs: []string{out}, Attrs: attrs})
	return out
}

func ints(name string, v ...int64) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrInts, Ints: v}
}
func intA(name string, v int64) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrInt, Int: v}
}
func floatA(name string, v float32) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrFloat, Float: v}
}
func strA(name, v string) model.Attr {
	return model.Attr{Name: name, Kind: model.AttrString, String: v}
}

func (b *gb) conv(x string, cin, cout, k int64, group int64, attrs ...model.Attr) string {
	w := b.constant([]int64{cout, cin / group, k, k}, 1/float32(math.Sqrt(float64(cin/group*k*k))))
	bias := b.constant([]int64{cout}, 0.1)
	attrs = append(attrs, intA("group", group), ints("kernel_shape", k, k))
	return b.node(model.OpConv, []string{x, w, bias}, attrs...)
}

func (b *gb) build(t testing.TB, outs ...string) *model.Model {
	t.Helper()
	for _, o := range outs {
		b.g.Outputs = append(b.g.Outputs, model.Value{Name: o})
	}
	m, err := model.New(model.Metadata{Name: "test", InputLayout: "NCHW", ChannelOrder: "RGB"}, b.g)
	if err != nil {
		t.Fatalf("model.New: %v", err)
	}
	return m
}

func randInput(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

// randInputs draws one random tensor per input of e.
func randInputs(r *rand.Rand, e *Engine) [][]float32 {
	var inputs [][]float32
	for _, sh := range e.InputShapes() {
		inputs = append(inputs, randInput(r, prod(sh)))
	}
	return inputs
}

// buffers returns one zeroed tensor per shape.
func buffers(shapes [][]int) [][]float32 {
	bufs := make([][]float32, len(shapes))
	for i, sh := range shapes {
		bufs[i] = make([]float32, prod(sh))
	}
	return bufs
}

// runMulti runs ins through a fresh session of e and returns the outputs.
func runMulti(e *Engine, ins [][]float32) ([][]float32, error) {
	s := e.NewSession()
	defer s.Close()
	outs := buffers(e.OutputShapes())
	return outs, s.RunMulti(ins, outs)
}

// runBoth runs one set of random inputs drawn from seed through e, an
// engine of m, and through reference.Run of m.
func runBoth(t testing.TB, m *model.Model, e *Engine, seed int64) (got, want [][]float32) {
	t.Helper()
	inputs := randInputs(rand.New(rand.NewSource(seed)), e)
	got = runOutputs(t, e, inputs)
	want, err := reference.Run(m, inputs)
	if err != nil {
		t.Fatalf("reference: %v", err)
	}
	return got, want
}

// compareToReference runs m with the engine and with reference.Run and checks
// max|d| ≤ 1e-4·max|ref| for every output.
func compareToReference(t *testing.T, m *model.Model, opts Options) {
	t.Helper()
	e, err := New(m, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	outs, want := runBoth(t, m, e, 99)
	for i := range want {
		if len(want[i]) != len(outs[i]) {
			t.Fatalf("output %d: %d values, reference has %d", i, len(outs[i]), len(want[i]))
		}
		var maxRef, maxD float64
		for j := range want[i] {
			maxRef = max(maxRef, math.Abs(float64(want[i][j])))
			maxD = max(maxD, math.Abs(float64(outs[i][j]-want[i][j])))
			if math.IsNaN(float64(outs[i][j])) != math.IsNaN(float64(want[i][j])) {
				t.Fatalf("output %d[%d]: %v, reference %v", i, j, outs[i][j], want[i][j])
			}
		}
		if maxD > 1e-4*maxRef {
			t.Fatalf("output %d: max|d| = %g > 1e-4·%g", i, maxD, maxRef)
		}
	}
}

// Each builder makes one small network exercising a family of ops.
var networks = map[string]func(seed int64) *gb{
	"convs": func(seed int64) *gb {
		b := newGB(seed, []int64{1, 3, 17, 15})
		x := b.conv("input", 3, 8, 3, 1, ints("pads", 1, 1, 1, 1), strA("activation", "Relu"))
		x = b.conv(x, 8, 12, 3, 2, ints("strides", 2, 1), ints("pads", 0, 2, 1, 1), ints("dilations", 1, 2))
		x = b.conv(x, 12, 12, 3, 12, ints("pads", 1, 1, 1, 1), strA("activation", "HardSwish"))
		x = b.conv(x, 12, 12, 5, 12, ints("strides", 2, 2), strA("auto_pad", "SAME_UPPER"))
		x = b.conv(x, 12, 24, 1, 1, strA("activation", "LeakyRelu"), model.Attr{Name: "activation_params", Kind: model.AttrFloats, Floats: []float32{0.2}})
		x = b.conv(x, 24, 6, 3, 3, strA("auto_pad", "SAME_LOWER"), strA("activation", "Sigmoid"))
		x = b.conv(x, 6, 5, 2, 1, ints("strides", 2, 2), strA("activation", "Clip"), model.Attr{Name: "activation_params", Kind: model.AttrFloats, Floats: []float32{-0.1, 0.3}})
		return b
	},
	"pools": func(seed int64) *gb {
		b := newGB(seed, []int64{1, 4, 13, 11})
		x := b.node(model.OpMaxPool, []string{"input"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), intA("ceil_mode", 1))
		y := b.node(model.OpAveragePool, []string{"input"}, ints("kernel_shape", 3, 2), ints("strides", 2, 2), ints("pads", 1, 0, 1, 1), intA("ceil_mode", 1), intA("count_include_pad", 1))
		z := b.node(model.OpAveragePool, []string{"input"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1))
		w := b.node(model.OpMaxPool, []string{"input"}, ints("kernel_shape", 2, 3), ints("dilations", 2, 1), ints("pads", 1, 0, 0, 1))
		g := b.node(model.OpGlobalAveragePool, []string{z})
		return b.outputs(x, y, z, w, g)
	},
	"residual-se": func(seed int64) *gb {
		b := newGB(seed, []int64{1, 8, 9, 9})
		x := b.conv("input", 8, 8, 3, 1, ints("pads", 1, 1, 1, 1), strA("activation", "Relu"))
		x = b.conv(x, 8, 8, 3, 1, ints("pads", 1, 1, 1, 1))
		x = b.node(model.OpAdd, []string{x, "input"})
		x = b.node(model.OpRelu, []string{x})
		s := b.node(model.OpGlobalAveragePool, []string{x})
		s = b.conv(s, 8, 4, 1, 1, strA("activation", "Relu"))
		s = b.conv(s, 4, 8, 1, 1)
		s = b.node(model.OpHardSigmoid, []string{s}, floatA("alpha", 0.25), floatA("beta", 0.4))
		x = b.node(model.OpMul, []string{x, s})
		x = b.node(model.OpSiLU, []string{x})
		k := b.constant([]int64{1, 8, 1, 1}, 1)
		x = b.node(model.OpSub, []string{x, k})
		x = b.node(model.OpDiv, []string{x, b.constant([]int64{9}, 1)})
		x = b.node(model.OpMul, []string{b.constant([]int64{1}, 1), x})
		bn := []string{x, b.constant([]int64{8}, 1), b.constant([]int64{8}, 1), b.constant([]int64{8}, 1), b.positive(8)}
		x = b.node(model.OpBatchNormalization, bn, floatA("epsilon", 1e-3))
		x = b.node(model.OpClip, []string{x}, floatA("min", -0.5), floatA("max", 0.5))
		x = b.node(model.OpLeakyRelu, []string{x}, floatA("alpha", 0.3))
		x = b.node(model.OpHardSwish, []string{x})
		x = b.node(model.OpSigmoid, []string{x})
		return b.outputs(x)
	},
	"concat-split-shuffle": func(seed int64) *gb {
		b := newGB(seed, []int64{1, 6, 7, 8})
		a := b.conv("input", 6, 4, 1, 1)
		c := b.conv("input", 6, 8, 3, 2, ints("pads", 1, 1, 1, 1))
		x := b.node(model.OpConcat, []string{a, c, "input"}, intA("axis", 1))
		// channel shuffle: [1,18,7,8] -> [1,3,6,7,8] -> transpose -> [1,18,7,8]
		sh := b.name("shape")
		b.g.Initializers = append(b.g.Initializers, model.NewInt64Tensor(sh, []int64{5}, []int64{0, 3, 6, 7, -1}))
		x = b.node(model.OpReshape, []string{x, sh})
		x = b.node(model.OpTranspose, []string{x}, ints("perm", 0, 2, 1, 3, 4))
		sh2 := b.name("shape")
		b.g.Initializers = append(b.g.Initializers, model.NewInt64Tensor(sh2, []int64{4}, []int64{1, 18, 7, 8}))
		x = b.node(model.OpReshape, []string{x, sh2})
		o1, o2 := b.name("s"), b.name("s")
		b.g.Nodes = append(b.g.Nodes, model.Node{Op: model.OpSplit, Name: "split", Inputs: []string{x}, Outputs: []string{o1, o2}, Attrs: []model.Attr{intA("axis", 1), ints("split", 10, 8)}})
		y := b.conv(o1, 10, 8, 3, 2, ints("pads", 1, 1, 1, 1))
		z := b.node(model.OpSlice, []string{o2}, ints("starts", 1, -1), ints("ends", 7, -100), ints("axes", 2, 3), ints("steps", 2, -2))
		w := b.node(model.OpConcat, []string{y, b.node(model.OpRelu, []string{o2})}, intA("axis", 3))
		q1, q2, q3 := b.name("s"), b.name("s"), b.name("s")
		b.g.Nodes = append(b.g.Nodes, model.Node{Op: model.OpSplit, Name: "split2", Inputs: []string{w}, Outputs: []string{q1, q2, q3}, Attrs: []model.Attr{intA("axis", 2)}})
		return b.outputs(z, q1, q3)
	},
	"head": func(seed int64) *gb {
		b := newGB(seed, []int64{1, 3, 12, 12})
		x := b.conv("input", 3, 16, 3, 1, ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), strA("activation", "Relu"))
		r := b.node(model.OpReduceMean, []string{x}, ints("axes", 2, 3), intA("keepdims", 1))
		r2 := b.node(model.OpReduceL2, []string{x}, ints("axes", 1), intA("keepdims", 0))
		r3 := b.node(model.OpReduceMean, []string{x}, ints("axes", -1), intA("keepdims", 0))
		x = b.node(model.OpFlatten, []string{r})
		x = b.node(model.OpGemm, []string{x, b.constant([]int64{16, 10}, 0.3), b.constant([]int64{10}, 0.1)}, floatA("alpha", 0.7), floatA("beta", 0.5))
		y := b.node(model.OpGemm, []string{b.constant([]int64{16, 1}, 1), b.constant([]int64{20, 16}, 0.3), b.constant([]int64{1, 20}, 0.1)}, intA("transA", 1), intA("transB", 1), strA("activation", "SiLU"))
		z := b.node(model.OpGemm, []string{x, b.constant([]int64{10, 7}, 0.3), b.constant([]int64{1, 1}, 0.1)})
		x = b.node(model.OpL2Normalize, []string{x}, intA("axis", 1), floatA("epsilon", 1e-12))
		l1 := b.node(model.OpLpNormalization, []string{r3}, intA("axis", 1), intA("p", 1))
		l2 := b.node(model.OpLpNormalization, []string{r2}, intA("axis", -1), intA("p", 2))
		mm := b.node(model.OpMatMul, []string{r2, b.constant([]int64{6, 5}, 0.5)})
		mm2 := b.node(model.OpMatMul, []string{r3, b.node(model.OpTranspose, []string{r3}, ints("perm", 0, 2, 1))})
		nl := b.node(model.OpL2Normalize, []string{"input"}, intA("axis", 1), floatA("epsilon", 1e-6))
		return b.outputs(x, y, z, l1, l2, mm, mm2, nl)
	},
}

func (b *gb) positive(n int64) string {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.5 + b.r.Float32()
	}
	name := b.name("var")
	b.g.Initializers = append(b.g.Initializers, model.NewFloat32Tensor(name, []int64{n}, v))
	return name
}

func (b *gb) outputs(names ...string) *gb {
	b.g.Outputs = nil
	for _, n := range names {
		b.g.Outputs = append(b.g.Outputs, model.Value{Name: n})
	}
	return b
}

func buildNet(t testing.TB, name string, seed int64) *model.Model {
	b := networks[name](seed)
	if len(b.g.Outputs) == 0 {
		last := b.g.Nodes[len(b.g.Nodes)-1].Outputs[0]
		return b.build(t, last)
	}
	return b.build(t)
}

// forceParallel makes every step use every worker, however small, so the
// tests' small networks exercise the threaded paths; it returns the restore.
func forceParallel() func() {
	old := workPerThread
	workPerThread = 1
	return func() { workPerThread = old }
}

func TestNetworksMatchReference(t *testing.T) {
	defer forceParallel()()
	for name := range networks {
		for seed := int64(1); seed <= 3; seed++ {
			for _, threads := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/seed%d/threads%d", name, seed, threads), func(t *testing.T) {
					for _, tier := range kernels.Available() {
						compareToReference(t, buildNet(t, name, seed), Options{Threads: threads, Tier: tier, ForceTier: true})
					}
				})
			}
		}
	}
}

// runAll runs a model once with a fixed input and returns every output.
func runAll(t testing.TB, e *Engine) [][]float32 {
	return runOutputs(t, e, randInputs(rand.New(rand.NewSource(5)), e))
}

func TestBitIdenticalAcrossThreads(t *testing.T) {
	defer forceParallel()()
	for name := range networks {
		m := buildNet(t, name, 7)
		var first [][]float32
		for k, threads := range []int{1, 2, 3, 5, 8} {
			// Workers that sleep at once, poll a little, or poll long:
			// when a worker picks work up never changes what it computes.
			spin := []time.Duration{0, -1, time.Millisecond}[k%3]
			e, err := New(m, Options{Threads: threads, WorkerSpin: spin})
			if err != nil {
				t.Fatal(err)
			}
			outs := runAll(t, e)
			if first == nil {
				first = outs
				continue
			}
			for i := range outs {
				for j := range outs[i] {
					if math.Float32bits(outs[i][j]) != math.Float32bits(first[i][j]) {
						t.Fatalf("%s threads=%d: output %d[%d] = %v, one thread gave %v", name, threads, i, j, outs[i][j], first[i][j])
					}
				}
			}
		}
	}
}

func TestSessionsConcurrent(t *testing.T) {
	defer forceParallel()()
	m := buildNet(t, "residual-se", 3)
	e, err := New(m, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := runAll(t, e)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 5; k++ {
				got := runAll(t, e)
				for i := range got {
					for j := range got[i] {
						if got[i][j] != want[i][j] {
							errs <- fmt.Errorf("session output %d[%d] differs", i, j)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func smallCNN(t testing.TB) *model.Model {
	b := newGB(11, []int64{-1, 3, 32, 32})
	x := b.conv("input", 3, 16, 3, 1, ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), strA("activation", "Relu"))
	x = b.conv(x, 16, 16, 3, 16, ints("pads", 1, 1, 1, 1), strA("activation", "Relu"))
	y := b.conv(x, 16, 32, 1, 1, strA("activation", "HardSwish"))
	y = b.conv(y, 32, 16, 3, 1, ints("pads", 1, 1, 1, 1))
	x = b.node(model.OpAdd, []string{x, y})
	x = b.node(model.OpMaxPool, []string{x}, ints("kernel_shape", 2, 2), ints("strides", 2, 2))
	x = b.node(model.OpGlobalAveragePool, []string{x})
	x = b.node(model.OpFlatten, []string{x})
	x = b.node(model.OpGemm, []string{x, b.constant([]int64{16, 8}, 0.3), b.constant([]int64{8}, 0.1)})
	x = b.node(model.OpL2Normalize, []string{x}, intA("axis", 1), floatA("epsilon", 1e-12))
	return b.build(t, x)
}

func TestRunAllocatesNothing(t *testing.T) {
	checkRunAllocatesNothing(t, smallCNN(t), 3*32*32)
}

// checkRunAllocatesNothing checks that, once warm, a session of m allocates
// nothing per Run, with one thread and with two.
func checkRunAllocatesNothing(t *testing.T, m *model.Model, inLen int) {
	t.Helper()
	defer forceParallel()()
	for _, threads := range []int{1, 2} {
		e, err := New(m, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		s := e.NewSession()
		in := randInput(rand.New(rand.NewSource(1)), inLen)
		if _, err := s.Run(in); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := s.Run(in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Fatalf("threads=%d: Run allocates %v times", threads, allocs)
		}
		s.Close()
	}
}

func TestInputValidation(t *testing.T) {
	e, err := New(smallCNN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	defer s.Close()
	if _, err := s.Run(make([]float32, 10)); !errors.Is(err, ErrShape) {
		t.Fatalf("short input: %v", err)
	}
	in := make([]float32, 3*32*32)
	in[77] = float32(math.NaN())
	if _, err := s.Run(in); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN input: %v", err)
	}
	in[77] = float32(math.Inf(-1))
	if _, err := s.Run(in); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Inf input: %v", err)
	}
	if err := s.RunMulti([][]float32{make([]float32, 3*32*32)}, [][]float32{make([]float32, 3)}); !errors.Is(err, ErrShape) {
		t.Fatalf("short output: %v", err)
	}
	if got := e.InputShapes(); fmt.Sprint(got) != "[[1 3 32 32]]" {
		t.Fatalf("InputShapes = %v", got)
	}
	if got := e.OutputShapes(); fmt.Sprint(got) != "[[1 8]]" {
		t.Fatalf("OutputShapes = %v", got)
	}
}

func TestUnsupportedAtNew(t *testing.T) {
	cases := map[string]func(b *gb) string{
		"unknown op": func(b *gb) string { return b.node("GRU", []string{"input"}) },
		"runtime conv weights": func(b *gb) string {
			return b.node(model.OpConv, []string{"input", "input"}, ints("kernel_shape", 3, 3))
		},
		"bad activation": func(b *gb) string {
			return b.node(model.OpConv, []string{"input", b.constant([]int64{2, 3, 1, 1}, 1)}, strA("activation", "Gelu"))
		},
		"avgpool dilation": func(b *gb) string {
			return b.node(model.OpAveragePool, []string{"input"}, ints("kernel_shape", 2, 2), ints("dilations", 2, 2))
		},
		"lp p=3": func(b *gb) string {
			return b.node(model.OpLpNormalization, []string{"input"}, intA("p", 3))
		},
	}
	for name, mk := range cases {
		b := newGB(1, []int64{1, 3, 8, 8})
		out := mk(b)
		m := b.build(t, out)
		_, err := New(m, Options{})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
			continue
		}
		node := m.Graph.Nodes[len(m.Graph.Nodes)-1]
		if msg := err.Error(); !contains(msg, node.Name) || !contains(msg, node.Op) {
			t.Errorf("%s: message %q does not name node %q and op %q", name, msg, node.Name, node.Op)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestLayersReportFastPaths(t *testing.T) {
	e, err := New(smallCNN(t), Options{ForceTier: true, Tier: kernels.Generic})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	var flops int64
	for _, l := range e.Layers() {
		want[l.Kernel] = true
		flops += l.FLOPs
		// A forced tier covers every layer, element-wise ones included.
		if l.Tier != kernels.Generic {
			t.Errorf("layer %s (%s) runs tier %v with Generic forced", l.Name, l.Kernel, l.Tier)
		}
	}
	mk := kernels.Gemm(kernels.Generic).Name
	for _, k := range []string{"f32-conv-igemm/" + mk, "f32-dwconv-3x3-go", "f32-conv-1x1-gemm/" + mk, "f32-maxpool-nhwc-go", "f32-gap-nhwc-generic", "f32-gemm/" + mk} {
		if !want[k] {
			t.Errorf("no layer uses kernel %q; layers: %+v", k, e.Layers())
		}
	}
	// first conv: 16 out × 16×16 pixels × 27 MACs.
	if l := e.Layers()[0]; l.FLOPs != 2*16*16*16*27 || l.Op != model.OpConv {
		t.Errorf("first layer %+v", l)
	}
	if flops <= 0 {
		t.Errorf("total FLOPs %d", flops)
	}
	// The arena reuses buffers: smaller than the sum of all activations.
	var sum int64
	for i := range e.p.vals {
		if v := &e.p.vals[i]; !v.isConst && !v.isInt {
			sum += 4 * int64(v.size)
		}
	}
	if b := e.SessionBytes(); b <= 0 || 4*int64(e.p.arenaSize) >= sum {
		t.Errorf("SessionBytes %d, arena %d bytes, activations %d bytes", b, 4*e.p.arenaSize, sum)
	}
}

func BenchmarkSmallCNN(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
			e, err := New(smallCNN(b), Options{Threads: threads})
			if err != nil {
				b.Fatal(err)
			}
			s := e.NewSession()
			defer s.Close()
			in := randInput(rand.New(rand.NewSource(1)), 3*32*32)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Run(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDroppedSessionStopsWorkers(t *testing.T) {
	e, err := New(smallCNN(t), Options{Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		s := e.NewSession()
		if _, err := s.Run(make([]float32, 3*32*32)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50 && runtime.NumGoroutine() > before; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after dropping sessions, %d before", n, before)
	}
	s := e.NewSession()
	s.Close()
	s.Close() // idempotent
}

func TestLoadFile(t *testing.T) {
	m := smallCNN(t)
	path := t.TempDir() + "/small.sgn"
	if err := model.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	e, err := Load(path, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, want := runAll(t, e), runAll(t, mem)
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("loaded model output %d[%d] = %v, in-memory %v", i, j, got[i][j], want[i][j])
			}
		}
	}
	if e.Model().FingerprintHex() != m.FingerprintHex() {
		t.Fatalf("fingerprint changed through the file")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(t.TempDir()+"/missing.sgn", Options{}); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestFirstNonFinite(t *testing.T) {
	for n := 0; n < 40; n++ {
		x := make([]float32, n)
		if got := firstNonFinite(x); got != -1 {
			t.Fatalf("n=%d all finite: %d", n, got)
		}
		for k := 0; k < n; k++ {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				y := make([]float32, n)
				y[k] = bad
				if k+1 < n {
					y[n-1] = bad
				}
				if got := firstNonFinite(y); got != k {
					t.Fatalf("n=%d bad at %d: got %d", n, k, got)
				}
			}
		}
	}
	if firstNonFinite([]float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}) != -1 {
		t.Fatal("extreme finite values flagged")
	}
}

func TestEveryNetworkRunsWithoutAllocating(t *testing.T) {
	defer forceParallel()()
	for name := range networks {
		for _, threads := range []int{1, 3} {
			e, err := New(buildNet(t, name, 1), Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			s := e.NewSession()
			inputs, outs := buffers(e.InputShapes()), buffers(e.OutputShapes())
			// Warm up first: the runtime creates an OS thread or two the
			// first times the workers sleep and wake, which is not the
			// steady state this test is about.
			for range 20 {
				if err := s.RunMulti(inputs, outs); err != nil {
					t.Fatal(err)
				}
			}
			if n := testing.AllocsPerRun(5, func() {
				if err := s.RunMulti(inputs, outs); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%s threads=%d: RunMulti allocates %v times", name, threads, n)
			}
			s.Close()
		}
	}
}

// TestMemoryPlanNoOverlap checks the arena assignment of every test network:
// two values' storage overlaps only if one is dead before the other is
// written, or the later one is written in place by the step where the
// earlier dies.
func TestMemoryPlanNoOverlap(t *testing.T) {
	t.Run("by-size", testMemoryPlanNoOverlap)
	defer func(n int) { placeBySizeMax = n }(placeBySizeMax)
	placeBySizeMax = 0
	t.Run("in-order", testMemoryPlanNoOverlap)
}

func testMemoryPlanNoOverlap(t *testing.T) {
	for name := range networks {
		m := buildNet(t, name, 1)
		c := newCompiler(m, kernels.Generic, 2, Options{}, nil)
		p, err := compileWith(c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.vals {
			a := &p.vals[i]
			if a.isConst || a.isInt || a.buf < 0 {
				continue
			}
			for j := i + 1; j < len(p.vals); j++ {
				b := &p.vals[j]
				if b.isConst || b.isInt || b.buf < 0 {
					continue
				}
				if ao, bo := p.bufOff[a.buf], p.bufOff[b.buf]; ao+a.size <= bo || bo+b.size <= ao {
					continue // disjoint storage
				}
				x, y := a, b
				if y.def < x.def {
					x, y = y, x
				}
				xl := max(x.last, x.def)
				if xl < y.def {
					continue
				}
				if xl == y.def && c.inplace[y.def] >= 0 && &p.vals[c.inplace[y.def]] == x {
					continue
				}
				t.Fatalf("%s: %q [%d,%d] and %q [%d,%d] share storage", name, x.name, x.def, x.last, y.name, y.def, y.last)
			}
		}
	}
}

// recorder is a tasker that notes which worker ran each task.
type recorder struct {
	ran   []int32
	count []atomic.Int32
}

func (r *recorder) Task(_ backend.Exec, worker, i int) {
	time.Sleep(time.Millisecond) // long enough for the other workers to wake
	r.ran[i] = int32(worker) + 1
	r.count[i].Add(1)
}

func TestParallelRunsEveryTaskOnce(t *testing.T) {
	e, err := New(smallCNN(t), Options{Threads: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	defer s.Close()
	for _, n := range []int{1, 2, 5, 64} {
		r := &recorder{ran: make([]int32, n), count: make([]atomic.Int32, n)}
		s.par = 3
		s.parallel(n, r)
		used := map[int32]bool{}
		for i, w := range r.ran {
			if c := r.count[i].Load(); w == 0 || c != 1 {
				t.Fatalf("n=%d: task %d ran %d times", n, i, c)
			}
			used[w] = true
		}
		if n == 64 && len(used) < 2 {
			t.Errorf("n=64: all tasks ran on one worker")
		}
	}
}

// TestViewChains runs random chains of Reshape, Transpose and Flatten (views,
// materialized only where a consumer needs storage) against the reference.
func TestViewChains(t *testing.T) {
	defer forceParallel()()
	r := rand.New(rand.NewSource(8))
	divisors := func(n int) []int {
		var d []int
		for i := 1; i <= n; i++ {
			if n%i == 0 {
				d = append(d, i)
			}
		}
		return d
	}
	for iter := 0; iter < 60; iter++ {
		b := newGB(int64(iter), []int64{1, 12, 4, 6})
		x := "input"
		shape := []int{1, 12, 4, 6}
		if iter%2 == 1 {
			x = b.conv(x, 12, 12, 1, 1) // NHWC producer
		}
		for step := 0; step < 4; step++ {
			switch r.Intn(3) {
			case 0: // random reshape of the 288 elements into rank 2..6
				total := prod(shape)
				rank := 2 + r.Intn(5)
				ns := make([]int64, rank)
				rem := total
				for i := 0; i < rank-1; i++ {
					ds := divisors(rem)
					ns[i] = int64(ds[r.Intn(len(ds))])
					rem /= int(ns[i])
				}
				ns[rank-1] = int64(rem)
				sh := b.name("shape")
				b.g.Initializers = append(b.g.Initializers, model.NewInt64Tensor(sh, []int64{int64(rank)}, ns))
				x = b.node(model.OpReshape, []string{x, sh})
				shape = shape[:0]
				for _, d := range ns {
					shape = append(shape, int(d))
				}
			case 1:
				perm := r.Perm(len(shape))
				p64 := make([]int64, len(perm))
				ns := make([]int, len(perm))
				for i, p := range perm {
					p64[i] = int64(p)
					ns[i] = shape[p]
				}
				x = b.node(model.OpTranspose, []string{x}, ints("perm", p64...))
				shape = ns
			case 2:
				axis := r.Intn(len(shape) + 1)
				x = b.node(model.OpFlatten, []string{x}, intA("axis", int64(axis)))
				shape = []int{prod(shape[:axis]), prod(shape[axis:])}
			}
		}
		outs := []string{x}
		if len(shape) == 4 && iter%3 == 0 {
			outs = append(outs, b.node(model.OpRelu, []string{x}))
		}
		compareToReference(t, b.build(t, outs...), Options{Threads: 2})
	}
}

func TestChannelShuffleIsOneCopy(t *testing.T) {
	e, err := New(buildNet(t, "concat-split-shuffle", 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	copies := 0
	for _, l := range e.Layers() {
		switch l.Op {
		case model.OpReshape, model.OpTranspose, "Relayout", "Materialize":
			copies++
		}
	}
	if copies != 1 {
		t.Fatalf("channel shuffle planned as %d copies, want 1: %+v", copies, e.Layers())
	}
}
