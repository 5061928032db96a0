//go:build !purego && (amd64 || arm64)

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
