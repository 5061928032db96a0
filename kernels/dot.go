package kernels

import "github.com/signet-go/signet/kernels/internal/impl"

// The gallery's dot products. Every tier implements dotImpl; DotFor picks
// one per caller (a gallery scores on its engine's tier), and the
// package-level DotRows runs on Best.

// rowDot is one tier's dot product of a query with rows of element type
// E into sums of type S. The function receives arguments already checked
// by rowsOn: dim ≥ 1, n ≥ 1 and slices long enough.
type rowDot[E, S any] struct {
	dot func(q, rows []E, dim, n int, out []S)
}

// dotImpl is one tier's float32 gallery dot product.
type dotImpl = rowDot[float32, float32]

// dotFamily holds the dot products of every tier.
var dotFamily = impl.NewFamily[*dotImpl]("dot")

func registerDot(t Tier, name string, d *dotImpl) { register(dotFamily, t, name, d) }

func init() { registerDot(Generic, "f32-dot-rows-go", &dotImpl{dot: dotRowsGeneric}) }

// Dot is the dot-product kernel of one tier, chosen once by its user (a
// gallery takes its engine's tier) and passed down. The zero value runs on
// Best.
type Dot struct{ c chosen[dotImpl] }

// DotFor returns tier t's dot product, or Generic's when t is not available
// on this machine; Tier reports which.
func DotFor(t Tier) Dot { return Dot{choose(dotFamily, t)} }

// Tier is the tier d runs on.
func (d Dot) Tier() Tier { return d.c.or(dotFamily).tier }

// Rows is DotRows on d's tier.
func (d Dot) Rows(q, rows []float32, dim, n int, out []float32) {
	rowsOn(d.c, dotFamily, q, rows, dim, n, out)
}

// rowsOn runs c's dot product (f's on Best for the zero c) after checking
// the slices; with nothing to add, out[:n] is cleared.
func rowsOn[E, S any](c chosen[rowDot[E, S]], f *impl.Family[*rowDot[E, S]], q, rows []E, dim, n int, out []S) {
	if !checkDot(len(q), len(rows), len(out), dim, n) {
		clear(out[:max(n, 0)])
		return
	}
	c.or(f).k.dot(q, rows, dim, n, out)
}

// asmRows adapts an assembly routine taking first-element pointers to
// rowDot's slice signature (rowsOn has checked the lengths).
func asmRows[E, S any](k func(q, rows *E, dim, n int, out *S)) func(q, rows []E, dim, n int, out []S) {
	return func(q, rows []E, dim, n int, out []S) { k(&q[0], &rows[0], dim, n, &out[0]) }
}

// checkDot panics, as the generic loops' slicing would, when the slices are
// shorter than dim and n promise; it reports whether there is work to do.
func checkDot(lq, lrows, lout, dim, n int) bool {
	if n <= 0 {
		return false
	}
	if dim < 0 || lq < dim || lout < n || (dim > 0 && lrows/dim < n) {
		panic("kernels: dot product slices shorter than dim and n")
	}
	return dim > 0
}

// DotRows computes one query against n rows of a row-major matrix:
//
//	for i := 0; i < n; i++ {
//		var s float32
//		for j := 0; j < dim; j++ { s += q[j] * rows[i*dim+j] }
//		out[i] = s
//	}
//
// len(q) ≥ dim, len(rows) ≥ n*dim, len(out) ≥ n.
//
// It runs on Best; a caller whose tier was chosen elsewhere (engine options)
// uses DotFor(tier).Rows. Results differ between tiers by fp32 rounding only.
func DotRows(q, rows []float32, dim, n int, out []float32) { Dot{}.Rows(q, rows, dim, n, out) }

func dotRowsGeneric(q, rows []float32, dim, n int, out []float32) {
	q = q[:dim]
	for i := 0; i < n; i++ {
		r := rows[i*dim : i*dim+dim]
		var s float32
		for j, v := range q {
			s += v * r[j]
		}
		out[i] = s
	}
}
