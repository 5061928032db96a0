package shape

// Window and broadcast arithmetic shared by the converter, the engine's
// planner and the reference, so the three cannot disagree on an output size.

// Int is the integer type shapes come in: int in the engine, int64 in model
// files and the converter.
type Int interface{ ~int | ~int64 }

// SamePad returns the padding before and after one spatial axis that makes
// the output ceil(in/stride) long, as ONNX auto_pad SAME_UPPER (lower false:
// the odd element goes at the end) or SAME_LOWER (lower true: at the
// beginning) asks. An empty axis or a stride, dilation or k below 1 gets no padding;
// sizes beyond 2⁶² saturate instead of wrapping.
func SamePad[T Int](in, k, stride, dil T, lower bool) (before, after T) {
	if stride < 1 || dil < 1 || k < 1 || in < 1 {
		return 0, 0
	}
	out := int64(in)/int64(stride) + b2i(int64(in)%int64(stride) != 0)
	need := AddSat(AddSat(MulSat(out-1, int64(stride)), MulSat(int64(k)-1, int64(dil))), 1)
	total := max(0, need-int64(in))
	small, big := total/2, total-total/2
	if lower {
		return T(big), T(small)
	}
	return T(small), T(big)
}

// PoolOut returns the output length of a convolution or pooling window of
// size k, stride, dilation dil and padding padBefore/padAfter over an axis
// of length in; ceil rounds up as ONNX ceil_mode=1 does, dropping a last
// window that would start inside the end padding. ok is false when the
// dilated window does not fit the padded axis, when an argument is out of
// range, or when the result would exceed 2⁶².
func PoolOut[T Int](in, k, stride, dil, padBefore, padAfter T, ceil bool) (out T, ok bool) {
	if in < 0 || k < 1 || stride < 1 || dil < 1 || padBefore < 0 || padAfter < 0 {
		return 0, false
	}
	ek := AddSat(MulSat(int64(k)-1, int64(dil)), 1)
	padded := AddSat(AddSat(int64(in), int64(padBefore)), int64(padAfter))
	if ek >= 1<<62 || padded >= 1<<62 {
		return 0, false
	}
	span := padded - ek
	if span < 0 {
		return 0, false
	}
	s := int64(stride)
	if !ceil {
		return T(span/s + 1), true
	}
	o := (span+s-1)/s + 1
	if (o-1)*s >= int64(in)+int64(padBefore) {
		o--
	}
	return T(o), true
}

// Broadcast returns the multidirectional (numpy) broadcast of shapes a and
// b, aligned at their last axes. A negative dimension is unknown: against 1
// it stays unknown, against a known size it takes that size. ok is false
// when two known sizes differ and neither is 1.
func Broadcast[T Int](a, b []T) (out []T, ok bool) {
	r := max(len(a), len(b))
	out = make([]T, r)
	for i := 0; i < r; i++ {
		da, db := T(1), T(1)
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da < 0:
			out[i] = db
		case db < 0:
			out[i] = da
		default:
			return nil, false
		}
	}
	return out, true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
