//go:build !purego && (amd64 || arm64)

// The element-wise wrappers shared by amd64 and arm64: the arch files
// declare the kernels, unaryAsm and elemBinVec.

package kernels

import "math"

// actAsmKind reports whether the assembly handles the activation: not
// ActNone (copy does), and not a clamp with a NaN bound, where Go's min and
// max give NaN everywhere but the vector instructions would ignore it.
func actAsmKind(a Act) bool {
	switch a.Kind {
	case ActClamp:
		return !math.IsNaN(float64(a.A)) && !math.IsNaN(float64(a.B))
	case ActLeakyRelu, ActSigmoid, ActHardSigmoid, ActHardSwish, ActSiLU, actExp:
		return true
	}
	return false
}

// unaryAsmID names an unmasked unary assembly kernel for unaryAsm, the arch
// file's switch, whose direct calls keep vecUnary's buffer on the stack.
type unaryAsmID uint8

// vecUnary runs an unmasked unary kernel of lanes lanes (4 or 8) over
// src into dst: whole vectors, then the tail through a buffer, so tail
// elements get exactly the bits the vector loop would give them.
func vecUnary(id unaryAsmID, lanes int, kind uint32, a, b float32, dst, src []float32) {
	n := len(dst)
	body := n &^ (lanes - 1)
	if body > 0 {
		unaryAsm(id, kind, a, b, &dst[0], &src[0], body)
	}
	if body < n {
		var buf [8]float32
		t := copy(buf[:], src[body:n])
		unaryAsm(id, kind, a, b, &buf[0], &buf[0], lanes)
		copy(dst[body:n], buf[:t])
	}
}

// elemVec is an add or mul (op) on the arch's unmasked kernel elemBinVec,
// whole vectors of elemVecLanes, and the Go loop for the tail.
func elemVec(op uint32, dst, a, b []float32) {
	body := len(dst) &^ (elemVecLanes - 1)
	if body > 0 {
		elemBinVec(op, &dst[0], &a[0], &b[0], body)
	}
	if op == elemAdd {
		addGeneric(dst[body:], a[body:], b[body:])
	} else {
		mulGeneric(dst[body:], a[body:], b[body:])
	}
}

func addVec(dst, a, b []float32) { elemVec(elemAdd, dst, a, b) }
func mulVec(dst, a, b []float32) { elemVec(elemMul, dst, a, b) }
