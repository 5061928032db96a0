package onnx

import (
	"fmt"

	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Size limits and the shape arithmetic that must never overflow. The
// converter runs on untrusted files, so every product of dimensions is
// checked before it is used, and every shape it records stays within these
// limits; a shape such as 1×3×2³²×2³² is refused instead of wrapping around.
// The arithmetic itself (products, sums, Slice lengths, SAME padding, window
// sizes, broadcasting) is internal/shape's, shared with the engine and the
// reference.

// maxElements bounds the element count of any tensor or shape, so that
// products and strides never overflow and sizes fit an int on every
// platform. Tensors read from the file are further bounded by the bytes
// present.
const maxElements = 1<<31 - 1

// maxRank bounds the rank of every tensor and shape the converter handles:
// the native format stores at most model.MaxRank dimensions, and the bound
// keeps the work per node constant when many nodes share one value.
const maxRank = model.MaxRank

// maxFoldBytes is the budget of constant folding: the bytes all folded
// tensors of one conversion may allocate (4 per float element, 8 per
// integer element, plus 8 per element for each index table a fold gathers
// through), on top of 8 bytes per byte of the ONNX file, so that models
// which transpose or cast their own weights still fold. A fold that would
// exceed it is refused with ErrTooLarge before anything is allocated, so a
// tiny file cannot make the converter allocate a huge tensor.
const maxFoldBytes = 256 << 20

// knownElems multiplies the dims of d that are known (≥ 0), skipping
// unknown (-1) ones. It reports false when that product, or the product of
// the non-zero dims, exceeds maxElements: a zero dimension does not excuse
// the others, whose strides would still overflow.
func knownElems(d []int64) (int64, bool) {
	p, zero := int64(1), false
	for _, v := range d {
		switch {
		case v < 0:
			continue
		case v == 0:
			zero = true
			continue
		}
		if p = shape.MulSat(p, v); p > maxElements {
			return 0, false
		}
	}
	if zero {
		return 0, true
	}
	return p, true
}

// sizeError is a refusal by the size checks: kind is the sentinel, msg says
// what was refused (callers add the node or value it belongs to).
type sizeError struct {
	kind error
	msg  string
}

func (e *sizeError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *sizeError) Unwrap() error { return e.kind }

func sizeErr(kind error, format string, a ...any) error {
	return &sizeError{kind, fmt.Sprintf(format, a...)}
}

// checkShape checks a shape of a value the model takes or computes (-1 is
// an unknown dimension): rank at most maxRank, no dimension of size 0, and
// at most maxElements elements counting the known dimensions.
func checkShape(s []int64) error {
	if len(s) > maxRank {
		return sizeErr(ErrTooLarge, "shape of rank %d (limit %d)", len(s), maxRank)
	}
	for _, d := range s {
		switch {
		case d == 0:
			return sizeErr(ErrZeroSize, "shape %v has a dimension of size 0", s)
		case d < -1:
			return sizeErr(ErrMalformed, "shape %v has a negative dimension", s)
		}
	}
	if _, ok := knownElems(s); !ok {
		return sizeErr(ErrTooLarge, "shape %v has more than %d elements", s, maxElements)
	}
	return nil
}
