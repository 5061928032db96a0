package reference

import (
	"fmt"
	"math"
)

// Reductions and normalisations; all of them accumulate in float64.

// reduceMean: the mean over axes (default all; with noop_with_empty_axes=1
// and no axes, a copy), the reduced axes kept as 1 unless keepdims=0.
func reduceMean(nd *node) error {
	return reduce(nd, func(s float64, n int) float32 { return float32(s / float64(n)) }, false)
}

// reduceL2: √(Σ x²) over axes, as reduceMean.
func reduceL2(nd *node) error {
	return reduce(nd, func(s float64, _ int) float32 { return float32(math.Sqrt(s)) }, true)
}

// reduceSum: Σ x over axes, as reduceMean.
func reduceSum(nd *node) error {
	return reduce(nd, func(s float64, _ int) float32 { return float32(s) }, false)
}

// reduceMax and reduceMin: the largest (smallest) element over axes, as
// reduceMean; a NaN anywhere in the reduced elements gives NaN.
func reduceMax(nd *node) error { return reduceWith(nd, extreme(true), math.Inf(-1), nil, false) }

func reduceMin(nd *node) error { return reduceWith(nd, extreme(false), math.Inf(1), nil, false) }

func extreme(isMax bool) func(s, v float64) float64 {
	return func(s, v float64) float64 {
		switch {
		case s != s:
			return s
		case v != v, isMax && v > s, !isMax && v < s:
			return v
		}
		return s
	}
}

// reduce sums x (squared if sq) over the reduced axes in row-major order, in
// float64, and writes fin(sum, count) for each kept position.
func reduce(nd *node, fin func(s float64, n int) float32, sq bool) error {
	return reduceWith(nd, func(s, v float64) float64 { return s + v }, 0, fin, sq)
}

// reduceWith folds step over the reduced elements of x (squared if sq), in
// row-major order from init, in float64, and writes fin(result, count) (the
// result rounded to float32 when fin is nil) for each kept position.
func reduceWith(nd *node, step func(s, v float64) float64, init float64, fin func(s float64, n int) float32, sq bool) error {
	keep := nd.attrFlag("keepdims", true)
	axes := nd.attrInts("axes")
	noop := nd.attrFlag("noop_with_empty_axes", false)
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return err
	}
	x := in[0]
	r := len(x.shape)
	red := make([]bool, r)
	if axes == nil {
		if noop {
			return copyAs(nd, x, x.shape)
		}
		for d := range red {
			red[d] = true
		}
	}
	for _, ax := range axes {
		a, err := axis(ax, r)
		if err != nil {
			return err
		}
		red[a] = true
	}
	xs := strides(x.shape)
	var oshape, kdims, kst, rdims, rst []int
	for d := 0; d < r; d++ {
		if red[d] {
			rdims, rst = append(rdims, x.shape[d]), append(rst, xs[d])
			if keep {
				oshape = append(oshape, 1)
			}
		} else {
			kdims, kst = append(kdims, x.shape[d]), append(kst, xs[d])
			oshape = append(oshape, x.shape[d])
		}
	}
	count := product(rdims)
	if count == 0 {
		return fmt.Errorf("%w: reduction over an empty axis of %v", ErrUnsupported, x.shape)
	}
	if err := nd.work(int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, oshape)
	if err != nil {
		return err
	}
	kidx, ridx := make([]int, len(kdims)), make([]int, len(rdims))
	for j := range y {
		base := 0
		for d := range kidx {
			base += kidx[d] * kst[d]
		}
		s := init
		for range count {
			o := base
			for d := range ridx {
				o += ridx[d] * rst[d]
			}
			v := float64(x.f[o])
			if sq {
				v *= v
			}
			s = step(s, v)
			next(ridx, rdims)
		}
		if fin != nil {
			y[j] = fin(s, count)
		} else {
			y[j] = float32(s)
		}
		next(kidx, kdims)
	}
	return nil
}

// lpNormalization: y = x / ‖x‖_p along axis (default -1), p 1 or 2.
func lpNormalization(nd *node) error {
	ax := nd.attrInt("axis", -1)
	p := nd.attrInt("p", 2)
	if p != 1 && p != 2 {
		nd.fail("%w: p = %d (only 1 and 2)", ErrUnsupported, p)
	}
	return normalize(nd, ax, p == 1, 0)
}

// l2Normalize: y = x / max(‖x‖₂, epsilon) along axis (default 1, epsilon
// 1e-12), as PyTorch's F.normalize.
func l2Normalize(nd *node) error {
	ax := nd.attrInt("axis", 1)
	eps := nd.attrFloat("epsilon", 1e-12)
	return normalize(nd, ax, false, float64(eps))
}

// normalize divides every vector along axis by max(norm, eps), the L1 norm
// if p1 else L2, computed and divided in float64.
func normalize(nd *node, ax int64, p1 bool, eps float64) error {
	x, y, outer, dim, inner, err := vectors(nd, ax, 3)
	if err != nil {
		return err
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			var s float64
			for k := 0; k < dim; k++ {
				v := float64(x.f[(o*dim+k)*inner+i])
				if p1 {
					s += math.Abs(v)
				} else {
					s += v * v
				}
			}
			if !p1 {
				s = math.Sqrt(s)
			}
			s = math.Max(s, eps)
			for k := 0; k < dim; k++ {
				j := (o*dim+k)*inner + i
				y[j] = float32(float64(x.f[j]) / s)
			}
		}
	}
	return nil
}
