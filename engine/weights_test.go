package engine

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
)

// constNet has constants that steps read at run time (an Add operand, a
// batched MatMul's B, a Concat input, a constant graph output) beside ones
// that are packed (Conv, BatchNormalization, Gemm), so both halves of
// ownConstants run.
func constNet(t testing.TB) *model.Model {
	b := newGB(3, []int64{1, 3, 8, 8})
	x := b.conv("input", 3, 4, 3, 1, ints("pads", 1, 1, 1, 1))
	x = b.node(model.OpBatchNormalization, []string{x, b.constant([]int64{4}, 1), b.constant([]int64{4}, 0.1), b.constant([]int64{4}, 0.1), b.positive(4)})
	x = b.node(model.OpAdd, []string{x, b.constant([]int64{1, 4, 8, 8}, 0.5)})
	x = b.node(model.OpConcat, []string{x, b.constant([]int64{1, 2, 8, 8}, 0.5)}, intA("axis", 1))
	x = b.node(model.OpReshape, []string{x, b.int64s("shape", 6, 8, 8)})
	x = b.node(model.OpMatMul, []string{x, b.constant([]int64{6, 8, 3}, 0.5)})
	x = b.node(model.OpFlatten, []string{x}, intA("axis", 1))
	y := b.node(model.OpGemm, []string{x, b.constant([]int64{8 * 3, 5}, 0.3), b.constant([]int64{5}, 0.1)})
	return b.build(t, y, b.constant([]int64{2, 3}, 1))
}

func (b *gb) int64s(name string, v ...int64) string {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		for k := 0; k < 8; k++ {
			raw[8*i+k] = byte(uint64(x) >> (8 * k))
		}
	}
	name = b.name(name)
	b.g.Initializers = append(b.g.Initializers, model.Tensor{Name: name, DType: model.Int64, Shape: []int64{int64(len(v))}, Data: raw})
	return name
}

// weightModels returns small models to check: the test networks, constNet,
// the committed torchvision networks and the sign encoder decoded from a
// heap copy of its file (so its tensors alias one buffer, as with a mapped
// file).
func weightModels(t *testing.T) map[string]func() *model.Model {
	ms := map[string]func() *model.Model{"consts": func() *model.Model { return constNet(t) }}
	for name := range networks {
		ms[name] = func() *model.Model { return buildNet(t, name, 1) }
	}
	// The committed torchvision networks, converted in memory (each call
	// converts afresh, so poisoning one copy leaves the next intact).
	root := filepath.Join("..", "testdata", "torchvision")
	entries, _ := os.ReadDir(root)
	for _, d := range entries {
		src, err := os.ReadFile(filepath.Join(root, d.Name(), "model.onnx"))
		if err != nil {
			continue
		}
		ms[d.Name()] = func() *model.Model {
			m, err := onnx.Convert(src, onnx.Options{Name: d.Name()})
			if err != nil {
				t.Fatalf("convert %s: %v", d.Name(), err)
			}
			return m
		}
	}
	ms["signs"] = func() *model.Model {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "models", "signs.sgn"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	return ms
}

// poison overwrites every float initializer's bytes with NaN and returns
// how many there are.
func poison(m *model.Model) int {
	n := 0
	for i := range m.Graph.Initializers {
		t := &m.Graph.Initializers[i]
		if t.DType != model.Float32 || len(t.Data) == 0 {
			continue
		}
		for j := range t.Data {
			t.Data[j] = 0xff
		}
		n++
	}
	return n
}

// planAliases names the plan's values whose data lies in the model's
// tensor bytes.
func planAliases(e *Engine) []string {
	var bad []string
	for i := range e.p.vals {
		v := &e.p.vals[i]
		if len(v.konst) == 0 {
			continue
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(v.konst)))
		hi := lo + 4*uintptr(len(v.konst))
		for j := range e.m.Graph.Initializers {
			d := e.m.Graph.Initializers[j].Data
			if len(d) == 0 {
				continue
			}
			dlo := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
			if lo < dlo+uintptr(len(d)) && dlo < hi {
				bad = append(bad, v.name)
			}
		}
	}
	return bad
}

func sameBits(a, b [][]float32) bool {
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// TestWeightsHeldOnce checks that a planned engine keeps no reference to the
// model's tensors: none of its values points into them, and overwriting
// every tensor of the model with NaN after New changes no output bit (in a
// session made before and one made after). Poisoning before New must change
// the outputs, or the check would prove nothing.
func TestWeightsHeldOnce(t *testing.T) {
	for name, mk := range weightModels(t) {
		t.Run(name, func(t *testing.T) {
			m := mk()
			e, err := New(m, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if bad := planAliases(e); len(bad) > 0 {
				t.Errorf("plan values alias the model's tensors: %v", bad)
			}
			s := e.NewSession()
			defer s.Close()
			want := runAll(t, e)
			poison(m)
			if got := runAll(t, e); !sameBits(got, want) {
				t.Errorf("outputs changed when the model's tensors were overwritten after New")
			}
			_ = s // made before the poisoning; runAll makes one after
			m2 := mk()
			if poison(m2) == 0 {
				return // no weights: nothing more to check
			}
			e2, err := New(m2, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if sameBits(runAll(t, e2), want) {
				t.Errorf("a model poisoned before New gives the same outputs: the check cannot fail")
			}
		})
	}
}

// TestMemoryBytesCountsHeldWeights checks that MemoryBytes counts what the
// engine holds: for the sign encoder, whose weights are almost all
// convolutions and a Gemm packed once, its weights (MemoryBytes less the
// session) come within a few percent of the file's tensor bytes, not twice
// them. Winograd is off: its transformed weights are 4× the 3×3 ones by
// design (TestWinogradMemory).
func TestMemoryBytesCountsHeldWeights(t *testing.T) {
	m := weightModels(t)["signs"]()
	var raw int64
	for i := range m.Graph.Initializers {
		raw += int64(len(m.Graph.Initializers[i].Data))
	}
	e, err := New(m, Options{Threads: 1, NoWinograd: true})
	if err != nil {
		t.Fatal(err)
	}
	held := e.MemoryBytes() - e.SessionBytes()
	if held < raw*9/10 || held > raw*12/10 {
		t.Errorf("engine holds %d bytes of weights for %d bytes of tensors", held, raw)
	}
}
