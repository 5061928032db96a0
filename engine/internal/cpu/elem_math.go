package cpu

import (
	"math"

	"github.com/signet-go/signet/engine/internal/backend"
)

// The binary ops beyond + - * / (backend.BinMax, BinMin, BinPow, BinPRelu)
// on Go loops: each element is computed the same way whatever the loop, so
// the strided, contiguous and broadcast-scalar paths give the same bits
// (Max and Min as Go's max and min: NaN if either operand is; Pow as
// float32(math.Pow) in float64; PRelu as x < 0 ? x·slope : x).

// binCommutes reports whether a op b = b op a bit for bit, so the planner's
// operands may be swapped to put the broadcast one second.
func binCommutes(op byte) bool {
	return op == '+' || op == '*' || op == backend.BinMax || op == backend.BinMin
}

func binMath(op byte, x, z float32) float32 {
	switch op {
	case backend.BinMax:
		return max(x, z)
	case backend.BinMin:
		return min(x, z)
	case backend.BinPow:
		return float32(math.Pow(float64(x), float64(z)))
	case backend.BinPRelu:
		if x < 0 {
			return x * z
		}
		return x
	}
	panic("cpu: unknown binary op " + string(op))
}

func binMathContig(op byte, y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	switch op {
	case backend.BinMax:
		for i := range y {
			y[i] = max(a[i], b[i])
		}
	case backend.BinMin:
		for i := range y {
			y[i] = min(a[i], b[i])
		}
	case backend.BinPRelu:
		for i := range y {
			v := a[i]
			if v < 0 {
				v *= b[i]
			}
			y[i] = v
		}
	default:
		for i := range y {
			y[i] = binMath(op, a[i], b[i])
		}
	}
}

func binMathScalarB(op byte, y, a []float32, z float32) {
	a = a[:len(y)]
	switch op {
	case backend.BinMax:
		for i := range y {
			y[i] = max(a[i], z)
		}
	case backend.BinMin:
		for i := range y {
			y[i] = min(a[i], z)
		}
	case backend.BinPRelu:
		for i := range y {
			v := a[i]
			if v < 0 {
				v *= z
			}
			y[i] = v
		}
	default:
		for i := range y {
			y[i] = binMath(op, a[i], z)
		}
	}
}
