package kernels

// PadMode says what Pad writes outside its input.
type PadMode uint8

// Pad modes (ONNX Pad's "constant", "edge" and "reflect").
const (
	PadConstant PadMode = iota // Value
	PadEdge                    // the nearest element
	PadReflect                 // the input mirrored about its first and last element
)

// PadParams describes a pad of a row-major tensor of dims In into one of
// dims Out (same rank, at most MaxStridedRank): element o of the output
// reads input element o - Begin along every dim (Begin may be negative,
// which removes elements). Where that falls outside the input, Mode says
// what is written: Value; the nearest element (edge); or the element
// reflected about the first and last one without repeating them, as often
// as needed (reflect, as numpy.pad; along a dim of one element, that
// element).
type PadParams struct {
	Rank    int
	Out, In [MaxStridedRank]int
	Begin   [MaxStridedRank]int
	Mode    PadMode
	Value   float32

	inStride [MaxStridedRank]int
}

// NewPadParams returns the pad of dims in to dims out (storage order) with
// begin pads, after merging the dims whose merge changes nothing (adjacent
// unpadded dims, and in constant mode a padded dim with the unpadded dims
// inside it), or false when the shapes do not describe a pad (different
// ranks, a rank above MaxStridedRank, a dim below 1, or an end pad out of
// range).
func NewPadParams(out, in, begin []int, mode PadMode, value float32) (PadParams, bool) {
	p := PadParams{Mode: mode, Value: value}
	if len(out) != len(in) || len(begin) != len(in) || len(in) > MaxStridedRank || mode > PadReflect {
		return p, false
	}
	for d := range in {
		if in[d] < 1 || out[d] < 1 {
			return p, false
		}
	}
	// Merge from the innermost dim outwards: dim d joins the run inside
	// it when the run is unpadded and d is too (or, in constant mode, d
	// may be padded: its pad then covers whole blocks of the run).
	type dim struct{ out, in, begin int }
	var ds []dim
	for d := len(in) - 1; d >= 0; d-- {
		cur := dim{out[d], in[d], begin[d]}
		if len(ds) > 0 {
			last := &ds[len(ds)-1]
			innerFlat := last.out == last.in && last.begin == 0
			flat := cur.out == cur.in && cur.begin == 0
			if innerFlat && (flat || mode == PadConstant) {
				last.begin = cur.begin * last.in
				last.out = cur.out * last.in
				last.in = cur.in * last.in
				continue
			}
		}
		ds = append(ds, cur)
	}
	p.Rank = len(ds)
	for i, d := range ds {
		k := p.Rank - 1 - i
		p.Out[k], p.In[k], p.Begin[k] = d.out, d.in, d.begin
	}
	s := 1
	for d := p.Rank - 1; d >= 0; d-- {
		p.inStride[d] = s
		s *= p.In[d]
	}
	return p, true
}

// Rows is the number of output rows (all dims but the last).
func (p *PadParams) Rows() int {
	n := 1
	for d := 0; d < p.Rank-1; d++ {
		n *= p.Out[d]
	}
	return n
}

// source maps output index o of a dim of n input elements with begin pad
// b to the input index, or -1 in constant mode outside the input.
func (p *PadParams) source(o, n, b int) int {
	s := o - b
	if s >= 0 && s < n {
		return s
	}
	switch p.Mode {
	case PadEdge:
		return min(max(s, 0), n-1)
	case PadReflect:
		if n == 1 {
			return 0
		}
		per := 2 * (n - 1)
		s %= per
		if s < 0 {
			s += per
		}
		if s >= n {
			s = per - s
		}
		return s
	}
	return -1
}

// PadRows writes output rows r0 ≤ r < r1 (each Out[Rank-1] elements, row r
// at r·Out[Rank-1] of out) from in. It copies the part of a row that lies
// inside the input and fills the rest element by element: exact, and the
// same bits on every tier.
func PadRows(p *PadParams, in, out []float32, r0, r1 int) {
	last := p.Rank - 1
	w, n, b := p.Out[last], p.In[last], p.Begin[last]
	// The part of every row read straight from the input row: output
	// [lo, hi) from input [lo-b, hi-b).
	lo, hi := max(b, 0), min(b+n, w)
	var idx [MaxStridedRank]int
	for r := r0; r < r1; r++ {
		rem := r
		for d := last - 1; d >= 0; d-- {
			idx[d] = rem % p.Out[d]
			rem /= p.Out[d]
		}
		row := out[r*w : (r+1)*w]
		src, inside := 0, true
		for d := 0; d < last; d++ {
			s := p.source(idx[d], p.In[d], p.Begin[d])
			if s < 0 {
				inside = false
				break
			}
			src += s * p.inStride[d]
		}
		if !inside {
			for i := range row {
				row[i] = p.Value
			}
			continue
		}
		x := in[src : src+n]
		if lo < hi {
			copy(row[lo:hi], x[lo-b:hi-b])
		}
		for i := 0; i < min(lo, w); i++ {
			row[i] = p.at(x, i, n, b)
		}
		for i := max(hi, lo); i < w; i++ {
			row[i] = p.at(x, i, n, b)
		}
	}
}

// at is output element i of a row over input row x.
func (p *PadParams) at(x []float32, i, n, b int) float32 {
	if s := p.source(i, n, b); s >= 0 {
		return x[s]
	}
	return p.Value
}
