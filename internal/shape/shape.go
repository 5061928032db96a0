// Package shape holds the tensor-shape arithmetic that must never overflow:
// element counts checked against a limit, saturating work counts, and ONNX
// Slice lengths for any int64 starts, ends and steps, SAME padding,
// convolution and pooling output sizes, and broadcasting. Every planner that
// sizes memory from a model's declared shapes goes through it, so a shape
// such as 1×3×2³²×2³² is refused instead of wrapping around to a small
// number.
package shape

import (
	"math"
	"math/bits"
)

// Prod returns the product of dims and true when every dim is non-negative
// and the product (and every partial product) is at most limit. It returns
// false, never a wrapped value, when it is not.
func Prod(dims []int, limit int) (int, bool) { return prod(dims, limit) }

// Prod64 is Prod for int64 dimensions.
func Prod64(dims []int64, limit int64) (int64, bool) { return prod(dims, limit) }

func prod[T int | int64](dims []T, limit T) (T, bool) {
	n := T(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			// A zero anywhere makes the product 0, but later factors must
			// still be valid dimensions.
			n = 0
			continue
		}
		if n != 0 && n > limit/d {
			return 0, false
		}
		n *= d
	}
	if n > limit {
		return 0, false
	}
	return n, true
}

// MulSat returns a·b for non-negative a and b, or math.MaxInt64 when the
// product does not fit: work counts only need to be compared with a budget.
func MulSat(a int64, b ...int64) int64 {
	for _, x := range b {
		if a < 0 || x < 0 {
			return math.MaxInt64
		}
		hi, lo := bits.Mul64(uint64(a), uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			return math.MaxInt64
		}
		a = int64(lo)
	}
	return a
}

// AddSat returns a+b for non-negative a and b, or math.MaxInt64 on overflow.
func AddSat(a, b int64) int64 {
	if a < 0 || b < 0 || a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Slice returns the first index and the element count of ONNX Slice along
// one axis of length dim (dim ≥ 0) for any int64 start, end and step (step
// != 0): negative start and end count from the end, both are clamped to
// [0, dim] for a positive step and to [-1, dim-1] for a negative one, as
// the ONNX operator specifies. The count is computed without overflow, so a
// step of math.MaxInt64 gives 1 element, not 0.
func Slice(dim, start, end, step int64) (first, count int64) {
	if step == 0 || dim <= 0 {
		return 0, 0
	}
	if start < 0 {
		start += dim // start ≥ MinInt64 and dim > 0: no overflow
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		start = min(max(start, 0), dim)
		end = min(max(end, 0), dim)
		if end <= start {
			return start, 0
		}
		// (end-start-1)/step + 1 cannot overflow: end-start-1 < dim.
		return start, (end-start-1)/step + 1
	}
	start = min(max(start, 0), dim-1)
	end = min(max(end, -1), dim-1)
	if start <= end {
		return start, 0
	}
	// -step overflows for MinInt64; its magnitude fits in uint64.
	mag := uint64(-(step + 1)) + 1
	return start, int64(uint64(start-end-1)/mag) + 1
}
