package kernels

import (
	"syscall"
	"testing"
	"unsafe"
)

// guardedMem maps data pages between two inaccessible pages, so a kernel
// that reads or writes even one byte outside a slice placed flush against
// either end crashes the test instead of passing by luck.
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

// f32 returns n float32s flush against the end (atEnd) or the start of the
// mapped data.
func (g *guardedMem) f32(n int, atEnd bool) []float32 {
	all := unsafe.Slice((*float32)(unsafe.Pointer(&g.data[0])), len(g.data)/4)
	if atEnd {
		return all[len(all)-n:]
	}
	return all[:n:n]
}

func (g *guardedMem) i8(n int, atEnd bool) []int8 {
	all := unsafe.Slice((*int8)(unsafe.Pointer(&g.data[0])), len(g.data))
	if atEnd {
		return all[len(all)-n:]
	}
	return all[:n:n]
}

func TestDotPageGuards(t *testing.T) {
	for _, tier := range Available() {
		restore := SetDotTier(tier)
		for _, dim := range []int{1, 3, 15, 16, 17, 31, 63, 64, 65, 127, 129, 200} {
			for _, atEnd := range []bool{true, false} {
				const n = 3
				q := newGuardedMem(t, dim*4).f32(dim, atEnd)
				rows := newGuardedMem(t, n*dim*4).f32(n*dim, atEnd)
				out := newGuardedMem(t, n*4).f32(n, atEnd)
				q8 := newGuardedMem(t, dim).i8(dim, atEnd)
				rows8 := newGuardedMem(t, n*dim).i8(n*dim, atEnd)
				out8 := make([]int32, n)
				for i := range rows {
					rows[i] = float32(i%7) - 3
					rows8[i] = int8(i*37 + 5)
				}
				for i := range q {
					q[i] = 0.5
					q8[i] = int8(i*11 - 3)
				}
				DotRows(q, rows, dim, n, out)
				L2Rows(q, rows, dim, n, out)
				DotRowsInt8(q8, rows8, dim, n, out8)
				want8 := make([]int32, n)
				dotRowsInt8Generic(q8, rows8, dim, n, want8)
				for i := range want8 {
					if out8[i] != want8[i] {
						t.Fatalf("%v dim=%d: int8 out[%d]=%d, want %d", tier, dim, i, out8[i], want8[i])
					}
				}
			}
		}
		restore()
	}
}

func TestGemmPageGuards(t *testing.T) {
	for _, tier := range Available() {
		kern := Gemm(tier)
		epi := Epilogue{Kind: EpiSiLU}
		for _, k := range []int{1, 5, 17} {
			for _, shape := range [][2]int{{kern.MR, kern.NR}, {1, 1}, {kern.MR - 1, kern.NR - 1}, {kern.MR, 1}, {1, kern.NR}, {2, kern.NR/2 + 1}} {
				mr, nr := shape[0], shape[1]
				for _, atEnd := range []bool{true, false} {
					a := newGuardedMem(t, k*kern.MR*4).f32(k*kern.MR, atEnd)
					b := newGuardedMem(t, k*kern.NR*4).f32(k*kern.NR, atEnd)
					bias := newGuardedMem(t, nr*4).f32(nr, atEnd)
					ldc := nr + 2
					size := (mr-1)*ldc + nr
					c := newGuardedMem(t, size*4).f32(size, atEnd)
					want := make([]float32, size)
					for _, acc := range []bool{false, true} {
						kern.Fn(k, a, b, c, ldc, mr, nr, bias, &epi, acc, true)
						GemmRef(kern.MR, kern.NR, k, a, b, want, ldc, mr, nr, bias, &epi, acc, true)
					}
				}
			}
		}
	}
}
