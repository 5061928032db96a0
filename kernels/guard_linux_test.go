package kernels

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/signet-go/signet/internal/testrand"
)

// Page-guard tests: every family's kernels with inputs and outputs flush
// against an inaccessible page on either side, so a kernel that reads or
// writes even one element past a slice (a tail mask or loop bound off by
// one, a rewind gone wrong) crashes the test instead of passing by luck.

// guardedMem maps data pages between two inaccessible pages.
type guardedMem struct {
	mem  []byte
	data []byte
}

func newGuardedMem(t *testing.T, bytes int) *guardedMem {
	t.Helper()
	ps := syscall.Getpagesize()
	n := (bytes + ps - 1) / ps * ps
	if n == 0 {
		n = ps
	}
	mem, err := syscall.Mmap(-1, 0, n+2*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	if err := syscall.Mprotect(mem[:ps], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[ps+n:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return &guardedMem{mem: mem, data: mem[ps : ps+n]}
}

// pageGuarded returns n float32s flush against the end (atEnd) or the start
// of a freshly mapped guarded region.
func pageGuarded(t *testing.T, n int, atEnd bool) []float32 {
	t.Helper()
	g := newGuardedMem(t, n*4)
	all := unsafe.Slice((*float32)(unsafe.Pointer(&g.data[0])), len(g.data)/4)
	if atEnd {
		return all[len(all)-n:]
	}
	return all[:n:n]
}

func TestDotPageGuards(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := DotFor(tier)
		for _, dim := range []int{1, 3, 15, 16, 17, 31, 63, 64, 65, 127, 129, 200} {
			for _, atEnd := range []bool{true, false} {
				const n = 3
				q := pageGuarded(t, dim, atEnd)
				rows := pageGuarded(t, n*dim, atEnd)
				out := pageGuarded(t, n, atEnd)
				for i := range rows {
					rows[i] = float32(i%7) - 3
				}
				for i := range q {
					q[i] = 0.5
				}
				want := make([]float32, n)
				d.Rows(q, rows, dim, n, out)
				dotRowsGeneric(q, rows, dim, n, want)
				for i := range want {
					if out[i] != want[i] { // small integers and halves: exact on every tier
						t.Fatalf("%v dim=%d: out[%d]=%v, want %v", tier, dim, i, out[i], want[i])
					}
				}
			}
		}
	})
}

func TestDot8PageGuards(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := Dot8For(tier)
		for _, dim := range []int{1, 3, 15, 16, 17, 31, 32, 33, 63, 127, 128, 129, 200} {
			for _, c := range []struct {
				n     int
				atEnd bool
			}{{3, true}, {3, false}, {4, true}, {5, false}, {9, true}} {
				n, atEnd := c.n, c.atEnd
				gq, gr := newGuardedMem(t, dim), newGuardedMem(t, n*dim)
				q, rows := int8Flush(gq, dim, atEnd), int8Flush(gr, n*dim, atEnd)
				for i := range rows {
					rows[i] = int8(i%251 - 125)
				}
				for i := range q {
					q[i] = int8(i%7 - 3)
				}
				out32 := pageGuarded(t, n, atEnd)
				out := unsafe.Slice((*int32)(unsafe.Pointer(&out32[0])), n)
				want := make([]int32, n)
				d.Rows(q, rows, dim, n, out)
				dot8RowsGeneric(q, rows, dim, n, want)
				for i := range want {
					if out[i] != want[i] {
						t.Fatalf("%v dim=%d: out[%d]=%d, want %d", tier, dim, i, out[i], want[i])
					}
				}
			}
		}
	})
}

// int8Flush returns n int8s of g flush against its end (atEnd) or start.
func int8Flush(g *guardedMem, n int, atEnd bool) []int8 {
	all := unsafe.Slice((*int8)(unsafe.Pointer(&g.data[0])), len(g.data))
	if atEnd {
		return all[len(all)-n:]
	}
	return all[:n:n]
}

func TestGemmPageGuards(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		kern := Gemm(tier)
		epi := Epilogue{Kind: EpiSiLU}
		for _, k := range []int{1, 5, 17} {
			for _, shape := range [][2]int{{kern.MR, kern.NR}, {1, 1}, {kern.MR - 1, kern.NR - 1}, {kern.MR, 1}, {1, kern.NR}, {2, kern.NR/2 + 1}} {
				mr, nr := shape[0], shape[1]
				for _, atEnd := range []bool{true, false} {
					a := pageGuarded(t, k*kern.MR, atEnd)
					b := pageGuarded(t, k*kern.NR, atEnd)
					bias := pageGuarded(t, nr, atEnd)
					ldc := nr + 2
					size := (mr-1)*ldc + nr
					c := pageGuarded(t, size, atEnd)
					want := make([]float32, size)
					for _, acc := range []bool{false, true} {
						kern.Fn(k, a, b, c, ldc, mr, nr, bias, &epi, acc, true)
						GemmRef(kern.MR, kern.NR, k, a, b, want, ldc, mr, nr, bias, &epi, acc, true)
					}
				}
			}
		}
	})
}

func TestActPageGuards(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		el := ElemFor(tier)
		for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65, 100} {
			for _, atEnd := range []bool{true, false} {
				x := pageGuarded(t, n, atEnd)
				z := pageGuarded(t, n, atEnd)
				y := pageGuarded(t, n, atEnd)
				for i := range x {
					x[i] = float32(i%11) - 5
					z[i] = 0.25
				}
				for _, a := range actKinds {
					el.Apply(a, y, x)
				}
				el.Add(y, x, z)
				el.Mul(y, x, z)
				want := make([]float32, n)
				mulGeneric(want, x, z)
				for i := range want {
					if y[i] != want[i] {
						t.Fatalf("%v n=%d: mul [%d] = %v, want %v", tier, n, i, y[i], want[i])
					}
				}
			}
		}
	})
}

// TestDepthwisePageGuards: channel counts above 4 vectors take the pixel
// kernels' four-block path.
func TestDepthwisePageGuards(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		r := testrand.New(14<<8 | uint64(tier))
		for _, c := range []int{1, 3, 4, 7, 8, 15, 16, 17, 33, 40, 65, 72, 81} {
			for _, k := range []int{3, 5} {
				for _, s := range []int{1, 2} {
					for _, atEnd := range []bool{true, false} {
						p := ConvParams{N: 1, C: c, H: 6, W: 7, K: c, KH: k, KW: k, StrideH: s, StrideW: s, DilH: 1, DilW: 1,
							PadT: k / 2, PadL: k / 2, PadB: k / 2, PadR: k / 2, Group: c}
						p.Resolve()
						in := pageGuarded(t, p.H*p.W*c, atEnd)
						out := pageGuarded(t, p.OH*p.OW*c, atEnd)
						copy(in, r.Floats(len(in)))
						w, bias := r.Floats(c*k*k), r.Floats(c)
						d := NewDepthwiseTier(p, w, bias, Act{Kind: ActClamp, A: 0, B: 6}, tier)
						for task := 0; task < d.Tasks(); task++ {
							d.RunTask(task, in, out)
						}
						want := make([]float32, len(out))
						mag := make([]float64, len(out))
						dwRefNHWC(&p, in, w, bias, d.Act, want, mag)
						for i := range want {
							if diff := out[i] - want[i]; float64(max(diff, -diff)) > dwTol(mag[i]) {
								t.Fatalf("%s c=%d k=%d s=%d: out[%d]=%v want %v", d.Kernel(), c, k, s, i, out[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}
