package kernels

import (
	"runtime"
	"testing"
	"time"

	"github.com/signet-go/signet/internal/cputime"
	"github.com/signet-go/signet/internal/testrand"
)

// qgemmBenchShapes are convolution layers of ResNet18 and MobileNetV2 at
// 224×224 as GEMMs (M output pixels, K = C·KH·KW, N output channels).
var qgemmBenchShapes = []struct {
	name    string
	M, K, N int
}{
	{"resnet18-layer1-3x3-c64", 56 * 56, 64 * 9, 64},
	{"resnet18-layer3-3x3-c256", 14 * 14, 256 * 9, 256},
	{"resnet18-layer4-3x3-c512", 7 * 7, 512 * 9, 512},
	{"mobilenetv2-1x1-c96-k576", 14 * 14, 96, 576},
	{"mobilenetv2-1x1-c144-k24", 56 * 56, 144, 24},
}

// threadSeconds is the benchmark thread's CPU time where it can be read
// (see startCPUTimer), wall time otherwise.
func threadSeconds() float64 {
	if cputime.Available {
		return cputime.Thread()
	}
	return float64(time.Now().UnixNano()) / 1e9
}

// BenchmarkQGemm runs the int8 GEMM (QGemmFor(Best())) and the fp32 GEMM
// (Gemm(Best())) of the same shape alternately in one loop, one thread,
// and reports both rates and their ratio, so that the two are measured
// side by side under the same conditions: int8-GOP/s and fp32-GFLOP/s
// (2·M·N·K operations per run over the thread's CPU time, packing of A
// included, weights packed beforehand), and int8/fp32 = fp32 time / int8
// time (above 1: int8 is faster).
func BenchmarkQGemm(b *testing.B) {
	for _, sh := range qgemmBenchShapes {
		b.Run(sh.name, func(b *testing.B) {
			r := testrand.New(17 << 8)
			M, K, N := sh.M, sh.K, sh.N
			qk := QGemmFor(Best())
			qa := int8s(r, M*K)
			qw := int8s(r, K*N)
			scale := make([]float32, N)
			for j := range scale {
				scale[j] = 1e-4
			}
			qop := QGemmOp{MK: qk, M: M, B: PackQB(qk.QLayout, K, N, qw, N, false, 3, make([]int32, N), scale), Out: QOutFull(-5)}
			qc := make([]int8, M*N)
			qscratch := make([]byte, qop.ScratchLen())

			fk := Gemm(Best())
			fa := r.Floats(M * K)
			fop := GemmOp{MK: fk, M: M, B: PackB(fk.NR, K, N, r.Floats(K*N), N, false), Bias: make([]float32, N), Epi: Epilogue{Kind: EpiClamp, Lo: 0, Hi: 6}}
			fc := make([]float32, M*N)
			fscratch := make([]float32, fop.ScratchLen())

			benchInt8VsFP32(b, 2*float64(M)*float64(N)*float64(K),
				func() { QGemmRange(&qop, DenseQA{Data: qa, LD: K}, qc, N, 1, 0, qop.Tiles(), qscratch) },
				func() { GemmRange(&fop, DenseA{Data: fa, LD: K}, fc, N, 1, 0, fop.Tiles(), fscratch, Act{}) })
		})
	}
}

// benchInt8VsFP32 runs q and f, an int8 and an fp32 computation of ops
// operations each, alternately b.N times on one thread and reports both
// rates over the thread's CPU time and their ratio (above 1: int8 is
// faster).
func benchInt8VsFP32(b *testing.B, ops float64, q, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tq, tf float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := threadSeconds()
		q()
		t1 := threadSeconds()
		f()
		t2 := threadSeconds()
		tq += t1 - t0
		tf += t2 - t1
	}
	ops *= float64(b.N)
	b.ReportMetric(ops/tq/1e9, "int8-GOP/s")
	b.ReportMetric(ops/tf/1e9, "fp32-GFLOP/s")
	b.ReportMetric(tf/tq, "int8/fp32")
	b.ReportMetric(0, "ns/op") // two computations a loop: the rates above are the measure
}

// BenchmarkQConv is BenchmarkQGemm for whole convolution layers (NHWC,
// im2col gathered into the packed tiles, zero-point padding): QConv on
// QGemmFor(Best()) against ConvGemm on Gemm(Best()), one thread, in one
// loop.
func BenchmarkQConv(b *testing.B) {
	for _, cs := range convBenchCases(b) {
		p := cs.p
		b.Run(cs.name, func(b *testing.B) {
			r := testrand.New(21 << 8)
			nw := p.K * p.C * p.KH * p.KW
			scale := make([]float32, p.K)
			for o := range scale {
				scale[o] = 1e-4
			}
			qcv := NewQConv(p, QGemmFor(Best()), int8s(r, nw), make([]int32, p.K), 3, scale, QOut{ZeroPoint: -5, Lo: -5, Hi: 127})
			qin := int8s(r, p.N*p.C*p.H*p.W)
			qout := make([]int8, p.N*p.K*p.OH*p.OW)
			qscratch := make([]byte, qcv.ScratchLen())

			fcv := NewConvGemm(p, Gemm(Best()), r.Floats(nw), make([]float32, p.K), Act{Kind: ActClamp, A: 0, B: 6})
			fin := r.Floats(p.N * p.C * p.H * p.W)
			fout := make([]float32, p.N*p.K*p.OH*p.OW)
			fscratch := make([]float32, fcv.ScratchLen())

			benchInt8VsFP32(b, 2*float64(p.OH*p.OW*p.K*p.C*p.KH*p.KW),
				func() { qcv.RunTasks(0, qcv.Tasks(), qin, qout, qscratch) },
				func() { fcv.RunTasks(0, fcv.Tasks(), fin, fout, fscratch) })
		})
	}
}

// BenchmarkQGemmMicro measures each int8 microkernel this machine runs on
// one full tile with k = 1024 (operands in L1/L2, as in a GEMM) and reports
// GOP/s; compare with BenchmarkGemmMicro.
func BenchmarkQGemmMicro(b *testing.B) {
	const k = 1024
	for _, kern := range QGemmKernels() {
		b.Run(kern.Name, func(b *testing.B) {
			r := testrand.New(18 << 8)
			l := kern.QLayout
			q := randomQCase(r, k, l.MR, l.NR, l.NR)
			pb := PackQB(l, k, l.NR, q.w, l.NR, false, q.za, q.bias, q.scale)
			ap := make([]byte, l.ALen(k))
			DenseQA{Data: q.a, LD: k}.PackQA(ap, l, 0, l.MR, k)
			c := make([]int8, l.MR*l.NR)
			cpu := startCPUTimer(b)
			for i := 0; i < b.N; i++ {
				kern.Fn(l.Groups(k), ap, pb.Data, c, l.NR, l.MR, l.NR, pb.Bias, pb.Scale, &q.out)
			}
			b.ReportMetric(2*float64(k*l.MR*l.NR)*float64(b.N)/cpu()/1e9, "GOP/cpu-s")
		})
	}
}
