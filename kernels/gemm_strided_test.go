package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// TestGemmTiersStridedA checks each tier's in-place-A entry (FnA) against
// its packed entry (Fn) on the same values: the results must agree bit for
// bit, and nothing outside the tile may be written. A is read from one
// buffer in several layouts: rows apart or overlapping (as neighbouring
// im2col rows do), in one segment or several; the buffer ends exactly where
// the last read must, followed by NaN, so a read too far poisons the result.
func TestGemmTiersStridedA(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		kern := Gemm(tier)
		if kern.FnA == nil {
			t.Skipf("%s has no in-place A entry", kern.Name)
		}
		MR, NR := kern.MR, kern.NR
		rng := testrand.New(7<<8 | uint64(tier))
		cases := gemmCases()
		n := 0
		for ki, seg := range gemmKs {
			for li, layout := range [][3]int{{0, 1, 0}, {5, 1, 0}, {-1, 1, 0}, {0, 3, 1}, {3, 2, 7}, {-1, 4, 2}} {
				nseg := layout[1]
				lda := seg + layout[0]
				if layout[0] < 0 {
					lda = max(1, seg/3) // rows overlap
				}
				sstride := MR*lda + layout[2]
				if layout[0] < 0 {
					sstride = seg + layout[2]
				}
				if nseg == 1 {
					sstride = 0
				}
				end := (MR-1)*lda + (nseg-1)*sstride + seg
				buf := make([]float32, end+16)
				for i := range buf {
					buf[i] = rng.Float32()*2 - 1
				}
				for i := end; i < len(buf); i++ {
					buf[i] = float32(math.NaN())
				}
				ia := InPlaceA{Data: buf[:end], LD: lda, Seg: seg, NSeg: nseg, SegStride: sstride}
				k := seg * nseg
				packed := make([]float32, k*MR)
				for i := 0; i < MR; i++ {
					for q := 0; q < nseg; q++ {
						for p := 0; p < seg; p++ {
							packed[(q*seg+p)*MR+i] = buf[i*lda+q*sstride+p]
						}
					}
				}
				b := make([]float32, k*NR)
				for i := range b {
					b[i] = rng.Float32()*2 - 1
				}
				for nr := 1; nr <= NR; nr++ {
					g := cases[(nr*7+ki+li)%len(cases)]
					ldc := nr + (ki+li)%3
					var bias []float32
					if g.bias {
						bias = make([]float32, nr)
						for j := range bias {
							bias[j] = rng.Float32()*4 - 2
						}
					}
					t1, c1 := guarded(MR * ldc)
					for i := 0; i < MR; i++ {
						for j := 0; j < nr; j++ {
							t1[i*ldc+j] = rng.Float32()*4 - 2
						}
					}
					c2 := append([]float32(nil), c1...)
					t2 := c2[guardLen : guardLen+MR*ldc]
					cend := (MR-1)*ldc + nr
					epi := g.epi
					kern.Fn(k, packed, b, t1[:cend:cend], ldc, MR, nr, bias, &epi, g.accumulate, g.final)
					kern.FnA(ia, b, t2[:cend:cend], ldc, nr, bias, &epi, g.accumulate, g.final)
					checkGuards(t, c1, MR*ldc)
					for i := range c1 {
						if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
							t.Fatalf("%s LD=%d Seg=%d NSeg=%d SegStride=%d nr=%d ldc=%d %v: element %d is %v in place, %v packed",
								kern.Name, lda, seg, nseg, sstride, nr, ldc, g, i-guardLen, c2[i], c1[i])
						}
					}
					n++
				}
			}
		}
		t.Logf("%s: %d in-place tiles checked", kern.Name, n)
	})
}

// convInPlaceCases have output rows wide enough for whole microkernel tiles
// inside the input, so the driver reads A in place for some tiles and packs
// the rest (borders, tiles crossing output rows, partial tiles).
var convInPlaceCases = []ConvParams{
	{N: 1, C: 16, H: 5, W: 40, K: 40, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1},
	{N: 2, C: 32, H: 5, W: 61, K: 33, KH: 3, KW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1},
	{N: 1, C: 64, H: 4, W: 45, K: 18, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 2},
	{N: 1, C: 48, H: 3, W: 50, K: 20, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, Group: 1},
	{N: 1, C: 36, H: 6, W: 50, K: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 2, DilW: 2, PadT: 2, PadL: 2, PadB: 2, PadR: 2, Group: 1},
	{N: 1, C: 400, H: 3, W: 30, K: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 1},
	{N: 1, C: 20, H: 30, W: 30, K: 35, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1},
	{N: 1, C: 3, H: 20, W: 60, K: 20, KH: 7, KW: 7, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, PadT: 3, PadL: 3, PadB: 3, PadR: 3, Group: 1},
	{N: 1, C: 8, H: 12, W: 40, K: 9, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 2, DilW: 1, PadT: 2, PadL: 1, PadB: 2, PadR: 1, Group: 1},
}

// TestConvGemmInPlace runs convolutions whose tiles are partly read in
// place against the reference, and against the same microkernel with
// in-place reading disabled: the two must agree bit for bit.
func TestConvGemmInPlace(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		r := testrand.New(9<<8 | uint64(tier))
		rs := r.Floats
		mk := Gemm(tier)
		if mk.FnA == nil {
			t.Skipf("%s has no in-place A entry", mk.Name)
		}
		packOnly := mk
		packOnly.FnA = nil
		for ci, p := range convInPlaceCases {
			if !p.Resolve() {
				t.Fatalf("case %d does not resolve", ci)
			}
			x := rs(p.N * p.C * p.H * p.W)
			w := rs(p.K * (p.C / p.Group) * p.KH * p.KW)
			bias := rs(p.K)
			want := make([]float32, p.N*p.K*p.OH*p.OW)
			Conv2DRef(&p, x, w, bias, want)
			in := nchwToNHWC(x, p.N, p.C, p.H, p.W)
			act := Act{Kind: ActClamp, A: 0, B: 6}
			var outs [2][]float32
			for v, k := range []GemmMicrokernel{mk, packOnly} {
				cv := NewConvGemm(p, k, w, bias, act)
				cv.SetSplit(2)
				out, whole := guarded(len(want))
				scratch := make([]float32, cv.ScratchLen())
				cv.RunTasks(0, cv.Tasks(), in, out, scratch)
				checkGuards(t, whole, len(want))
				outs[v] = out
			}
			// The case must exercise both paths.
			cv := NewConvGemm(p, mk, w, bias, act)
			direct, packed := 0, 0
			for g := 0; g < p.Group; g++ {
				op := &cv.Group[g]
				for mt := 0; mt < op.Tiles(); mt++ {
					for k0 := 0; k0 < op.B.K; k0 += op.kc() {
						ok := false
						if (mt+1)*mk.MR <= op.M {
							if cv.Pointwise() {
								_, ok = DenseA{Data: in[g*cv.Cgrp:], LD: p.C}.InPlace(mk.MR, mt*mk.MR, k0, min(op.B.K, k0+op.kc()))
							} else {
								_, ok = convA{p: &cv.P, in: in, c0: g * cv.Cgrp, cg: cv.Cgrp, seg: cv.segment(), zeros: cv.zeros}.InPlace(mk.MR, mt*mk.MR, k0, min(op.B.K, k0+op.kc()))
							}
						}
						if ok {
							direct++
						} else {
							packed++
						}
					}
				}
			}
			if direct == 0 || (packed == 0 && !cv.Pointwise()) {
				t.Errorf("%s case %d: %d blocks in place, %d packed: does not exercise both paths", mk.Name, ci, direct, packed)
			}
			for i := range outs[0] {
				if math.Float32bits(outs[0][i]) != math.Float32bits(outs[1][i]) {
					t.Fatalf("%s case %d: element %d is %v in place, %v packed", mk.Name, ci, i, outs[0][i], outs[1][i])
				}
			}
			wa := make([]float32, len(want))
			act.ApplySlice(wa, want)
			compareRel(t, fmt.Sprintf("%s in-place conv case %d", mk.Name, ci), nhwcToNCHW(outs[0], p.N, p.K, p.OH, p.OW), wa, 1e-5)
		}
	})
}

// TestConvGemmAllocs checks that running a convolution allocates nothing,
// whichever packing paths (in place, border rows, taps) its tiles take.
func TestConvGemmAllocs(t *testing.T) {
	cases := append(append([]ConvParams(nil), convInPlaceCases...), convCases...)
	forEachTier(t, func(t *testing.T, tier Tier) {
		mk := Gemm(tier)
		for ci, p := range cases {
			if !p.Resolve() {
				t.Fatalf("case %d does not resolve", ci)
			}
			w := make([]float32, p.K*(p.C/p.Group)*p.KH*p.KW)
			in := make([]float32, p.N*p.C*p.H*p.W)
			out := make([]float32, p.N*p.K*p.OH*p.OW)
			cv := NewConvGemm(p, mk, w, nil, Act{})
			scratch := make([]float32, cv.ScratchLen())
			if n := testing.AllocsPerRun(3, func() { cv.RunTasks(0, cv.Tasks(), in, out, scratch) }); n != 0 {
				t.Errorf("%s case %d: %v allocations per run", mk.Name, ci, n)
			}
		}
	})
}
