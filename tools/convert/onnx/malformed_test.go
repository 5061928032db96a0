package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// smallModel is a complete model exercising most message types: initializers
// (raw and typed), attributes of every kind, a Constant node, value infos.
func smallModel() []byte {
	m := newModel(13, enc{raw: true})
	m.input("x", "N", 2, 4, 4)
	m.initF("W", []int64{2, 2, 1, 1}, values(4, 11))
	m.inits = append(m.inits, floatTensor("B", []int64{2}, []float32{0.5, -0.5}, enc{packed: true}))
	m.node("Conv", "conv", []string{"x", "W", "B"}, []string{"c"}, aInts("pads", []int64{0, 0, 0, 0}, true), aString("auto_pad", "NOTSET"))
	m.node("LeakyRelu", "lrelu", []string{"c"}, []string{"r"}, aFloat("alpha", 0.1))
	m.node("Constant", "shape", nil, []string{"s"}, aTensor("value", int64Tensor("", []int64{2}, []int64{1, -1}, enc{})))
	m.node("Reshape", "flat", []string{"r", "s"}, []string{"y"})
	m.output("y", "N", 32)
	return m.bytes()
}

func TestSmallModelConverts(t *testing.T) {
	mustConvert(t, smallModel(), Options{})
}

// TestTruncatedEverywhere cuts a valid model at every offset: each prefix
// must fail cleanly (no panic) with one of the package's sentinels.
func TestTruncatedEverywhere(t *testing.T) {
	data := smallModel()
	for i := 0; i < len(data); i++ {
		_, err := Convert(data[:i], Options{})
		if err == nil {
			t.Fatalf("prefix of %d/%d bytes converted without error", i, len(data))
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("prefix %d: error %v wraps no sentinel", i, err)
		}
	}
}

// TestCorruptedEverywhere flips each byte: never a panic, and any error
// wraps a sentinel (some flips give a different valid model).
func TestCorruptedEverywhere(t *testing.T) {
	data := smallModel()
	for i := range data {
		for _, x := range []byte{0xff, 0x80, 0x01} {
			d := append([]byte{}, data...)
			d[i] ^= x
			_, err := Convert(d, Options{})
			if err != nil && !isSentinel(err) {
				t.Fatalf("byte %d ^ %#x: error %v wraps no sentinel", i, x, err)
			}
		}
	}
}

func withNode(opset int64, build func(m *mb)) []byte {
	m := newModel(opset, enc{})
	m.input("x", 1, 2, 4, 4)
	build(m)
	m.output("y", 1, 2, 4, 4)
	return m.bytes()
}

func TestMalformedAndUnsupported(t *testing.T) {
	huge := &pb{}
	huge.key(7, wireBytes)
	huge.b = binary.AppendUvarint(huge.b, 1<<40)
	huge.b = append(huge.b, 1, 2, 3)

	badInit := func(e enc, dims []int64, n int) []byte {
		m := newModel(13, e)
		m.input("x", 1, 2)
		m.inits = append(m.inits, floatTensor("B", dims, values(n, 1), e))
		m.node("Add", "add", []string{"x", "B"}, []string{"y"})
		m.output("y", 1, 2)
		return m.bytes()
	}

	cases := []struct {
		name  string
		data  []byte
		want  error
		words []string // must all appear in the message
	}{
		{"empty", nil, ErrMalformed, []string{"no graph"}},
		{"huge length", huge.b, ErrMalformed, []string{"declares"}},
		{"wire type 3", []byte{0x0b, 0x00}, ErrMalformed, []string{"wire type 3"}},
		{"wire type 6", []byte{0x0e}, ErrMalformed, []string{"wire type 6"}},
		{"field zero", []byte{0x00, 0x01}, ErrMalformed, []string{"field number"}},
		{"varint overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, ErrMalformed, []string{"overflow"}},
		{"truncated varint", []byte{0x08, 0xff}, ErrMalformed, []string{"truncated"}},
		{"truncated fixed32", []byte{0x15, 0x00}, ErrMalformed, []string{"fixed32"}},
		{"graph of wrong wire type", []byte{0x38, 0x01}, ErrMalformed, []string{"graph"}},
		{"raw data too short", func() []byte {
			m := newModel(13, enc{raw: true})
			m.input("x", 1, 2)
			m.inits = append(m.inits, floatTensor("B", []int64{3}, values(2, 1), enc{raw: true}))
			m.node("Add", "add", []string{"x", "B"}, []string{"y"})
			m.output("y", 1, 2)
			return m.bytes()
		}(), ErrMalformed, []string{"raw bytes"}},
		{"typed data count", badInit(enc{packed: true}, []int64{5}, 2), ErrMalformed, []string{"values"}},
		{"huge dims", badInit(enc{}, []int64{1 << 40, 1 << 40}, 2), ErrUnsupported, []string{"elements"}},
		{"negative dim", badInit(enc{}, []int64{-2}, 2), ErrMalformed, []string{"negative"}},
		{"unknown op", withNode(13, func(m *mb) {
			m.node("GRU", "sm", []string{"x"}, []string{"y"})
		}), ErrUnsupported, []string{"GRU", `"sm"`, "opset 13"}},
		{"custom domain", withNode(13, func(m *mb) {
			n := nodePB("Relu", "r", []string{"x"}, []string{"y"})
			n.str(7, "com.example")
			m.nodes = append(m.nodes, n)
		}), ErrUnsupported, []string{"com.example"}},
		{"opset 10", withNode(10, func(m *mb) {
			m.initF("W", []int64{2, 2, 1, 1}, values(4, 1))
			m.node("Conv", "c", []string{"x", "W"}, []string{"y"})
		}), ErrUnsupported, []string{"opset 10", "Conv", "changed in opset 11"}},
		{"op newer than opset", withNode(13, func(m *mb) { m.node("HardSwish", "h", []string{"x"}, []string{"y"}) }), ErrUnsupported, []string{"opset 13", "HardSwish"}},
		{"opset 18", withNode(18, func(m *mb) { m.node("Relu", "r", []string{"x"}, []string{"y"}) }), ErrUnsupported, []string{"opset 18"}},
		{"auto_pad unknown", withNode(13, func(m *mb) {
			m.initF("W", []int64{2, 2, 1, 1}, values(4, 1))
			m.node("Conv", "c", []string{"x", "W"}, []string{"y"}, aString("auto_pad", "SAME_MIDDLE"))
		}), ErrUnsupported, []string{"SAME_MIDDLE", "Conv", `"c"`}},
		{"attribute of wrong type", withNode(13, func(m *mb) {
			m.initF("W", []int64{2, 2, 1, 1}, values(4, 1))
			m.node("Conv", "c", []string{"x", "W"}, []string{"y"}, aFloat("group", 1))
		}), ErrMalformed, []string{"group"}},
		{"unknown attribute", withNode(13, func(m *mb) {
			m.node("Relu", "r", []string{"x"}, []string{"y"}, aInt("inplace", 1))
		}), ErrUnsupported, []string{"inplace"}},
		{"storage_order", withNode(13, func(m *mb) {
			m.node("MaxPool", "p", []string{"x"}, []string{"y"}, aInts("kernel_shape", []int64{1, 1}, false), aInt("storage_order", 1))
		}), ErrUnsupported, []string{"storage_order"}},
		{"maxpool indices used", withNode(13, func(m *mb) {
			m.node("MaxPool", "p", []string{"x"}, []string{"y0", "idx"}, aInts("kernel_shape", []int64{1, 1}, false))
			m.node("Add", "a", []string{"y0", "idx"}, []string{"y"})
		}), ErrUnsupported, []string{"idx"}},
		{"gemm B computed", func() []byte {
			m := newModel(13, enc{})
			m.input("x", 1, 2)
			m.input("b", 2, 2)
			m.node("Gemm", "g", []string{"x", "b"}, []string{"y"})
			m.output("y", 1, 2)
			return m.bytes()
		}(), ErrUnsupported, []string{"Gemm", "not a constant"}},
		{"3-D conv", withNode(13, func(m *mb) {
			m.initF("W", []int64{2, 2, 1, 1, 1}, values(4, 1))
			m.node("Conv", "c", []string{"x", "W"}, []string{"y"})
		}), ErrUnsupported, []string{"2-D"}},
		{"missing input", withNode(13, func(m *mb) {
			m.node("Add", "a", []string{"x"}, []string{"y"})
		}), ErrMalformed, []string{"1 inputs"}},
		{"empty required input", withNode(13, func(m *mb) {
			m.node("Relu", "r", []string{""}, []string{"y"})
		}), ErrMalformed, []string{"required input"}},
		{"undefined input", withNode(13, func(m *mb) {
			m.node("Relu", "r", []string{"nothing"}, []string{"y"})
		}), ErrMalformed, []string{"nothing"}},
		{"value defined twice", withNode(13, func(m *mb) {
			m.node("Relu", "r1", []string{"x"}, []string{"y"})
			m.node("Relu", "r2", []string{"x"}, []string{"y"})
		}), ErrMalformed, []string{"twice"}},
		{"clip bound computed", withNode(13, func(m *mb) {
			m.node("Relu", "r", []string{"x"}, []string{"lo"})
			m.node("Clip", "c", []string{"x", "lo"}, []string{"y"})
		}), ErrUnsupported, []string{"Clip", "not a constant"}},
		{"dropout training", withNode(13, func(m *mb) {
			m.initF("ratio", nil, []float32{0.5})
			m.inits = append(m.inits, func() *pb {
				p := &pb{}
				p.varint(2, dtBool)
				p.str(8, "train")
				p.ints(5, []int64{1}, false)
				return p
			}())
			m.node("Dropout", "d", []string{"x", "ratio", "train"}, []string{"y"})
		}), ErrUnsupported, []string{"training_mode"}},
		{"expand outside pattern", withNode(13, func(m *mb) {
			m.initI("s", []int64{4}, []int64{2, 2, 4, 4})
			m.node("Expand", "e", []string{"x", "s"}, []string{"y"})
		}), ErrUnsupported, []string{"Expand", `"e"`}},
		{"reshape to wrong size", withNode(13, func(m *mb) {
			m.initI("s", []int64{2}, []int64{1, 5})
			m.node("Reshape", "r", []string{"x", "s"}, []string{"y"})
		}), ErrMalformed, []string{"reshape"}},
		{"gather out of range", withNode(13, func(m *mb) {
			m.initI("i", nil, []int64{7})
			m.node("Shape", "s", []string{"x"}, []string{"sh"})
			m.node("Gather", "g", []string{"sh", "i"}, []string{"y"})
		}), ErrMalformed, []string{"out of range"}},
		{"external data", func() []byte {
			m := newModel(13, enc{})
			m.input("x", 1, 2)
			t := &pb{}
			t.ints(1, []int64{2}, false)
			t.varint(2, dtFloat)
			t.str(8, "B")
			t.varint(14, 1)
			m.inits = append(m.inits, t)
			m.node("Add", "add", []string{"x", "B"}, []string{"y"})
			m.output("y", 1, 2)
			return m.bytes()
		}(), ErrUnsupported, []string{"external"}},
		{"integer input", func() []byte {
			m := newModel(13, enc{})
			m.inputs = append(m.inputs, valueInfoPB("x", dtInt64, 1, 2))
			m.node("Relu", "r", []string{"x"}, []string{"y"})
			m.output("y", 1, 2)
			return m.bytes()
		}(), ErrUnsupported, []string{"int64"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(tc.data, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadTensorMalformed(t *testing.T) {
	good := floatTensor("t", []int64{2, 3}, values(6, 1), enc{raw: true}).b
	for i := 0; i < len(good); i++ {
		if _, err := ReadTensor(good[:i]); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	str := &pb{}
	str.varint(2, dtString)
	str.bytes(6, []byte("a"))
	if _, err := ReadTensor(str.b); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("string tensor: %v", err)
	}
	odd := &pb{}
	odd.varint(2, dtFloat)
	odd.bytes(4, []byte{1, 2, 3})
	if _, err := ReadTensor(odd.b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("packed floats of 3 bytes: %v", err)
	}
}

// The ONNX schema the reader follows nests at most six messages deep
// (Model → Graph → ValueInfo → Type → Tensor type → Shape → Dim), so the cap
// is a backstop; check that it holds.
func TestDepthCap(t *testing.T) {
	r, err := newReader(nil, 0)
	for i := 0; err == nil; i++ {
		if i > maxDepth {
			t.Fatalf("reader nested %d levels", i)
		}
		r, err = r.sub(nil)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("depth error %v", err)
	}
}

// TestFoldingBounded: a few bytes must not make constant folding allocate
// without bound. A fold over the budget is refused before it allocates.
func TestFoldingBounded(t *testing.T) {
	for _, dims := range [][]int64{{1 << 15, 1 << 15}, {1 << 31, 1 << 31}, {1 << 62, 4}} {
		m := newModel(13, enc{})
		m.input("x", 1, 2)
		m.initF("one", []int64{1}, []float32{1})
		m.initI("big", []int64{2}, dims)
		m.node("Expand", "e", []string{"one", "big"}, []string{"huge"})
		m.node("Add", "a", []string{"x", "huge"}, []string{"y"})
		m.output("y", 1, 2)
		data := m.bytes()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Convert(data, Options{})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Expand to %v: %v", dims, err)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
			t.Fatalf("Expand to %v: refused after allocating %d bytes", dims, a)
		}
	}
	// Many folds of 1M floats each (12 MiB with their index table): each
	// fits the budget, their sum does not.
	m := newModel(13, enc{})
	m.input("x", 1, 1<<20)
	m.initF("one", []int64{1}, []float32{1})
	m.initI("s", []int64{1}, []int64{1 << 20})
	prev := "x"
	n := maxFoldBytes/(12<<20) + 1
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("big%d", i)
		m.node("Expand", "e"+name, []string{"one", "s"}, []string{name})
		m.node("Add", "a"+name, []string{prev, name}, []string{"y" + name})
		prev = "y" + name
	}
	m.output(prev, 1, 1<<20)
	_, err := Convert(m.bytes(), Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "budget") || !strings.Contains(err.Error(), fmt.Sprintf("ebig%d", n-1)) {
		t.Fatalf("%d folds: %v", n, err)
	}
}

// TestManyNodesSameName: tens of thousands of nodes sharing one name, half
// of them Identity/Dropout, must convert in linear time with unique names.
func TestManyNodesSameName(t *testing.T) {
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	m.initI("ax", []int64{1}, []int64{0})
	prev := "x"
	for i := 0; i < 40000; i++ {
		in, out := prev, fmt.Sprintf("v%d", i)
		switch i % 4 {
		case 0:
			m.node("Unsqueeze", "n", []string{in, "ax"}, []string{out})
		case 2:
			m.node("Identity", "n", []string{in}, []string{out})
		case 3:
			m.node("Dropout", "n", []string{in}, []string{out})
		default:
			m.node("Squeeze", "n", []string{in, "ax"}, []string{out})
		}
		prev = out
	}
	m.output(prev, 1, 4)
	got, err := Convert(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Graph.Nodes) != 20000 || len(got.Graph.Initializers) != 20000 {
		t.Fatalf("%d nodes, %d initializers", len(got.Graph.Nodes), len(got.Graph.Initializers))
	}
}
