package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// scalar adds a rank-0 float initializer holding v.
func (b *gb) scalar(v float32) string {
	name := b.name("k")
	b.g.Initializers = append(b.g.Initializers, model.NewFloat32Tensor(name, nil, []float32{v}))
	return name
}

// TestPowLowering: a constant single-element exponent makes Pow the unary
// kernel; one that raises the rank, or a tensor exponent, the binary one.
func TestPowLowering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expo   func(b *gb) string
		kernel string
		shape  []int
	}{
		{"scalar", func(b *gb) string { return b.scalar(2) }, "f32-Pow-generic", []int{2, 3}},
		{"one", func(b *gb) string { return b.constant([]int64{1}, 1) }, "f32-Pow-generic", []int{2, 3}},
		{"rank up", func(b *gb) string { return b.constant([]int64{1, 1, 1}, 1) }, "f32-binary-strided-go", []int{1, 2, 3}},
		{"row", func(b *gb) string { return b.constant([]int64{3}, 1) }, "f32-binary-strided-go", []int{2, 3}},
	} {
		b := newGB(1, []int64{2, 3})
		m := b.build(t, b.node(model.OpPow, []string{"input", tc.expo(b)}))
		e, err := New(m, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ls := e.Layers()
		if len(ls) != 1 || !strings.HasPrefix(ls[0].Kernel, tc.kernel) {
			t.Errorf("%s: layers %+v, want one %s", tc.name, ls, tc.kernel)
		}
		if s := e.OutputShapes()[0]; !slices.Equal(s, tc.shape) {
			t.Errorf("%s: output shape %v, want %v", tc.name, s, tc.shape)
		}
	}
}

// math is the differential fuzzer's element-wise math family (difffuzz_test.go):
// a unary op, √|x| or log(|x|+1), e^-|x|, 1/(|x|+1), x² or |x|^0.5, Max or
// Min with a constant or runtime operand, or PRelu. Ops that amplify an
// operand's error (e^x of a large x, x³, 1/x or log x near 0) get operands
// where they do not, so the fuzzer's tolerance holds.
func (p *diffProg) math(x diffVal) bool {
	scalar := func(v float32) string {
		name := p.name("c")
		p.g.Initializers = append(p.g.Initializers, model.NewFloat32Tensor(name, nil, []float32{v}))
		return name
	}
	abs := func() diffVal { return p.node1(model.OpAbs, []string{x.name}, x.shape) }
	switch p.s.intn(6) {
	case 0:
		op := []string{model.OpErf, model.OpGELU, model.OpTanh, model.OpNeg, model.OpAbs}[p.s.intn(5)]
		p.node1(op, []string{x.name}, x.shape)
	case 1:
		if p.s.chance(2) {
			p.node1(model.OpSqrt, []string{abs().name}, x.shape)
		} else {
			// log(|x|+1): the logarithm of |x| itself turns a small
			// absolute error of an x near 0 (a sum that cancels) into an
			// unbounded one, which no tolerance of the output holds.
			a := p.node1(model.OpAdd, []string{abs().name, scalar(1)}, x.shape)
			p.node1(model.OpLog, []string{a.name}, x.shape)
		}
	case 2:
		if p.s.chance(2) {
			n := p.node1(model.OpNeg, []string{abs().name}, x.shape)
			p.node1(model.OpExp, []string{n.name}, x.shape)
		} else {
			a := p.node1(model.OpAdd, []string{abs().name, scalar(1)}, x.shape)
			p.node1(model.OpReciprocal, []string{a.name}, x.shape)
		}
	case 3:
		if p.s.chance(2) {
			p.node1(model.OpPow, []string{x.name, scalar(2)}, x.shape)
		} else {
			p.node1(model.OpPow, []string{abs().name, scalar(0.5)}, x.shape)
		}
	case 4:
		op := []string{model.OpMax, model.OpMin}[p.s.intn(2)]
		b := p.pool[p.s.intn(len(p.pool))]
		if p.s.chance(2) {
			sh := p.bcastShape(x.shape)
			b = diffVal{p.constant(sh, 1, false), sh}
		}
		o, ok := shape.Broadcast(x.shape, b.shape)
		if !ok || diffSize(o) > p.maxElems {
			return false
		}
		p.node1(op, []string{x.name, b.name}, o)
	default:
		sh := []int{}
		if r := len(x.shape); r >= 3 && p.s.chance(2) {
			sh = []int{x.shape[r-3], 1, 1}
		}
		p.node1(model.OpPRelu, []string{x.name, p.constant(sh, 1, false)}, x.shape)
	}
	return true
}
