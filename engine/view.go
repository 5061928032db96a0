package engine

import "github.com/signet-go/signet/engine/internal/backend"

// Views: Reshape, Flatten and Transpose of a runtime tensor move no data at
// plan time. Their output is a view — each logical dimension a list of
// factors (size, stride into the source's storage) — and is copied into real
// storage once, by the consumer that needs it, straight into the layout that
// consumer wants. A channel shuffle (NHWC → Reshape → Transpose → Reshape →
// NHWC) thus costs one strided copy instead of a relayout, a transpose and a
// relayout.

type factor struct{ n, st int }

type viewInfo struct {
	src  int        // value holding the data (never itself a view)
	dims [][]factor // per logical dim, outer factor first
}

// maxViewFactors bounds the factors of a view (a copy walks at most maxRank
// dims after merging; more factors fall back to a real copy).
const maxViewFactors = maxRank

// viewOf returns id's data as a view: its own view, or one factor per
// logical dim of a real value.
func (c *compiler) viewOf(id int) *viewInfo {
	v := &c.p.vals[id]
	if v.view != nil {
		return v.view
	}
	ls := v.logicalStrides()
	vi := &viewInfo{src: id, dims: make([][]factor, len(v.shape))}
	for d, n := range v.shape {
		if n != 1 {
			vi.dims[d] = []factor{{n, ls[d]}}
		}
	}
	return vi
}

func (vi *viewInfo) factors() int {
	n := 0
	for _, d := range vi.dims {
		n += len(d)
	}
	return n
}

// reshape regroups the factors of vi (in logical order) into shape, splitting
// a factor where a new boundary falls inside it. It fails when a boundary
// cuts a factor at a non-divisor.
func (vi *viewInfo) reshape(shape []int) (*viewInfo, bool) {
	var flat []factor
	for _, d := range vi.dims {
		flat = append(flat, d...)
	}
	out := &viewInfo{src: vi.src, dims: make([][]factor, len(shape))}
	for d := len(shape) - 1; d >= 0; d-- {
		need := shape[d]
		var fs []factor
		for need > 1 {
			if len(flat) == 0 {
				return nil, false
			}
			f := flat[len(flat)-1]
			switch {
			case need%f.n == 0:
				fs = append([]factor{f}, fs...)
				need /= f.n
				flat = flat[:len(flat)-1]
			case f.n%need == 0:
				fs = append([]factor{{need, f.st}}, fs...)
				flat[len(flat)-1] = factor{f.n / need, f.st * need}
				need = 1
			default:
				return nil, false
			}
		}
		out.dims[d] = fs
	}
	if len(flat) != 0 || out.factors() > maxViewFactors {
		return nil, false
	}
	return out, true
}

// transpose permutes the logical dims.
func (vi *viewInfo) transpose(perm []int) *viewInfo {
	out := &viewInfo{src: vi.src, dims: make([][]factor, len(perm))}
	for i, p := range perm {
		out.dims[i] = vi.dims[p]
	}
	return out
}

// newView declares output i of the current node as a view.
func (c *compiler) newView(i int, shape []int, vi *viewInfo) error {
	out, err := c.output(i, shape, layoutLogical)
	if err != nil {
		return err
	}
	c.p.vals[out].view = vi
	return nil
}

// materialize plans the copy of view id into real storage in layout l.
func (c *compiler) materialize(id int, l layout) int {
	if len(c.p.vals[id].shape) != 4 {
		l = layoutLogical
	}
	if nid := c.p.vals[id].converted[l]; nid >= 0 {
		return nid
	}
	vi := c.p.vals[id].view
	nid := c.newValue("", c.p.vals[id].shape, l)
	c.p.vals[id].converted[l] = nid
	out := &c.p.vals[nid]
	var dims, src []int
	for _, d := range out.perm() {
		for _, f := range vi.dims[d] {
			dims = append(dims, f.n)
			src = append(src, f.st)
		}
	}
	c.lowerAux(&backend.Op{Name: c.p.vals[id].name, OpType: "Materialize", In: []int{vi.src}, Out: []int{nid},
		Args: &backend.Copy{Dims: dims, Src: src, Label: "copy-strided"}})
	return nid
}

// buildViewOp plans Reshape/Flatten (shape) or Transpose (perm) as a view
// when the input is a runtime tensor; it reports false when a real copy is
// needed instead (constant input, or a reshape the factors cannot express).
func (c *compiler) buildViewOp(x int, shape, perm []int) (bool, error) {
	if c.p.vals[x].isConst {
		return false, nil
	}
	vi := c.viewOf(x)
	if perm != nil {
		return true, c.newView(0, shape, vi.transpose(perm))
	}
	nv, ok := vi.reshape(shape)
	if !ok {
		return false, nil
	}
	return true, c.newView(0, shape, nv)
}
