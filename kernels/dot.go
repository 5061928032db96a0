package kernels

import (
	"sync"
	"sync/atomic"
)

// dotImpl is one tier's set of gallery dot products. The functions receive
// arguments already checked by the exported wrappers: dim ≥ 1, n ≥ 1 and
// slices long enough.
type dotImpl struct {
	tier  Tier
	dot   func(q, rows []float32, dim, n int, out []float32)
	dotI8 func(q, rows []int8, dim, n int, out []int32)
	l2    func(q, rows []float32, dim, n int, out []float32)
}

var (
	dotMu    sync.Mutex
	dotTiers = map[Tier]*dotImpl{
		Generic: {tier: Generic, dot: dotRowsGeneric, dotI8: dotRowsInt8Generic, l2: l2RowsGeneric},
	}
	dotCur atomic.Pointer[dotImpl]
)

func init() { dotCur.Store(dotTiers[Generic]) }

// registerDot makes a tier's dot products available when the CPU has what
// they need; the best available tier becomes the default.
func registerDot(d *dotImpl, cpuHas bool) {
	if !cpuHas {
		return
	}
	dotMu.Lock()
	defer dotMu.Unlock()
	dotTiers[d.tier] = d
	if d.tier > dotCur.Load().tier {
		dotCur.Store(d)
	}
}

// DotTier reports the tier DotRows, DotRowsInt8 and L2Rows run on.
func DotTier() Tier { return dotCur.Load().tier }

// SetDotTier makes the dot products use tier t (Generic when t is not
// available on this machine) and returns a function restoring the previous
// choice. It is meant for tests and benchmarks; the default is the best
// tier. Calls running concurrently finish on the tier they started with.
func SetDotTier(t Tier) (restore func()) {
	dotMu.Lock()
	defer dotMu.Unlock()
	d, ok := dotTiers[t]
	if !ok {
		d = dotTiers[Generic]
	}
	prev := dotCur.Swap(d)
	return func() { dotCur.Store(prev) }
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
func DotRows(q, rows []float32, dim, n int, out []float32) {
	if !checkDot(len(q), len(rows), len(out), dim, n) {
		clear(out[:max(n, 0)])
		return
	}
	dotCur.Load().dot(q, rows, dim, n, out)
}

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

// DotRowsInt8 is DotRows over int8 vectors with exact int32 sums (wrapping
// modulo 2³² like the Go loop, so every tier agrees bit for bit).
func DotRowsInt8(q, rows []int8, dim, n int, out []int32) {
	if !checkDot(len(q), len(rows), len(out), dim, n) {
		clear(out[:max(n, 0)])
		return
	}
	dotCur.Load().dotI8(q, rows, dim, n, out)
}

func dotRowsInt8Generic(q, rows []int8, dim, n int, out []int32) {
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

// L2Rows computes squared Euclidean distances of a query to n rows:
// out[i] = Σ_j (q[j]-rows[i*dim+j])².
func L2Rows(q, rows []float32, dim, n int, out []float32) {
	if !checkDot(len(q), len(rows), len(out), dim, n) {
		clear(out[:max(n, 0)])
		return
	}
	dotCur.Load().l2(q, rows, dim, n, out)
}

func l2RowsGeneric(q, rows []float32, dim, n int, out []float32) {
	q = q[:dim]
	for i := 0; i < n; i++ {
		r := rows[i*dim : i*dim+dim]
		var s float32
		for j, v := range q {
			d := v - r[j]
			s += d * d
		}
		out[i] = s
	}
}
