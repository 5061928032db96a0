package reference

import (
	"fmt"
	"math"
	"slices"
)

// Layer normalisation and softmax, both in float64.

// axisRun returns the normalised block of x over the contiguous ascending
// axes: outer (the dims before), n (the axes' elements) and inner (the
// dims after).
func axisRun(x *tensor, axes []int64) (outer, n, inner, first, last int, err error) {
	r := len(x.shape)
	if len(axes) == 0 {
		return 0, 0, 0, 0, 0, fmt.Errorf("%w: no axes", ErrShape)
	}
	for i, a := range axes {
		d, err := axis(a, r)
		if err != nil {
			return 0, 0, 0, 0, 0, err
		}
		if i == 0 {
			first = d
		} else if d != last+1 {
			return 0, 0, 0, 0, 0, fmt.Errorf("%w: axes %v are not ascending and contiguous", ErrUnsupported, axes)
		}
		last = d
	}
	return product(x.shape[:first]), product(x.shape[first : last+1]), product(x.shape[last+1:]), first, last, nil
}

// layerNormalization: for each vector v of x over axes (ascending and
// contiguous), mean μ = Σv/n, variance σ² = Σ(v-μ)²/n (two passes),
// y = (v-μ)/√(σ²+epsilon)·Scale + B (epsilon default 1e-5; Scale and B,
// optional, of exactly the normalised dims). Optional outputs 1 and 2 are
// μ and 1/√(σ²+epsilon), of x's shape with the normalised dims 1.
func layerNormalization(nd *node) error {
	axes := nd.attrInts("axes")
	eps := float64(nd.attrFloat("epsilon", 1e-5))
	in, err := nd.begin(1, 3, 3)
	if err != nil {
		return err
	}
	x := in[0]
	outer, n, inner, first, last, err := axisRun(x, axes)
	if err != nil {
		return err
	}
	var par [2][]float32
	for i := range par {
		t, err := nd.optIn(i + 1)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		if !slices.Equal(t.shape, x.shape[first:last+1]) {
			return fmt.Errorf("%w: input %d of shape %v, want the normalised dims %v", ErrShape, i+1, t.shape, x.shape[first:last+1])
		}
		par[i] = t.f
	}
	if !(eps >= 0) {
		return fmt.Errorf("%w: epsilon %v", ErrUnsupported, eps)
	}
	if err := nd.work(4 * int64(len(x.f))); err != nil {
		return err
	}
	y, err := nd.out(0, x.shape)
	if err != nil {
		return err
	}
	sshape := append([]int{}, x.shape...)
	for d := first; d <= last; d++ {
		sshape[d] = 1
	}
	var stats [2][]float32
	for i := range stats {
		if len(nd.n.Outputs) > i+1 && nd.n.Outputs[i+1] != "" {
			if stats[i], err = nd.out(i+1, sshape); err != nil {
				return err
			}
		}
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			at := func(k int) int { return (o*n+k)*inner + i }
			var s float64
			for k := 0; k < n; k++ {
				s += float64(x.f[at(k)])
			}
			mean := s / float64(n)
			var q float64
			for k := 0; k < n; k++ {
				d := float64(x.f[at(k)]) - mean
				q += d * d
			}
			inv := 1 / math.Sqrt(q/float64(n)+eps)
			for k := 0; k < n; k++ {
				v := (float64(x.f[at(k)]) - mean) * inv
				if par[0] != nil {
					v *= float64(par[0][k])
				}
				if par[1] != nil {
					v += float64(par[1][k])
				}
				y[at(k)] = float32(v)
			}
			if stats[0] != nil {
				stats[0][o*inner+i] = float32(mean)
			}
			if stats[1] != nil {
				stats[1][o*inner+i] = float32(inv)
			}
		}
	}
	return nil
}

// vectors begins a node of one input and one output of the same shape that
// maps each vector of x along axis ax, charging perElem work an element. It
// returns x, y and the extents outer, n (along ax) and inner; all three are
// 0 when y is empty, whose other dims need not have a product that fits.
func vectors(nd *node, ax, perElem int64) (x *tensor, y []float32, outer, n, inner int, err error) {
	in, err := nd.begin(1, 1, 1)
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	x = in[0]
	if len(x.shape) == 0 {
		return nil, nil, 0, 0, 0, fmt.Errorf("%w: scalar input", ErrShape)
	}
	a, err := axis(ax, len(x.shape))
	if err != nil {
		return nil, nil, 0, 0, 0, err
	}
	if err := nd.work(perElem * int64(len(x.f))); err != nil {
		return nil, nil, 0, 0, 0, err
	}
	if y, err = nd.out(0, x.shape); err != nil || len(y) == 0 {
		return x, y, 0, 0, 0, err
	}
	return x, y, product(x.shape[:a]), x.shape[a], product(x.shape[a+1:]), nil
}

// softmax: along axis (default -1), y = e^(x-m) / Σ e^(x-m) with m the
// vector's maximum (opset 13 semantics).
func softmax(nd *node) error {
	x, y, outer, n, inner, err := vectors(nd, nd.attrInt("axis", -1), 4)
	if err != nil {
		return err
	}
	e := make([]float64, n)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			at := func(k int) int { return (o*n+k)*inner + i }
			m := math.Inf(-1)
			for k := 0; k < n; k++ {
				m = math.Max(m, float64(x.f[at(k)]))
			}
			var s float64
			for k := 0; k < n; k++ {
				e[k] = math.Exp(float64(x.f[at(k)]) - m)
				s += e[k]
			}
			for k := 0; k < n; k++ {
				y[at(k)] = float32(e[k] / s)
			}
		}
	}
	return nil
}
