//go:build !purego && (amd64 || arm64)

// The int8 GEMM microkernel wrappers shared by amd64 and arm64; the arch
// files declare the kernels and qgemmAsmRun.

package kernels

import "unsafe"

// qgemmAsmID names an assembly int8 GEMM microkernel for qgemmAsmRun, the
// arch file's switch, whose direct calls keep the edge path's scratch tile
// on the stack.
type qgemmAsmID uint8

// asmQGemm is an assembly int8 GEMM microkernel with its packing layout. A
// masked kernel stores only the columns of its bit mask; the others store
// all NR columns, so their edge tiles go through a scratch tile.
type asmQGemm struct {
	id     qgemmAsmID
	l      *QLayout
	masked bool
}

// qgemmScratchTile bounds MR·NR of the unmasked kernels (6x16, 8x12, 8x8).
const qgemmScratchTile = 96

// microkernel describes g for the registry. It is not inlined, so that
// the calls in the closure it returns are (see asmGemm.microkernel).
//
//go:noinline
func (g *asmQGemm) microkernel(name string, t Tier) QGemmMicrokernel {
	fn := func(kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut) {
		if mr <= 0 || nr <= 0 {
			return
		}
		checkQTile(g.l, kg, a, b, c, ldc, mr, nr, bias, scale)
		if nr < g.l.NR && !g.masked {
			// Edge tile: run the kernel on a scratch tile and copy the
			// valid nr columns out.
			var tile [qgemmScratchTile]int8
			qgemmAsmRun(g, kg, bytePtr(a), bytePtr(b), &tile[0], g.l.NR, mr, g.l.NR, &bias[0], &scale[0], out)
			for i := 0; i < mr; i++ {
				copy(c[i*ldc:i*ldc+nr], tile[i*g.l.NR:i*g.l.NR+nr])
			}
			return
		}
		qgemmAsmRun(g, kg, bytePtr(a), bytePtr(b), &c[0], ldc, mr, nr, &bias[0], &scale[0], out)
	}
	return QGemmMicrokernel{Name: name, Tier: t, QLayout: *g.l, Fn: fn}
}

// checkQTile panics, as slice indexing would, when the slices are too
// short for the tile the assembly is about to touch.
func checkQTile(l *QLayout, kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32) {
	if mr > l.MR || nr > l.NR || kg < 0 || ldc < nr {
		panic("kernels: int8 GEMM tile arguments out of range")
	}
	_ = a[:kg*l.MR*l.KR*l.esize()]
	_ = b[:kg*l.NR*l.KR*l.esize()]
	_ = c[:(mr-1)*ldc+nr]
	_ = bias[:l.NR]
	_ = scale[:l.NR]
}

func bytePtr(s []byte) *byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}
