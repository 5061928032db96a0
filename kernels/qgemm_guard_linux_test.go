package kernels

import (
	"testing"
	"unsafe"

	"github.com/signet-go/signet/internal/testrand"
)

// pageGuardedBytes returns n bytes flush against the end (atEnd) or the
// start of a freshly mapped region between inaccessible pages.
func pageGuardedBytes(t *testing.T, n int, atEnd bool) []byte {
	t.Helper()
	g := newGuardedMem(t, n)
	if atEnd {
		return g.data[len(g.data)-n:]
	}
	return g.data[:n:n]
}

// TestQGemmPageGuards runs every int8 microkernel with each operand
// (packed A and B, bias, scale, C) flush against an inaccessible page, so
// that a read or write even one byte outside them crashes.
func TestQGemmPageGuards(t *testing.T) {
	for _, kern := range QGemmKernels() {
		t.Run(kern.Name, func(t *testing.T) {
			r := testrand.New(16 << 8)
			l := kern.QLayout
			for _, k := range []int{1, 2, 3, 4, 5, 9, 17} {
				for _, shape := range [][2]int{{l.MR, l.NR}, {1, 1}, {l.MR - 1, l.NR - 1}, {l.MR, 1}, {1, l.NR}} {
					mr, nr := shape[0], shape[1]
					for _, atEnd := range []bool{true, false} {
						q := randomQCase(r, k, mr, nr, nr)
						pb := PackQB(l, k, nr, q.w, nr, false, q.za, q.bias, q.scale)
						a := pageGuardedBytes(t, l.ALen(k), atEnd)
						DenseQA{Data: q.a, LD: k}.PackQA(a, l, 0, mr, k)
						b := pageGuardedBytes(t, l.BLen(k), atEnd)
						copy(b, pb.Data)
						bias := unsafe.Slice((*int32)(unsafe.Pointer(&pageGuardedBytes(t, 4*l.NR, atEnd)[0])), l.NR)
						copy(bias, pb.Bias)
						scale := unsafe.Slice((*float32)(unsafe.Pointer(&pageGuardedBytes(t, 4*l.NR, atEnd)[0])), l.NR)
						copy(scale, pb.Scale)
						n := (mr-1)*nr + nr
						c := unsafe.Slice((*int8)(unsafe.Pointer(&pageGuardedBytes(t, n, atEnd)[0])), n)
						kern.Fn(l.Groups(k), a, b, c, nr, mr, nr, bias, scale, &q.out)
						want := q.want()
						for i := range want {
							if c[i] != want[i] {
								t.Fatalf("%s k=%d mr=%d nr=%d: c[%d] = %d, twin %d", kern.Name, k, mr, nr, i, c[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}
