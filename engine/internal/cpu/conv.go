package cpu

import (
	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/kernels"
)

type convStep struct {
	in, out int
	cv      *kernels.ConvGemm
	dw      *kernels.Depthwise
	wg      *kernels.Winograd
	tasks   int
}

func (st *convStep) Run(x backend.Exec) { x.Parallel(st.tasks, st) }

func (st *convStep) Task(x backend.Exec, w, i int) {
	if st.wg != nil {
		st.wg.RunTasks(i, i+1, x.Buf(st.in), x.Buf(st.out), x.Scratch(w))
		return
	}
	if st.dw != nil {
		st.dw.RunTask(i, x.Buf(st.in), x.Buf(st.out))
		return
	}
	st.cv.RunTask(i, x.Buf(st.in), x.Buf(st.out), x.Scratch(w))
}

func (st *convStep) TaskRange(x backend.Exec, w, lo, hi int) {
	in, out := x.Buf(st.in), x.Buf(st.out)
	if st.wg != nil {
		st.wg.RunTasks(lo, hi, in, out, x.Scratch(w))
		return
	}
	if st.dw != nil {
		for i := lo; i < hi; i++ {
			st.dw.RunTask(i, in, out)
		}
		return
	}
	st.cv.RunTasks(lo, hi, in, out, x.Scratch(w))
}

// lowerConv picks the depthwise kernel for a depthwise convolution and the
// implicit GEMM otherwise, reserving their packed weights first.
func (be *Backend) lowerConv(op *backend.Op, a *backend.Conv, g backend.Graph) (backend.Lowered, error) {
	p := a.P
	st := &convStep{in: op.In[0], out: op.Out[0]}
	var l backend.Lowered
	if p.Group == p.C && p.K == p.C {
		// The depthwise kernel follows the plan's tier, so forcing a tier
		// forces it here too; shapes without SIMD kernels report Generic.
		if err := g.Reserve(int64(kernels.DepthwiseFloats(p, be.tier))); err != nil {
			return l, err
		}
		st.dw = kernels.NewDepthwiseTier(p, a.W, a.Bias, a.Act, be.tier)
		st.tasks = st.dw.Tasks()
		l = backend.Lowered{Name: st.dw.Kernel(), Tier: st.dw.Tier()}
	} else if be.winograd && kernels.WinogradApplies(p) && winogradPays(p) {
		if err := g.Reserve(kernels.WinogradFloats(p, be.mk)); err != nil {
			return l, err
		}
		st.wg = kernels.NewWinograd(p, be.mk, a.W, a.Bias, a.Act, g.Threads())
		st.tasks = st.wg.Tasks()
		g.UseScratch(st.wg.ScratchLen())
		l = backend.Lowered{Name: st.wg.Kernel(), Tier: be.mk.Tier}
	} else {
		mk := be.mk
		kg, cg := p.K/p.Group, p.C/p.Group
		kdim := p.KH * p.KW * cg
		packed := shape.MulSat(int64(p.Group), int64((kg+mk.NR-1)/mk.NR*mk.NR), int64(kdim))
		if err := g.Reserve(packed); err != nil {
			return l, err
		}
		if err := g.Reserve(int64(p.KW*cg + p.K)); err != nil { // zero row, bias
			return l, err
		}
		st.cv = kernels.NewConvGemm(p, mk, a.W, a.Bias, a.Act)
		base := st.cv.Tasks()
		if threads := g.Threads(); threads > 1 && base < 4*threads {
			st.cv.SetSplit((4*threads + base - 1) / base)
		}
		st.tasks = st.cv.Tasks()
		g.UseScratch(st.cv.ScratchLen())
		kind := "f32-conv-igemm"
		if st.cv.Pointwise() {
			kind = "f32-conv-1x1-gemm"
		}
		l = backend.Lowered{Name: kind + "/" + mk.Name, Tier: mk.Tier}
	}
	if st.tasks == 0 {
		st.tasks = 1
	}
	l.Kernel = st
	return l, nil
}

// winogradPays is the plan-time rule for Winograd F(4×4, 3×3), measured
// with kernels' BenchmarkWinogradVsDirect (AVX2, one thread; the figures
// are in BENCHMARKS.md): 2.5–3× the direct convolution's speed at 56×56
// with 64 channels, about 2× down to 8×8 with 64 to 256, 1.3–1.7× at 7×7
// with 128 and 256, slower on one tile (4×4), and nothing gained with 512
// input and output channels at 14×14 or 7×7, where the transformed weights
// (36·C·K floats, 38 MB there) stream from memory for a handful of tiles.
// Hence: at least 4 tiles an image, C·K at most 2¹⁷ (weights up to 19 MB)
// and at least 8 input and output channels (below that the transforms
// cost more than the GEMMs save).
func winogradPays(p kernels.ConvParams) bool {
	tiles := ((p.OH + 3) / 4) * ((p.OW + 3) / 4)
	return tiles >= 4 && p.C >= 8 && p.K >= 8 && p.C*p.K <= 1<<17
}

type poolStep struct {
	in, out  int
	p        kernels.PoolParams
	max      bool
	countPad bool
	el       kernels.Elem // the max pool's running max
}

func (st *poolStep) Run(x backend.Exec) { x.Parallel(st.p.N*st.p.OH, st) }

func (st *poolStep) Task(x backend.Exec, w, i int) {
	if st.max {
		st.el.MaxPoolRow(&st.p, i, x.Buf(st.in), x.Buf(st.out), x.Scratch(w))
	} else {
		kernels.AvgPoolRow(&st.p, st.countPad, i, x.Buf(st.in), x.Buf(st.out))
	}
}

func (be *Backend) lowerPool(op *backend.Op, a *backend.Pool, g backend.Graph) backend.Lowered {
	st := &poolStep{in: op.In[0], out: op.Out[0], p: a.P, max: a.Max, countPad: a.CountPad, el: be.el}
	if a.Max {
		g.UseScratch(st.p.MaxPoolRowLen())
		tier, suffix := be.el.MaxTier(), "go"
		if tier != kernels.Generic {
			suffix = tier.String()
		}
		return backend.Lowered{Kernel: st, Name: "f32-maxpool-nhwc-" + suffix, Tier: tier}
	}
	return backend.Lowered{Kernel: st, Name: "f32-avgpool-nhwc-go", Tier: kernels.Generic}
}

type gapStep struct {
	in, out      int
	n, hw, ch    int
	blk, nblocks int
	el           kernels.Elem
}

func (st *gapStep) Run(x backend.Exec) { x.Parallel(st.n*st.nblocks, st) }

func (st *gapStep) Task(x backend.Exec, _, i int) {
	n, b := i/st.nblocks, i%st.nblocks
	st.el.GlobalAvgPoolNHWC(n, st.hw, st.ch, b*st.blk, min(st.ch, (b+1)*st.blk), x.Buf(st.in), x.Buf(st.out))
}

func (be *Backend) lowerGAP(op *backend.Op, a *backend.GlobalAvgPool) backend.Lowered {
	const blk = 64
	st := &gapStep{in: op.In[0], out: op.Out[0], n: a.N, hw: a.HW, ch: a.C, blk: blk, nblocks: (a.C + blk - 1) / blk, el: be.el}
	return backend.Lowered{Kernel: st, Name: "f32-gap-nhwc-" + be.el.Tier().String(), Tier: be.el.Tier()}
}
