package engine

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
)

// The op-by-op harness, in the spirit of ggml's test-backend-ops: every
// registered backend (backend.Register) runs each case — one small graph,
// mostly one node — at every CPU tier this machine has, with one and with
// two threads, and its outputs are compared with the reference under the
// case's bound on the normalised mean squared error
//
//	NMSE = Σ (out - ref)² / Σ ref²
//
// An Op a backend does not support runs on the CPU backend (the engine's
// fallback), so a partial backend is checked on the Ops it claims; the test
// fails if no backend lowered some kind of Op (backend.Kinds), so a new
// kind of Op cannot go untested. Adding a backend needs no change here.

// Error bounds. Exact ops (copies, max pooling, a broadcast add) must match
// the reference bit for bit. Sums (convolution, GEMM, reductions) differ in
// the last bits: SIMD kernels accumulate in another order and with FMA.
// Sigmoid and SiLU use a polynomial exp on SIMD tiers.
const (
	nmseExact = 0
	nmseSum   = 1e-11
	nmseExp   = 1e-10
)

type opCase struct {
	name  string
	nmse  float64
	build func(b *gb) []string // returns the graph outputs
	in    []int64              // input shape
}

func opCases() []opCase {
	act := func(name string, params ...float32) []model.Attr {
		a := []model.Attr{strA("activation", name)}
		if len(params) > 0 {
			a = append(a, model.Attr{Name: "activation_params", Kind: model.AttrFloats, Floats: params})
		}
		return a
	}
	nchw := []int64{1, 8, 9, 7}
	one := func(op string, attrs ...model.Attr) func(b *gb) []string {
		return func(b *gb) []string { return []string{b.node(op, []string{"input"}, attrs...)} }
	}
	cs := []opCase{
		// Copy: relayout, materialised views, Slice, Transpose.
		{"Copy/relayout", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpFlatten, []string{b.node(model.OpRelu, []string{"input"})}, intA("axis", 1))}
		}, nchw},
		{"Copy/transpose", nmseExact, one(model.OpTranspose, ints("perm", 0, 3, 1, 2)), nchw},
		{"Copy/slice", nmseExact, one(model.OpSlice, ints("starts", 1, -1, 0), ints("ends", 7, -9, 5), ints("axes", 1, 2, 3), ints("steps", 2, -2, 1)), nchw},
		{"Copy/reshape-const", nmseExact, func(b *gb) []string {
			c := b.node(model.OpReshape, []string{b.constant([]int64{2, 6}, 1), b.int64s("shape", 1, 12)})
			return []string{b.node(model.OpAdd, []string{b.node(model.OpFlatten, []string{"input"}, intA("axis", 0)), c})}
		}, []int64{12, 1}},
		// Conv: Winograd, implicit GEMM, pointwise, grouped, dilated, depthwise.
		{"Conv/3x3-pad-winograd", nmseSum, func(b *gb) []string {
			return []string{b.conv("input", 8, 12, 3, 1, ints("pads", 1, 1, 1, 1))}
		}, nchw},
		{"Conv/3x3-winograd-relu-asymmetric-pad", nmseSum, func(b *gb) []string {
			return []string{b.conv("input", 8, 17, 3, 1, append(act("Relu"), ints("pads", 2, 0, 1, 2))...)}
		}, nchw},
		{"Conv/3x3-direct", nmseSum, func(b *gb) []string { // 4 outputs: below Winograd's rule
			return []string{b.conv("input", 8, 4, 3, 1, ints("pads", 1, 1, 1, 1))}
		}, nchw},
		{"Conv/1x1-relu", nmseSum, func(b *gb) []string { return []string{b.conv("input", 8, 5, 1, 1, act("Relu")...)} }, nchw},
		{"Conv/5x5-stride2-dilated", nmseSum, func(b *gb) []string {
			return []string{b.conv("input", 8, 4, 3, 1, ints("strides", 2, 2), ints("dilations", 2, 1), ints("pads", 2, 1, 0, 2))}
		}, nchw},
		{"Conv/grouped-same", nmseSum, func(b *gb) []string {
			return []string{b.conv("input", 8, 4, 3, 2, strA("auto_pad", "SAME_UPPER"))}
		}, nchw},
		{"Conv/depthwise-3x3", nmseSum, func(b *gb) []string {
			return []string{b.conv("input", 8, 8, 3, 8, append(act("Clip", 0, 6), ints("pads", 1, 1, 1, 1))...)}
		}, nchw},
		{"Conv/depthwise-5x5-stride2", nmseSum, func(b *gb) []string {
			return []string{b.conv("input", 8, 8, 5, 8, ints("pads", 2, 2, 2, 2), ints("strides", 2, 2))}
		}, nchw},
		// Pool and GlobalAvgPool.
		{"Pool/max-ceil", nmseExact, one(model.OpMaxPool, ints("kernel_shape", 3, 3), ints("strides", 2, 2), intA("ceil_mode", 1)), nchw},
		{"Pool/avg-pad", nmseSum, one(model.OpAveragePool, ints("kernel_shape", 3, 2), ints("pads", 1, 1, 1, 0), intA("count_include_pad", 1)), nchw},
		{"GlobalAvgPool", nmseSum, one(model.OpGlobalAveragePool), nchw},
		{"GlobalAvgPool/reduce-mean", nmseSum, one(model.OpReduceMean, ints("axes", 2, 3), intA("keepdims", 0)), nchw},
		// Gemm: packed (constant B, bias) and the strided loop (runtime B, full C).
		{"Gemm/packed", nmseSum, func(b *gb) []string {
			return []string{b.node(model.OpGemm, []string{"input", b.constant([]int64{10, 24}, 0.3), b.constant([]int64{10}, 0.1)},
				intA("transB", 1), floatA("alpha", 0.5), floatA("beta", 2))}
		}, []int64{3, 24}},
		{"Gemm/strided", nmseSum, func(b *gb) []string {
			return []string{b.node(model.OpGemm, []string{"input", "input", b.constant([]int64{24, 24}, 0.1)}, intA("transA", 1),
				floatA("beta", 0.5), strA("activation", "Sigmoid"))}
		}, []int64{3, 24}},
		// MatMul: constant B (packed) and a runtime batched product.
		{"MatMul/packed", nmseSum, func(b *gb) []string {
			return []string{b.node(model.OpMatMul, []string{"input", b.constant([]int64{7, 6}, 0.5)})}
		}, []int64{2, 3, 7}},
		{"MatMul/batched", nmseSum, func(b *gb) []string {
			return []string{b.node(model.OpMatMul, []string{"input", b.node(model.OpTranspose, []string{"input"}, ints("perm", 0, 2, 1))})}
		}, []int64{2, 3, 7}},
		// Unary: every activation.
		{"Unary/Relu", nmseExact, one(model.OpRelu), nchw},
		{"Unary/Clip", nmseExact, one(model.OpClip, floatA("min", -0.3), floatA("max", 0.4)), nchw},
		{"Unary/LeakyRelu", nmseExact, one(model.OpLeakyRelu, floatA("alpha", 0.1)), nchw},
		{"Unary/Sigmoid", nmseExp, one(model.OpSigmoid), nchw},
		{"Unary/HardSigmoid", nmseSum, one(model.OpHardSigmoid), nchw},
		{"Unary/HardSwish", nmseSum, one(model.OpHardSwish), nchw},
		{"Unary/SiLU", nmseExp, one(model.OpSiLU), nchw},
		// Binary: + - * / with broadcasting, both operand orders.
		{"Binary/add-channel", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpAdd, []string{b.constant([]int64{1, 8, 1, 1}, 1), "input"})}
		}, nchw},
		{"Binary/sub-row", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpSub, []string{"input", b.constant([]int64{7}, 1)})}
		}, nchw},
		{"Binary/mul-same", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpMul, []string{"input", b.node(model.OpRelu, []string{"input"})})}
		}, nchw},
		{"Binary/div", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpDiv, []string{"input", b.positive(9 * 7)})}
		}, []int64{1, 9 * 7}},
		// Element-wise math: unary kinds, Pow, Max, Min, PRelu, fused GELU.
		{"Unary/Erf", nmseExp, one(model.OpErf), nchw},
		{"Unary/GELU", nmseExp, one(model.OpGELU), nchw},
		{"Unary/Tanh", nmseExp, one(model.OpTanh), nchw},
		{"Unary/Exp", nmseExp, one(model.OpExp), nchw},
		{"Unary/Log-Abs", nmseExp, func(b *gb) []string {
			return []string{b.node(model.OpLog, []string{b.node(model.OpAbs, []string{"input"})})}
		}, nchw},
		{"Unary/Sqrt-Neg", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpSqrt, []string{b.node(model.OpRelu, []string{b.node(model.OpNeg, []string{"input"})})})}
		}, nchw},
		{"Unary/Reciprocal", nmseExact, one(model.OpReciprocal), nchw},
		{"Unary/Pow-2", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPow, []string{"input", b.scalar(2)})}
		}, nchw},
		{"Unary/Pow-half", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPow, []string{b.node(model.OpAbs, []string{"input"}), b.scalar(0.5)})}
		}, nchw},
		{"Unary/Pow-3", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPow, []string{"input", b.scalar(3)})}
		}, nchw},
		{"Binary/pow-row", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPow, []string{b.node(model.OpAbs, []string{"input"}), b.constant([]int64{7}, 3)})}
		}, nchw},
		{"Binary/pow-runtime", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPow, []string{b.node(model.OpAbs, []string{"input"}), "input"})}
		}, nchw},
		{"Binary/max-channel", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpMax, []string{b.constant([]int64{1, 8, 1, 1}, 1), "input"})}
		}, nchw},
		{"Binary/min-same", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpMin, []string{"input", b.node(model.OpNeg, []string{"input"})})}
		}, nchw},
		{"Binary/prelu-channel", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPRelu, []string{"input", b.constant([]int64{8, 1, 1}, 1)})}
		}, nchw},
		{"Binary/prelu-scalar", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpPRelu, []string{"input", b.scalar(0.25)})}
		}, nchw},
		{"Conv/1x1-gelu", nmseSum, func(b *gb) []string { return []string{b.conv("input", 8, 5, 1, 1, act("GELU")...)} }, nchw},
		// Affine: BatchNormalization folded.
		{"Affine/batchnorm", nmseSum, func(b *gb) []string {
			return []string{b.node(model.OpBatchNormalization, []string{"input", b.constant([]int64{8}, 1), b.constant([]int64{8}, 0.1),
				b.constant([]int64{8}, 0.1), b.positive(8)})}
		}, nchw},
		// Concat and Split.
		{"Concat", nmseExact, func(b *gb) []string {
			return []string{b.node(model.OpConcat, []string{"input", b.constant([]int64{1, 3, 9, 7}, 1), "input"}, intA("axis", 1))}
		}, nchw},
		{"Split", nmseExact, func(b *gb) []string {
			b.g.Nodes = append(b.g.Nodes, model.Node{Op: model.OpSplit, Name: "split", Inputs: []string{"input"},
				Outputs: []string{"s0", "s1", "s2"}, Attrs: []model.Attr{intA("axis", 1), ints("split", 2, 5, 1)}})
			return []string{"s0", "s1", "s2"}
		}, nchw},
		// Reduce and Normalize.
		{"Reduce/mean", nmseSum, one(model.OpReduceMean, ints("axes", 1, 3)), nchw},
		{"Reduce/L2", nmseSum, one(model.OpReduceL2, ints("axes", 0, 2), intA("keepdims", 0)), nchw},
		{"Normalize/Lp1", nmseSum, one(model.OpLpNormalization, intA("axis", 1), intA("p", 1)), nchw},
		{"Normalize/L2", nmseSum, one(model.OpL2Normalize, intA("axis", 1)), []int64{1, 40}},
		// Reduce sum/max/min, Pad, LayerNorm, Softmax.
		{"Reduce/sum", nmseSum, one(model.OpReduceSum, ints("axes", 2, 3), intA("keepdims", 0)), nchw},
		{"Reduce/max", nmseExact, one(model.OpReduceMax, ints("axes", 1)), nchw},
		{"Reduce/min-all", nmseExact, one(model.OpReduceMin), nchw},
		{"Pad/constant-nhwc", nmseExact, func(b *gb) []string {
			r := b.node(model.OpRelu, []string{"input"}) // NHWC storage
			return []string{b.node(model.OpPad, []string{r}, ints("pads", 0, 1, 2, 0, 0, 0, 1, 3), floatA("value", -0.5))}
		}, nchw},
		{"Pad/reflect-crop", nmseExact, one(model.OpPad, strA("mode", "reflect"), ints("pads", 0, 0, 3, -1, 0, 0, 2, 4)), nchw},
		{"Pad/edge-rank3", nmseExact, one(model.OpPad, strA("mode", "edge"), ints("pads", 1, 0, 2, 0, 3, 1)), []int64{2, 5, 3}},
		{"LayerNorm/last-axis", nmseSum, func(b *gb) []string {
			return []string{b.node(model.OpLayerNormalization, []string{"input", b.constant([]int64{24}, 1), b.constant([]int64{24}, 0.5)},
				ints("axes", -1), floatA("epsilon", 1e-5))}
		}, []int64{5, 24}},
		{"LayerNorm/stats-trailing", nmseSum, func(b *gb) []string {
			b.g.Nodes = append(b.g.Nodes, model.Node{Op: model.OpLayerNormalization, Name: "ln", Inputs: []string{"input", b.constant([]int64{9, 7}, 1)},
				Outputs: []string{"y", "mean", "inv"}, Attrs: []model.Attr{ints("axes", 2, 3)}})
			return []string{"y", "mean", "inv"}
		}, nchw},
		{"LayerNorm/channels-nhwc", nmseSum, func(b *gb) []string {
			r := b.node(model.OpRelu, []string{"input"})
			return []string{b.node(model.OpLayerNormalization, []string{r, b.constant([]int64{8}, 1)}, ints("axes", 1))}
		}, nchw},
		{"LayerNorm/transposed-view", nmseSum, func(b *gb) []string {
			r := b.node(model.OpRelu, []string{"input"})
			t := b.node(model.OpTranspose, []string{r}, ints("perm", 0, 2, 3, 1))
			return []string{b.node(model.OpLayerNormalization, []string{t, b.constant([]int64{8}, 1), b.constant([]int64{8}, 1)}, ints("axes", 3))}
		}, nchw},
		{"LayerNorm/strided", nmseSum, one(model.OpLayerNormalization, ints("axes", 1)), []int64{2, 6, 5}},
		{"Softmax/last-axis", nmseExp, one(model.OpSoftmax), []int64{3, 100}},
		{"Softmax/channels-nhwc", nmseExp, func(b *gb) []string {
			return []string{b.node(model.OpSoftmax, []string{b.node(model.OpRelu, []string{"input"})}, intA("axis", 1))}
		}, nchw},
		{"Softmax/strided", nmseExp, one(model.OpSoftmax, intA("axis", 0)), []int64{6, 5, 3}},
		{"Softmax/reshaped-view", nmseExp, func(b *gb) []string {
			r := b.node(model.OpReshape, []string{b.node(model.OpRelu, []string{"input"}), b.int64s("shape", 6, 15)})
			return []string{b.node(model.OpSoftmax, []string{r}, intA("axis", 1))}
		}, []int64{6, 5, 3}},
	}
	return append(cs, quantOpCases()...)
}

// recordingBackend notes the kind of every Op it is asked to lower.
type recordingBackend struct {
	backend.Backend
	kinds map[string]bool
}

func (r *recordingBackend) Lower(op *backend.Op, g backend.Graph) (backend.Lowered, error) {
	r.kinds[backend.Kind(op.Args)] = true
	return r.Backend.Lower(op, g)
}

// recordingResident is a recordingBackend that stays a backend.Resident.
type recordingResident struct {
	*recordingBackend
	res backend.Resident
}

func (r recordingResident) Transfer(id int, dir backend.Direction, g backend.Graph) (backend.Lowered, error) {
	return r.res.Transfer(id, dir, g)
}

func (r recordingResident) NewState() any { return r.res.NewState() }

// record wraps be in a recorder of the kinds it lowers into kinds.
func record(be backend.Backend, kinds map[string]bool) backend.Backend {
	rec := &recordingBackend{Backend: be, kinds: kinds}
	if res, ok := be.(backend.Resident); ok {
		return recordingResident{rec, res}
	}
	return rec
}

func nmse(out, ref []float32) float64 {
	var num, den float64
	for i := range ref {
		d := float64(out[i]) - float64(ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	if den == 0 {
		return num
	}
	return num / den
}

func TestBackendOps(t *testing.T) {
	defer forceParallel()()
	if _, ok := backend.Get("cpu"); !ok {
		t.Fatalf("the CPU backend is not registered (backends: %v)", backend.Registered())
	}
	lowered := map[string]bool{} // by any backend
	for _, name := range backend.Registered() {
		f, _ := backend.Get(name)
		for _, tier := range kernels.Available() {
			for _, threads := range []int{1, 2} {
				for _, tc := range opCases() {
					t.Run(fmt.Sprintf("%s/%s/%d/%s", name, tier, threads, tc.name), func(t *testing.T) {
						b := newGB(11, tc.in)
						m := b.build(t, tc.build(b)...)
						kinds := map[string]bool{}
						e, err := newEngine(m, Options{Tier: tier, ForceTier: true, Threads: threads}, func(tr kernels.Tier) backend.Backend {
							return record(f(tr), kinds)
						})
						if err != nil {
							t.Fatalf("New: %v", err)
						}
						for k := range kinds {
							lowered[k] = true
						}
						outs, want := runBoth(t, m, e, 21)
						for i := range want {
							if len(outs[i]) != len(want[i]) {
								t.Fatalf("output %d: %d values, reference %d", i, len(outs[i]), len(want[i]))
							}
							for j, v := range outs[i] {
								if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
									t.Fatalf("output %d[%d] = %v", i, j, v)
								}
							}
							if d := nmse(outs[i], want[i]); d > tc.nmse {
								t.Errorf("output %d: NMSE %.3g > %.3g", i, d, tc.nmse)
							}
						}
					})
				}
			}
		}
	}
	for _, k := range backend.Kinds() {
		if !lowered[backend.Kind(k)] {
			t.Errorf("no backend lowered an Op of kind %s in any case", backend.Kind(k))
		}
	}
}
