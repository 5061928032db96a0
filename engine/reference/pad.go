package reference

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/model"
)

// pad: y is x with pads[d] elements added before dim d and pads[r+d] after
// it (a negative pad removes elements), the new elements being value
// (mode "constant", value default 0), the nearest element of x (mode
// "edge"), or x reflected about its first and last element without
// repeating them (mode "reflect", as numpy.pad; along a dim of 1 element
// every pad repeats it).
func pad(nd *node) error {
	mode := nd.attrString("mode", "constant")
	pads := nd.attrInts("pads")
	value := nd.attrFloat("value", 0)
	switch mode {
	case "constant", "edge", "reflect":
	default:
		nd.fail("%w: mode %q", ErrUnsupported, mode)
	}
	if mode != "constant" {
		if _, ok := nd.attr("value", model.AttrFloat); ok {
			nd.fail("%w: value with mode %q", ErrUnsupported, mode)
		}
	}
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	r := len(x.shape)
	if len(pads) != 2*r {
		return fmt.Errorf("%w: %d pads for rank %d", ErrShape, len(pads), r)
	}
	oshape := make([]int, r)
	for d := range oshape {
		n := int64(x.shape[d]) + pads[d] + pads[r+d]
		if pads[d] > math.MaxInt32 || pads[d] < -math.MaxInt32 || pads[r+d] > math.MaxInt32 || pads[r+d] < -math.MaxInt32 || n < 1 {
			return fmt.Errorf("%w: pads %v for shape %v leave dim %d with %d elements", ErrShape, pads, x.shape, d, n)
		}
		oshape[d] = int(n)
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	if err := nd.work(int64(len(y)), int64(r)); err != nil {
		return err
	}
	xs := strides(x.shape)
	idx := make([]int, r)
	for i := range y {
		j, inside := 0, true
		for d, o := range idx {
			s := o - int(pads[d])
			n := x.shape[d]
			if s < 0 || s >= n {
				switch mode {
				case "constant":
					inside = false
				case "edge":
					s = min(max(s, 0), n-1)
				case "reflect":
					s = reflect(s, n)
				}
			}
			j += s * xs[d]
		}
		if inside {
			y[i] = x.f[j]
		} else {
			y[i] = value
		}
		next(idx, oshape)
	}
	return nil
}

// reflect maps index s onto [0, n) by reflecting about 0 and n-1 as often
// as needed (period 2(n-1)); n == 1 maps everything to 0.
func reflect(s, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	s %= p
	if s < 0 {
		s += p
	}
	if s >= n {
		s = p - s
	}
	return s
}
