package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-go/signet/internal/testalloc"
	"github.com/signet-go/signet/model"
)

func isSentinel(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrOptions)
}

// convertAllocBound is what converting and encoding n bytes of ONNX may
// allocate: 1 KiB per input byte for the parsed and translated graph and
// the decoded tensors (inputs crafted for it, such as 10⁵ empty nodes or a
// Split into thousands of unnamed outputs, measure about 120 bytes per
// byte), the bytes constant folding charged to its budget four times over
// (the folded tensor, its copy into the model, the encoded file), and 16 MiB
// for the rest. Allocating by declared sizes instead of the bytes present,
// or folding outside the budget, exceeds it by orders of magnitude.
func convertAllocBound(n int, foldBytes int64) uint64 {
	return 16<<20 + 1024*uint64(n) + 4*uint64(foldBytes)
}

// readTensorAllocBound: a tensor's values are held at most as int64 (8
// bytes, from as little as 1 byte of varint) a few times over.
func readTensorAllocBound(n int) uint64 { return 1<<20 + 128*uint64(n) }

// checkConvert converts data and, when that works, encodes and decodes the
// result: errors wrap a sentinel, the allocation stays bounded, the model
// round-trips.
func checkConvert(t *testing.T, data []byte, encode bool) {
	var m *model.Model
	var rep *Report
	var err error
	a := testalloc.Bytes(func() {
		m, rep, err = convert(data, Options{})
		if err == nil && encode {
			var b []byte
			if b, err = model.Encode(m); err != nil {
				t.Fatalf("converted model does not encode: %v", err)
			}
			d, err := model.Decode(b)
			if err != nil {
				t.Fatalf("encoded model does not decode: %v", err)
			}
			if d.Fingerprint() != m.Fingerprint() {
				t.Fatal("fingerprint changed in the round trip")
			}
		}
	})
	var folded int64
	if rep != nil {
		folded = rep.foldBytes
	}
	if bound := convertAllocBound(len(data), folded); a > bound {
		t.Fatalf("converting %d bytes (%d folded) allocated %d bytes, bound %d", len(data), folded, a, bound)
	}
	if err != nil {
		if !isSentinel(err) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		return
	}
	if len(m.Graph.Nodes) == 0 && len(m.Graph.Outputs) == 0 {
		t.Fatal("model without outputs")
	}
}

func FuzzParseModel(f *testing.F) {
	for _, e := range encodings {
		f.Add(convBNRelu(e))
	}
	f.Add(smallModel())
	f.Add(normalizeModel(true))
	f.Add(normalizeModel(false))
	// The ONNX node cases cover every supported operator and attribute.
	cases, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "onnx-node", "test_*", "model.onnx"))
	for _, c := range cases {
		if b, err := os.ReadFile(c); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkConvert(t, data, false) })
}

// FuzzConvert runs the whole conversion (parse, translate, fold, passes,
// encode and decode) on models built to be hostile: large graphs, extreme
// Slice bounds, shapes past 2³¹ elements, zero-size values, folds over the
// budget, empty tensors with huge dimensions.
func FuzzConvert(f *testing.F) {
	f.Add(smallModel())
	f.Add(convBNRelu(enc{true, true}))
	f.Add(normalizeModel(true))
	f.Add(largeGraph(2000, 40))
	for _, c := range append(hugeShapeCases(), zeroSizeCases()...) {
		f.Add(c.data)
	}
	for _, d := range emptyFoldModels() {
		f.Add(d)
	}
	for _, step := range []int64{math.MaxInt64, math.MinInt64} {
		f.Add(one(func(m *mb) {
			m.input("x", 1, 4)
			m.initF("k", []int64{4}, []float32{10, 11, 12, 13})
			m.initI("s", []int64{1}, []int64{-1})
			m.initI("e", []int64{1}, []int64{math.MinInt64})
			m.initI("a", []int64{1}, []int64{0})
			m.initI("p", []int64{1}, []int64{step})
			m.node("Slice", "fold", []string{"k", "s", "e", "a", "p"}, []string{"v"})
			m.initI("a1", []int64{1}, []int64{1})
			m.node("Slice", "sl", []string{"x", "s", "e", "a1", "p"}, []string{"z"})
			m.node("Add", "add", []string{"z", "v"}, []string{"y"})
			m.output("y", 1, 1)
		}))
	}
	for _, dims := range [][]int64{{1 << 15, 1 << 15}, {1 << 31, 1 << 31}, {1 << 20}} {
		f.Add(one(func(m *mb) {
			m.input("x", 1, 1)
			m.initF("k", []int64{1}, []float32{1})
			m.initI("s", []int64{int64(len(dims))}, dims)
			m.node("Expand", "ex", []string{"k", "s"}, []string{"v"})
			m.node("Add", "add", []string{"x", "v"}, []string{"y"})
			m.output("y", 1, 1)
		}))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkConvert(t, data, true) })
}

func FuzzReadTensor(f *testing.F) {
	for _, e := range encodings {
		f.Add(floatTensor("t", []int64{2, 3}, values(6, 1), e).b)
		f.Add(int64Tensor("i", []int64{3}, []int64{1, -2, 3}, e).b)
	}
	f.Add(int64Tensor("huge", []int64{1 << 31, 1 << 31, 0}, nil, enc{}).b)
	f.Add(int64Tensor("rank9", []int64{1, 1, 1, 1, 1, 1, 1, 1, 1}, []int64{7}, enc{packed: true}).b)
	pbs, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "onnx-node", "test_*", "test_data_set_0", "input_0.pb"))
	for i, p := range pbs {
		if b, err := os.ReadFile(p); err == nil && i%8 == 0 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tn model.Tensor
		var err error
		a := testalloc.Bytes(func() { tn, err = ReadTensor(data) })
		if bound := readTensorAllocBound(len(data)); a > bound {
			t.Fatalf("reading %d bytes allocated %d bytes, bound %d", len(data), a, bound)
		}
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		n, err := numElements(tn.Shape)
		if err != nil || n*tn.DType.Size() != len(tn.Data) {
			t.Fatalf("tensor of shape %v and type %v has %d bytes", tn.Shape, tn.DType, len(tn.Data))
		}
	})
}
