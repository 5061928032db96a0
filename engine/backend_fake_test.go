package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/npy"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
)

// Two backends registered only in tests, as worked examples of the seam and
// to test the fallback: each claims the element-wise Ops alone (Unary with
// the activations it knows, Binary + - * /) and lowers them to plain Go
// loops; everything else falls back to the CPU backend. "test-loops"
// computes in host memory (Exec.Buf). "test-device" is a backend.Resident:
// its kernels read and write memory of its own (one slice per value, made
// per session by NewState), only the planner's transfer steps copy between
// that and host memory, and each of its kernels writes NaN into the host
// storage of what it computes, so a transfer the planner forgot shows as a
// NaN or a wrong output. TestBackendOps runs both against the reference
// like any other backend.

const (
	fakeHostName   = "test-loops"
	fakeDeviceName = "test-device"
)

func init() {
	backend.Register(fakeHostName, func(kernels.Tier) backend.Backend { return &fakeBackend{name: fakeHostName} })
	backend.Register(fakeDeviceName, func(kernels.Tier) backend.Backend {
		return &fakeDevice{fakeBackend{name: fakeDeviceName, dev: true}}
	})
}

type fakeBackend struct {
	name string
	dev  bool
	// sizes[id] is the size of runtime value id in the backend's memory
	// (0: not held there); NewState allocates them.
	sizes []int
}

func (b *fakeBackend) Name() string { return b.name }

func (b *fakeBackend) Supports(op *backend.Op, _ backend.Graph) bool {
	switch a := op.Args.(type) {
	case *backend.Unary:
		switch a.Act.Kind {
		case kernels.ActNone, kernels.ActClamp, kernels.ActLeakyRelu, kernels.ActSigmoid, kernels.ActHardSigmoid,
			kernels.ActHardSwish, kernels.ActSiLU:
			return true
		}
	case *backend.Binary:
		return strings.IndexByte("+-*/", a.Op) >= 0
	}
	return false
}

// operand is where a kernel finds a value: a constant the backend copied
// while lowering, or a runtime value's storage.
type operand struct {
	id    int
	konst []float32
	dev   bool
}

func (o operand) buf(x backend.Exec) []float32 {
	switch {
	case o.konst != nil:
		return o.konst
	case o.dev:
		return x.State().(*fakeMem).v[o.id]
	}
	return x.Buf(o.id)
}

func (b *fakeBackend) operand(id int, g backend.Graph) (operand, error) {
	v := g.Value(id)
	if v.IsConst {
		if err := g.Reserve(int64(len(v.Const))); err != nil {
			return operand{}, err
		}
		return operand{id: id, konst: slices.Clone(v.Const)}, nil
	}
	b.hold(id, v.Size)
	return operand{id: id, dev: b.dev}, nil
}

func (b *fakeBackend) hold(id, size int) {
	if b.dev {
		for len(b.sizes) <= id {
			b.sizes = append(b.sizes, 0)
		}
		b.sizes[id] = size
	}
}

func (b *fakeBackend) Lower(op *backend.Op, g backend.Graph) (backend.Lowered, error) {
	var ops []operand
	for _, id := range append(slices.Clone(op.In), op.Out...) {
		o, err := b.operand(id, g)
		if err != nil {
			return backend.Lowered{}, err
		}
		ops = append(ops, o)
	}
	k := &fakeKernel{ops: ops, poison: b.dev, out: op.Out[0]}
	switch a := op.Args.(type) {
	case *backend.Unary:
		k.act, k.n = a.Act, g.Value(op.Out[0]).Size
		return backend.Lowered{Kernel: k, Name: b.name + "-unary", Tier: kernels.Generic}, nil
	case *backend.Binary:
		k.bin = a
		return backend.Lowered{Kernel: k, Name: b.name + "-binary", Tier: kernels.Generic}, nil
	}
	return backend.Lowered{}, fmt.Errorf("%s: no kernel for %s", b.name, backend.Kind(op.Args))
}

type fakeKernel struct {
	ops    []operand // inputs, then the output
	act    kernels.Act
	n      int
	bin    *backend.Binary
	poison bool
	out    int
}

func (k *fakeKernel) Run(x backend.Exec) {
	if k.bin == nil {
		src, dst := k.ops[0].buf(x), k.ops[1].buf(x)
		for i := range dst[:k.n] {
			dst[i] = fakeAct(k.act, src[i])
		}
	} else {
		fakeBinary(k.bin, k.ops[0].buf(x), k.ops[1].buf(x), k.ops[2].buf(x))
	}
	if k.poison {
		h := x.Buf(k.out)
		for i := range h {
			h[i] = float32(math.NaN())
		}
	}
}

// fakeAct computes an activation in float64, independently of package
// kernels.
func fakeAct(a kernels.Act, x32 float32) float32 {
	x := float64(x32)
	switch a.Kind {
	case kernels.ActClamp:
		return min(max(x32, a.A), a.B)
	case kernels.ActLeakyRelu:
		if x < 0 {
			return a.A * x32
		}
	case kernels.ActSigmoid:
		return float32(1 / (1 + math.Exp(-x)))
	case kernels.ActHardSigmoid:
		return float32(max(0, min(1, float64(a.A)*x+float64(a.B))))
	case kernels.ActHardSwish:
		return float32(x * min(max(x+3, 0), 6) / 6)
	case kernels.ActSiLU:
		return float32(x / (1 + math.Exp(-x)))
	}
	return x32
}

// fakeBinary walks Dims with an odometer, each operand at its own strides.
func fakeBinary(a *backend.Binary, x, y, out []float32) {
	var buf [maxRank]int
	idx := buf[:len(a.Dims)]
	var iy, ia, ib int
	for {
		p, q := x[ia], y[ib]
		var r float32
		switch a.Op {
		case '+':
			r = p + q
		case '-':
			r = p - q
		case '*':
			r = p * q
		case '/':
			r = p / q
		}
		out[iy] = r
		d := len(idx) - 1
		for ; d >= 0; d-- {
			idx[d]++
			iy, ia, ib = iy+a.SY[d], ia+a.SA[d], ib+a.SB[d]
			if idx[d] < a.Dims[d] {
				break
			}
			iy, ia, ib = iy-a.SY[d]*idx[d], ia-a.SA[d]*idx[d], ib-a.SB[d]*idx[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// fakeDevice is the Resident variant.
type fakeDevice struct{ fakeBackend }

// fakeMem is one session's "device memory".
type fakeMem struct {
	v      [][]float32
	closed *bool
}

func (m *fakeMem) Close() error {
	*m.closed = true
	return nil
}

// fakeClosed records, per NewState, whether the session closed it.
var fakeClosed []*bool

func (d *fakeDevice) NewState() any {
	m := &fakeMem{v: make([][]float32, len(d.sizes)), closed: new(bool)}
	for id, n := range d.sizes {
		m.v[id] = make([]float32, n)
		for i := range m.v[id] {
			m.v[id][i] = float32(math.NaN()) // nothing is current until computed or uploaded
		}
	}
	fakeClosed = append(fakeClosed, m.closed)
	return m
}

func (d *fakeDevice) Transfer(id int, dir backend.Direction, g backend.Graph) (backend.Lowered, error) {
	d.hold(id, g.Value(id).Size)
	return backend.Lowered{Kernel: &fakeTransfer{id: id, dir: dir}, Name: d.name + "-" + dir.String(), Tier: kernels.Generic}, nil
}

type fakeTransfer struct {
	id  int
	dir backend.Direction
}

func (t *fakeTransfer) Run(x backend.Exec) {
	dev := x.State().(*fakeMem).v[t.id]
	if t.dir == backend.ToHost {
		copy(x.Buf(t.id), dev)
	} else {
		copy(dev, x.Buf(t.id))
	}
}

// runOutputs runs e once on ins (RunMulti) in a session of its own and
// returns the outputs.
func runOutputs(t testing.TB, e *Engine, ins [][]float32) [][]float32 {
	t.Helper()
	outs, err := runMulti(e, ins)
	if err != nil {
		t.Fatalf("RunMulti: %v", err)
	}
	return outs
}

// layerPlaces lists each layer as "Op@backend".
func layerPlaces(e *Engine) []string {
	var out []string
	for _, l := range e.Layers() {
		out = append(out, l.Op+"@"+l.Backend)
	}
	return out
}

// TestBackendFallback plans a graph mixing element-wise ops with others on
// each test backend: the element-wise layers run on it, the others on the
// CPU backend, a Resident backend gets a transfer exactly where a value
// crosses, and the outputs match the CPU backend's.
func TestBackendFallback(t *testing.T) {
	b := newGB(5, []int64{1, 8, 9, 7})
	x := b.node(model.OpRelu, []string{"input"})
	y := b.conv(x, 8, 8, 3, 1, ints("pads", 1, 1, 1, 1))
	z := b.node(model.OpAdd, []string{y, x})
	w := b.node(model.OpMul, []string{b.node(model.OpSigmoid, []string{z}), z})
	g := b.node(model.OpGlobalAveragePool, []string{w})
	m := b.build(t, g, z)
	in := [][]float32{randInput(rand.New(rand.NewSource(3)), 8*9*7)}
	ref, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ref.Layers() {
		if l.Backend != "cpu" {
			t.Errorf("default backend: layer %s on %q", l.Name, l.Backend)
		}
	}
	want := runOutputs(t, ref, in)
	for _, tc := range []struct {
		name   string
		layers []string
	}{
		{fakeHostName, []string{"Relu@test-loops", "Conv@cpu", "Add@test-loops", "Sigmoid@test-loops", "Mul@test-loops",
			"GlobalAveragePool@cpu"}},
		{fakeDeviceName, []string{"Transfer@test-device", "Relu@test-device", "Transfer@test-device", "Conv@cpu",
			"Transfer@test-device", "Add@test-device", "Sigmoid@test-device", "Mul@test-device", "Transfer@test-device",
			"GlobalAveragePool@cpu", "Transfer@test-device"}}, // the last: output z
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeClosed = nil
			e, err := New(m, Options{Backend: tc.name})
			if err != nil {
				t.Fatal(err)
			}
			if got := layerPlaces(e); !slices.Equal(got, tc.layers) {
				t.Errorf("layers:\n got %v\nwant %v", got, tc.layers)
			}
			got := runOutputs(t, e, in)
			for i := range want {
				if d := nmse(got[i], want[i]); !(d <= nmseExp) {
					t.Errorf("output %d: NMSE %.3g against the CPU backend", i, d)
				}
			}
			if tc.name == fakeDeviceName && (len(fakeClosed) != 1 || !*fakeClosed[0]) {
				t.Errorf("the session made %d states and did not close them all", len(fakeClosed))
			}
		})
	}
}

// TestBackendUnknown refuses a backend name nobody registered, naming the
// ones that are.
func TestBackendUnknown(t *testing.T) {
	b := newGB(1, []int64{1, 4})
	m := b.build(t, b.node(model.OpRelu, []string{"input"}))
	_, err := New(m, Options{Backend: "no-such-backend"})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("New: %v, want ErrUnsupported", err)
	}
	for _, name := range []string{"no-such-backend", "cpu", fakeHostName} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %q", err, name)
		}
	}
	if !slices.Contains(Backends(), "cpu") || !slices.Contains(Backends(), fakeDeviceName) {
		t.Errorf("Backends() = %v", Backends())
	}
	if _, err := New(m, Options{Backend: "cpu"}); err != nil {
		t.Errorf("Backend cpu: %v", err)
	}
}

// TestBackendFallbackModels runs the small torchvision models on each test
// backend, every tier: outputs within the element-wise bound of the CPU
// backend's alone, and Session.Run still allocation-free.
func TestBackendFallbackModels(t *testing.T) {
	root := filepath.Join("..", "testdata", "torchvision")
	for _, name := range []string{"mobilenet_v3_small", "efficientnet_b0", "resnet_basic"} {
		dir := filepath.Join(root, name)
		m, err := onnx.ConvertFile(filepath.Join(dir, "model.onnx"), onnx.Options{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		_, in, err := npy.ReadFile(filepath.Join(dir, "input_0.npy"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tier := range kernels.Available() {
			ref, err := New(m, Options{Tier: tier, ForceTier: true})
			if err != nil {
				t.Fatal(err)
			}
			want := runOutputs(t, ref, [][]float32{in})
			for _, be := range []string{fakeHostName, fakeDeviceName} {
				t.Run(fmt.Sprintf("%s/%s/%s", name, tier, be), func(t *testing.T) {
					e, err := New(m, Options{Tier: tier, ForceTier: true, Backend: be})
					if err != nil {
						t.Fatal(err)
					}
					on := map[string]int{}
					for _, l := range e.Layers() {
						on[l.Backend]++
					}
					if on[be] == 0 || on["cpu"] == 0 {
						t.Errorf("layers per backend %v: want both %s and cpu", on, be)
					}
					got := runOutputs(t, e, [][]float32{in})
					d := nmse(got[0], want[0])
					if !(d <= nmseExp) {
						t.Errorf("NMSE %.3g against the CPU backend (layers per backend %v)", d, on)
					}
					t.Logf("layers per backend %v, NMSE %.3g", on, d)
					s := e.NewSession()
					defer s.Close()
					if a := testing.AllocsPerRun(3, func() { s.Run(in) }); a != 0 {
						t.Errorf("Session.Run allocates %v times", a)
					}
				})
			}
		}
	}
}
