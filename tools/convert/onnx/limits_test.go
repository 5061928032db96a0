package onnx

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/internal/testalloc"
)

// refSlice is ONNX Slice (opsets 10–17) for one axis, written from the
// operator's definition in arbitrary precision: negative start and end get
// dim added; for a positive step both are clamped to [0, dim], for a
// negative step start to [0, dim-1] and end to [-1, dim-1]; the output has
// max(0, ⌈(end-start)/step⌉) elements.
func refSlice(start, end, step, dim int64) (first, count int64) {
	if dim == 0 {
		return 0, 0
	}
	bi := big.NewInt
	s, e, st, d := bi(start), bi(end), bi(step), bi(dim)
	if s.Sign() < 0 {
		s.Add(s, d)
	}
	if e.Sign() < 0 {
		e.Add(e, d)
	}
	clamp := func(v *big.Int, lo, hi int64) {
		if v.Cmp(bi(lo)) < 0 {
			v.Set(bi(lo))
		}
		if v.Cmp(bi(hi)) > 0 {
			v.Set(bi(hi))
		}
	}
	if step > 0 {
		clamp(s, 0, dim)
		clamp(e, 0, dim)
	} else {
		clamp(s, 0, dim-1)
		clamp(e, -1, dim-1)
	}
	// ⌈a/b⌉ = -⌊-a/b⌋; big.Int.Div rounds toward -∞ for positive b.
	a := new(big.Int).Sub(e, s)
	if st.Sign() < 0 {
		a.Neg(a)
		st.Neg(st)
	}
	q := new(big.Int).Div(new(big.Int).Neg(a), st)
	q.Neg(q)
	if q.Sign() < 0 {
		q.SetInt64(0)
	}
	return s.Int64(), q.Int64()
}

// enumSlice counts the indices Slice visits by walking them, for small dims.
func enumSlice(first, count, step, dim int64) error {
	i := big.NewInt(first)
	for k := int64(0); k < count; k++ {
		if i.Sign() < 0 || i.Cmp(big.NewInt(dim)) >= 0 {
			return fmt.Errorf("index %v out of [0, %d)", i, dim)
		}
		i.Add(i, big.NewInt(step))
	}
	return nil
}

// TestSliceRangeMatchesONNX: the slice-length arithmetic against the ONNX
// definition for extreme starts, ends and steps. It used to compute
// (end-start+step-1)/step, which overflows for a step near MaxInt64 (0
// elements instead of 1) and, negated, for MinInt64.
func TestSliceRangeMatchesONNX(t *testing.T) {
	const mn, mx = math.MinInt64, math.MaxInt64
	for _, dim := range []int64{0, 1, 2, 5, 7, maxElements, mx} {
		bounds := []int64{mn, mn + 1, -dim - 1, -dim, -dim + 1, -2, -1, 0, 1, 2, dim - 1, dim, dim + 1, mx - 1, mx}
		steps := []int64{mn, mn + 1, -dim - 1, -dim, -3, -2, -1, 1, 2, 3, dim, dim + 1, mx - 1, mx}
		for _, s := range bounds {
			for _, e := range bounds {
				for _, st := range steps {
					if st == 0 {
						continue
					}
					f, n := shape.Slice(dim, s, e, st)
					rf, rn := refSlice(s, e, st, dim)
					if n != rn || (n > 0 && f != rf) {
						t.Fatalf("dim %d start %d end %d step %d: first %d count %d, ONNX gives %d, %d", dim, s, e, st, f, n, rf, rn)
					}
					if dim <= 7 {
						if err := enumSlice(f, n, st, dim); err != nil {
							t.Fatalf("dim %d start %d end %d step %d: %v", dim, s, e, st, err)
						}
					}
				}
			}
		}
	}
	// The case the testers found, and the reference itself on it.
	if _, n := shape.Slice(4, 0, mx, mx); n != 1 {
		t.Fatalf("step MaxInt64 gives %d elements, want 1", n)
	}
	if _, n := refSlice(0, mx, mx, 4); n != 1 {
		t.Fatalf("reference gives %d", n)
	}
}

// TestSliceExtremeSteps converts Slices with steps ±2⁶³ on a computed value
// and on a constant (folded): each takes exactly one element.
func TestSliceExtremeSteps(t *testing.T) {
	const mn, mx = math.MinInt64, math.MaxInt64
	for _, c := range []struct {
		start, end, step int64
		want             float32 // element of [10, 11, 12, 13] taken
	}{
		{0, mx, mx, 10},
		{1, mx, mx - 1, 11},
		{mx, mn, mn, 13},
		{-1, mn, mn + 1, 13},
		{-100, mn, -1 << 62, 10}, // start clamps to 0 for a negative step
	} {
		// Computed input: the inferred output shape.
		m := newModel(13, enc{})
		m.input("x", 1, 4)
		m.initI("s", []int64{1}, []int64{c.start})
		m.initI("e", []int64{1}, []int64{c.end})
		m.initI("a", []int64{1}, []int64{1})
		m.initI("p", []int64{1}, []int64{c.step})
		m.node("Slice", "sl", []string{"x", "s", "e", "a", "p"}, []string{"y"})
		m.output("y", 1, 1)
		got := mustConvert(t, m.bytes(), Options{})
		if s := got.Graph.Outputs[0].Shape; !slices.Equal(s, []int64{1, 1}) {
			t.Fatalf("Slice %+v: output shape %v, want [1 1]", c, s)
		}
		// Constant input: the folded value.
		m = newModel(13, enc{})
		m.input("x", 1)
		m.initF("k", []int64{4}, []float32{10, 11, 12, 13})
		m.initI("s", []int64{1}, []int64{c.start})
		m.initI("e", []int64{1}, []int64{c.end})
		m.initI("a", []int64{1}, []int64{0})
		m.initI("p", []int64{1}, []int64{c.step})
		m.node("Slice", "sl", []string{"k", "s", "e", "a", "p"}, []string{"v"})
		m.node("Add", "add", []string{"x", "v"}, []string{"y"})
		m.output("y", 1)
		got = mustConvert(t, m.bytes(), Options{})
		if v := initFloats(t, got, "v"); len(v) != 1 || v[0] != c.want {
			t.Fatalf("folded Slice %+v = %v, want [%v]", c, v, c.want)
		}
	}
}

// inputNoShape declares a float tensor input without a shape.
func (m *mb) inputNoShape(name string) {
	m.inputs = append(m.inputs, tensorValueInfo(name, dtFloat, nil))
}

// refusal is a model the converter must refuse with a given sentinel.
type refusal struct {
	name  string
	data  []byte
	want  error
	words string // must appear in the message
}

func checkRefusals(t *testing.T, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		_, err := Convert(c.data, Options{})
		if err == nil {
			t.Errorf("%s: converted", c.name)
			continue
		}
		if !errors.Is(err, c.want) || !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if !strings.Contains(err.Error(), c.words) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.words)
		}
	}
}

// one builds an opset-13 model.
func one(build func(m *mb)) []byte {
	m := newModel(13, enc{})
	build(m)
	return m.bytes()
}

// TestHugeShapesRefused: every product, sum and rank of dimensions the
// converter computes is checked; a shape that wraps around or exceeds the
// limits is refused with ErrTooLarge instead of being recorded.
func TestHugeShapesRefused(t *testing.T) { checkRefusals(t, hugeShapeCases()) }

func hugeShapeCases() []refusal {
	const g32 = 1 << 32
	return []refusal{
		{"input 1x3x2^32x2^32 with a symbolic dim", one(func(m *mb) {
			m.input("x", 1, "C", g32, g32)
			m.node("Relu", "r", []string{"x"}, []string{"y"})
			m.output("y", 1, "C", g32, g32)
		}), ErrTooLarge, `graph input "x"`},
		{"input of rank 9", one(func(m *mb) {
			m.input("x", 1, 1, 1, 1, 1, 1, 1, 1, 1)
			m.node("Relu", "r", []string{"x"}, []string{"y"})
			m.output("y", 1, 1, 1, 1, 1, 1, 1, 1, 1)
		}), ErrTooLarge, "rank 9"},
		{"broadcast past 2^31", one(func(m *mb) {
			m.input("x", 1, 1<<16, 1)
			m.input("z", 1, 1, 1<<16)
			m.node("Add", "add", []string{"x", "z"}, []string{"y"})
			m.output("y", 1, 1<<16, 1<<16)
		}), ErrTooLarge, `Add node "add"`},
		{"Expand of a computed value to 2^31×2^31", one(func(m *mb) {
			m.input("x", 1, 1)
			m.initI("s", []int64{2}, []int64{1 << 31, 1 << 31})
			m.node("Expand", "ex", []string{"x", "s"}, []string{"y"})
			m.output("y", 1, 1)
		}), ErrTooLarge, `Expand node "ex"`},
		{"Reshape with -1 past 2^31", one(func(m *mb) {
			m.input("x", 1, 4)
			m.initI("s", []int64{3}, []int64{g32, g32, -1})
			m.node("Reshape", "re", []string{"x", "s"}, []string{"y"})
			m.output("y", 4)
		}), ErrTooLarge, `Reshape node "re"`},
		{"Reshape of a value of unknown shape to 2^64", one(func(m *mb) {
			m.inputNoShape("x")
			m.initI("s", []int64{2}, []int64{g32, g32})
			m.node("Reshape", "re", []string{"x", "s"}, []string{"y"})
			m.output("y", 4)
		}), ErrTooLarge, `Reshape node "re"`},
		{"Reshape to rank 9", one(func(m *mb) {
			m.input("x", 1, 4)
			m.initI("s", []int64{9}, []int64{1, 1, 1, 1, 1, 1, 1, 1, 4})
			m.initI("b", []int64{2}, []int64{1, 4})
			m.node("Reshape", "re", []string{"x", "s"}, []string{"h"})
			m.node("Reshape", "back", []string{"h", "b"}, []string{"y"})
			m.output("y", 1, 4)
		}), ErrTooLarge, "limit 8"},
		{"Unsqueeze to rank 9", one(func(m *mb) {
			m.input("x", 1, 4)
			m.initI("ax", []int64{7}, []int64{2, 3, 4, 5, 6, 7, 8})
			m.node("Unsqueeze", "u", []string{"x", "ax"}, []string{"h"})
			m.node("Flatten", "f", []string{"h"}, []string{"y"})
			m.output("y", 1, 4)
		}), ErrTooLarge, "limit 8"},
		{"Concat past 2^31", one(func(m *mb) {
			m.input("x", 1, 1<<30)
			m.node("Concat", "cat", []string{"x", "x", "x"}, []string{"y"}, aInt("axis", 1))
			m.output("y", 1, 3<<30)
		}), ErrTooLarge, `Concat node "cat"`},
		{"Split sizes that wrap around to the dimension", one(func(m *mb) {
			m.input("x", 1, 4)
			m.initI("sp", []int64{3}, []int64{math.MaxInt64, math.MaxInt64, 6})
			m.node("Split", "sp", []string{"x", "sp"}, []string{"a", "b", "c"}, aInt("axis", 1))
			m.node("Concat", "cat", []string{"a", "b", "c"}, []string{"y"}, aInt("axis", 1))
			m.output("y", 1, 4)
		}), ErrTooLarge, `Split node "sp"`},
		{"Conv with huge pads", one(func(m *mb) {
			m.input("x", 1, 1, 4, 4)
			m.initF("W", []int64{1, 1, 1, 1}, []float32{1})
			m.node("Conv", "conv", []string{"x", "W"}, []string{"y"}, aInts("pads", []int64{1 << 20, 1 << 20, 1 << 20, 1 << 20}, false))
			m.output("y", 1, 1, 4, 4)
		}), ErrTooLarge, `Conv node "conv"`},
		{"MaxPool with huge pads and dilations", one(func(m *mb) {
			m.input("x", 1, 1, 4, 4)
			m.node("MaxPool", "pool", []string{"x"}, []string{"y"}, aInts("kernel_shape", []int64{2, 2}, false),
				aInts("pads", []int64{1 << 20, 1 << 20, 1 << 20, 1 << 20}, false), aInts("dilations", []int64{1 << 20, 1 << 20}, false))
			m.output("y", 1, 1, 4, 4)
		}), ErrTooLarge, `MaxPool node "pool"`},
		{"initializer of rank 9", one(func(m *mb) {
			m.input("x", 1)
			m.initF("k", []int64{1, 1, 1, 1, 1, 1, 1, 1, 1}, []float32{1})
			m.initI("s", []int64{1}, []int64{1})
			m.node("Reshape", "re", []string{"k", "s"}, []string{"v"})
			m.node("Add", "add", []string{"x", "v"}, []string{"y"})
			m.output("y", 1)
		}), ErrTooLarge, "rank 9"},
		{"Gather folding to rank 9", one(func(m *mb) {
			m.input("x", 1)
			m.initF("k", []int64{1, 1, 1, 1, 1}, []float32{1})
			m.initI("i", []int64{1, 1, 1, 1, 1}, []int64{0})
			m.node("Gather", "ga", []string{"k", "i"}, []string{"v"})
			m.initI("s", []int64{1}, []int64{1})
			m.node("Reshape", "re", []string{"v", "s"}, []string{"w"})
			m.node("Add", "add", []string{"x", "w"}, []string{"y"})
			m.output("y", 1)
		}), ErrTooLarge, `Gather node "ga"`},
	}
}

// TestZeroSizeRefused: a value of the model with a dimension of size 0 is
// refused when it is created, with ErrZeroSize.
func TestZeroSizeRefused(t *testing.T) {
	checkRefusals(t, zeroSizeCases())
	// A zero in the input shape option is the caller's mistake.
	m := newModel(13, enc{})
	m.inputNoShape("x")
	m.node("Relu", "r", []string{"x"}, []string{"y"})
	m.output("y")
	if _, err := Convert(m.bytes(), Options{InputShape: []int64{1, 0}}); !errors.Is(err, ErrOptions) {
		t.Fatalf("InputShape with 0: %v", err)
	}
}

func zeroSizeCases() []refusal {
	slice := func(axis, start, end int64) []byte {
		m := newModel(13, enc{})
		m.input("x", 1, 3, 4, 4)
		m.initI("s", []int64{1}, []int64{start})
		m.initI("e", []int64{1}, []int64{end})
		m.initI("a", []int64{1}, []int64{axis})
		m.node("Slice", "sl", []string{"x", "s", "e", "a"}, []string{"z"})
		// Concatenated back to a shape that hides the empty value.
		m.node("Concat", "cat", []string{"x", "z"}, []string{"y"}, aInt("axis", axis))
		m.output("y", 1, 3, 4, 4)
		return m.bytes()
	}
	return []refusal{
		{"Slice to width 0", slice(3, 2, 2), ErrZeroSize, `Slice node "sl"`},
		{"Slice to height 0", slice(2, 4, 100), ErrZeroSize, `Slice node "sl"`},
		{"Slice to batch 0", slice(0, 1, math.MaxInt64), ErrZeroSize, `Slice node "sl"`},
		{"Slice to 0 channels, both bounds before the start", slice(1, -100, -200), ErrZeroSize, `Slice node "sl"`},
		{"Split with an empty part", one(func(m *mb) {
			m.input("x", 1, 4)
			m.initI("sp", []int64{2}, []int64{4, 0})
			m.node("Split", "sp", []string{"x", "sp"}, []string{"a", "b"}, aInt("axis", 1))
			m.output("a", 1, 4)
		}), ErrZeroSize, `Split node "sp"`},
		{"Split into more parts than elements", one(func(m *mb) {
			m.input("x", 1, 2)
			m.node("Split", "sp", []string{"x"}, []string{"a", "b", "c"}, aInt("axis", 1))
			m.node("Concat", "cat", []string{"a", "b", "c"}, []string{"y"}, aInt("axis", 1))
			m.output("y", 1, 2)
		}), ErrZeroSize, `Split node "sp"`},
		{"Expand to a zero dimension", one(func(m *mb) {
			m.input("x", 1, 1)
			m.initI("s", []int64{2}, []int64{1, 0})
			m.node("Expand", "ex", []string{"x", "s"}, []string{"y"})
			m.output("y", 1, 1)
		}), ErrZeroSize, `Expand node "ex"`},
		{"Add of an empty constant", one(func(m *mb) {
			m.input("x", 1, 1)
			m.initF("k", []int64{0}, nil)
			m.node("Add", "add", []string{"x", "k"}, []string{"y"})
			m.output("y", 1, 1)
		}), ErrZeroSize, `Add node "add"`},
		{"graph input with a zero dimension", one(func(m *mb) {
			m.input("x", 1, 0, 4)
			m.node("Relu", "r", []string{"x"}, []string{"y"})
			m.output("y", 1, 0, 4)
		}), ErrZeroSize, `graph input "x"`},
		{"declared output with a zero dimension", one(func(m *mb) {
			m.inputNoShape("x")
			m.node("Relu", "r", []string{"x"}, []string{"y"})
			m.output("y", 1, 0)
		}), ErrZeroSize, `graph output "y"`},
	}
}

// TestFoldingEmptyTensorsBoundedWork: folding an empty tensor costs nothing
// however large its other dimensions. Concat and Gather used to loop over
// the dimensions before the axis even when the result was empty: 2²⁴ × 1000
// iterations (minutes) from a file of a few kilobytes.
func TestFoldingEmptyTensorsBoundedWork(t *testing.T) {
	for name, data := range emptyFoldModels() {
		_, rep, err := convert(data, Options{})
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %v", name, err)
		}
		if rep == nil || rep.work > 100000 {
			t.Fatalf("%s of empty tensors: work %+v", name, rep)
		}
	}
}

func emptyFoldModels() map[string][]byte {
	concat := func() []byte {
		m := newModel(13, enc{})
		m.input("x", 1)
		m.initF("k", []int64{1 << 24, 0}, nil)
		in := make([]string, 1000)
		for i := range in {
			in[i] = "k"
		}
		m.node("Concat", "cat", in, []string{"v"}, aInt("axis", 1))
		m.node("Add", "add", []string{"x", "x"}, []string{"y"})
		m.output("y", 1)
		return m.bytes()
	}
	gather := func() []byte {
		m := newModel(13, enc{})
		m.input("x", 1)
		m.initF("k", []int64{1 << 20, 1, 0}, nil)
		m.initI("i", []int64{1000}, make([]int64, 1000))
		m.node("Gather", "ga", []string{"k", "i"}, []string{"v"}, aInt("axis", 1))
		m.node("Add", "add", []string{"x", "x"}, []string{"y"})
		m.output("y", 1)
		return m.bytes()
	}
	return map[string][]byte{"Concat": concat(), "Gather": gather()}
}

// TestSharedOperandsBoundedWork: many nodes sharing one long constant
// vector as a shape, axes or flag operand must not each walk it: such a
// vector is refused on its length before it is read.
func TestSharedOperandsBoundedWork(t *testing.T) {
	long := make([]int64, 1<<16)
	for i := range long {
		long[i] = 1
	}
	build := func(node func(m *mb, i int, in, out string)) []byte {
		m := newModel(13, enc{})
		m.input("x", 1, 4)
		m.initI("v", []int64{int64(len(long))}, long)
		m.initI("z", []int64{1}, []int64{0})
		m.initI("e", []int64{1}, []int64{4})
		prev := "x"
		for i := 0; i < 1000; i++ {
			out := fmt.Sprintf("h%d", i)
			node(m, i, prev, out)
			prev = out
		}
		m.node("Relu", "r", []string{prev}, []string{"y"})
		m.output("y", 1, 4)
		return m.bytes()
	}
	cases := map[string][]byte{
		"Reshape": build(func(m *mb, i int, in, out string) {
			m.node("Reshape", fmt.Sprint("n", i), []string{in, "v"}, []string{out})
		}),
		"Expand": build(func(m *mb, i int, in, out string) {
			m.node("Expand", fmt.Sprint("n", i), []string{in, "v"}, []string{out})
		}),
		"Squeeze": build(func(m *mb, i int, in, out string) {
			m.node("Squeeze", fmt.Sprint("n", i), []string{in, "v"}, []string{out})
		}),
		"Slice": build(func(m *mb, i int, in, out string) {
			m.node("Slice", fmt.Sprint("n", i), []string{in, "v", "v"}, []string{out})
		}),
		"Dropout": build(func(m *mb, i int, in, out string) {
			m.node("Dropout", fmt.Sprint("n", i), []string{in, "", "v"}, []string{out})
		}),
	}
	for name, data := range cases {
		_, err := Convert(data, Options{})
		if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), `node "n0"`) {
			t.Errorf("%s sharing a %d-element operand: %v, want a refusal at the first node", name, len(long), err)
		}
	}
}

// TestLongNameManyOutputsBoundedAlloc: what a node costs is linear in its
// size. Messages for outputs signet does not compute, and names generated
// for unnamed outputs, used to copy the node's name once per output: a
// 20 KB name and 4000 outputs made 80 MB from a 30 KB file. (A Relu with
// 4000 outputs is now refused by its descriptor's output arity.)
func TestLongNameManyOutputsBoundedAlloc(t *testing.T) {
	name := strings.Repeat("n", 20000)
	const k = 4000
	outs := make([]string, k)
	outs[0] = "y"
	relu := one(func(m *mb) {
		m.input("x", 1, k)
		for i := 1; i < k; i++ {
			outs[i] = fmt.Sprint("o", i)
		}
		m.node("Relu", name, []string{"x"}, outs)
		m.output("y", 1, k)
	})
	split := one(func(m *mb) {
		m.input("x", 1, k)
		for i := 1; i < k; i++ {
			outs[i] = ""
		}
		m.node("Split", name, []string{"x"}, outs, aInt("axis", 1))
		m.node("Relu", "r", []string{"y"}, []string{"z"})
		m.output("z", 1, 1)
	})
	for op, data := range map[string][]byte{"Relu": relu, "Split": split} {
		var err error
		a := testalloc.Bytes(func() { _, err = Convert(data, Options{}) })
		if err != nil && !isSentinel(err) {
			t.Fatalf("%s: %v", op, err)
		}
		if op == "Relu" && (!errors.Is(err, ErrMalformed) || !strings.HasSuffix(err.Error(), fmt.Sprintf("%d outputs", k))) {
			t.Fatalf("Relu with %d outputs: %v", k, err)
		}
		t.Logf("%s: %d bytes allocated for a %d-byte file", op, a, len(data))
		if bound := 1<<20 + 256*uint64(len(data)); a > bound {
			t.Fatalf("%s with a %d-byte name and %d outputs: %d bytes allocated for a %d-byte file (bound %d)", op, len(name), k, a, len(data), bound)
		}
	}
}

// TestBatchNormFoldBudget: folding BatchNormalization into a Conv builds new
// weights per Conv; with many Convs sharing one weight that is their product.
// The folding budget bounds it: past it the BatchNormalizations stay.
func TestBatchNormFoldBudget(t *testing.T) {
	const n = 100
	m := newModel(13, enc{raw: true})
	m.input("x", 1, 64, 16, 16)
	m.initF("W", []int64{64, 64, 16, 16}, make([]float32, 1<<20))
	ones := make([]float32, 64)
	for i := range ones {
		ones[i] = 1
	}
	for _, p := range []string{"scale", "var"} {
		m.initF(p, []int64{64}, ones)
	}
	for _, p := range []string{"bias", "mean"} {
		m.initF(p, []int64{64}, make([]float32, 64))
	}
	sum := ""
	for i := 0; i < n; i++ {
		c, b := fmt.Sprint("c", i), fmt.Sprint("b", i)
		m.node("Conv", c, []string{"x", "W"}, []string{c})
		m.node("BatchNormalization", b, []string{c, "scale", "bias", "mean", "var"}, []string{b})
		if sum == "" {
			sum = b
			continue
		}
		s := fmt.Sprint("s", i)
		m.node("Add", s, []string{sum, b}, []string{s})
		sum = s
	}
	m.output(sum, 1, 64, 1, 1)
	data := m.bytes()
	_, rep, err := convert(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	perFold := int64(4 * (1<<20 + 64))
	if max := (maxFoldBytes + 8*int64(len(data))) / perFold; rep.BatchNormFolded != int(max) || rep.foldBytes > maxFoldBytes+8*int64(len(data)) {
		t.Fatalf("%d of %d BatchNormalizations folded (%d bytes), want the %d the budget allows", rep.BatchNormFolded, n, rep.foldBytes, max)
	}
}
