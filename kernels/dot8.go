package kernels

import "github.com/signet-go/signet/kernels/internal/impl"

// The gallery's int8 dot products: a query quantised to int8 against rows
// stored as int8. Integer sums do not depend on the order they are added
// in, so every tier returns the same int32s, bit for bit; the caller applies
// the scales.

// dot8Impl is one tier's int8 dot product.
type dot8Impl = rowDot[int8, int32]

// dot8Family holds the int8 dot products of every tier.
var dot8Family = impl.NewFamily[*dot8Impl]("dot8")

func registerDot8(t Tier, name string, d *dot8Impl) { register(dot8Family, t, name, d) }

func init() { registerDot8(Generic, "s8-dot-rows-go", &dot8Impl{dot: dot8RowsGeneric}) }

// Dot8 is the int8 dot-product kernel of one tier, chosen once by its user
// and passed down, as Dot is. The zero value runs on Best.
type Dot8 struct{ c chosen[dot8Impl] }

// Dot8For returns tier t's int8 dot product, or Generic's when t is not
// available on this machine; Tier reports which.
func Dot8For(t Tier) Dot8 { return Dot8{choose(dot8Family, t)} }

// Tier is the tier d runs on.
func (d Dot8) Tier() Tier { return d.c.or(dot8Family).tier }

// Rows is Dot8Rows on d's tier.
func (d Dot8) Rows(q, rows []int8, dim, n int, out []int32) {
	rowsOn(d.c, dot8Family, q, rows, dim, n, out)
}

// Dot8Rows computes one int8 query against n int8 rows of a row-major
// matrix:
//
//	for i := 0; i < n; i++ {
//		var s int32
//		for j := 0; j < dim; j++ { s += int32(q[j]) * int32(rows[i*dim+j]) }
//		out[i] = s
//	}
//
// len(q) ≥ dim, len(rows) ≥ n*dim, len(out) ≥ n. The sums are exact for
// dim ≤ 1<<17 (|product| ≤ 2^14); beyond, every tier wraps the same way.
// Results are identical on every tier.
func Dot8Rows(q, rows []int8, dim, n int, out []int32) { Dot8{}.Rows(q, rows, dim, n, out) }

func dot8RowsGeneric(q, rows []int8, dim, n int, out []int32) {
	q = q[:dim]
	for i := 0; i < n; i++ {
		r := rows[i*dim : i*dim+dim]
		var s int32
		for j, v := range q {
			s += int32(v) * int32(r[j])
		}
		out[i] = s
	}
}
