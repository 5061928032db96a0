package gallery

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/kernels"
)

// Storage selects how the prototype rows that matching scans are held.
type Storage uint8

// Storages; the value is stored in gallery files (format.go).
const (
	// Float32 keeps every prototype row as float32 and scores by the
	// float32 dot product.
	Float32 Storage = 0
	// Int8 keeps each row as int8 with one float32 scale (symmetric,
	// scale = max|x|/127, round half to even). A query is quantised the
	// same way once per match and scored by an integer dot product, so a
	// score is float32(Σ q8·r8) · scale(q) · scale(r), the same on every
	// kernel tier. The matrix a match scans shrinks to a quarter.
	Int8 Storage = 1
)

func (st Storage) String() string {
	switch st {
	case Float32:
		return "float32"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("storage(%d)", uint8(st))
}

// SetStorage switches how prototype rows are stored and scored. Every
// score computed afterwards (matching, Plan, Calibrate, reports) uses the
// new storage; thresholds calibrated under the other one are kept, so
// recalibrate when they sit close to the scores.
func (g *Gallery) SetStorage(st Storage) error {
	return g.update(func(s *snapshot) error {
		o := s.opts
		o.Storage = st
		if err := o.validate(); err != nil {
			return err
		}
		s.opts = o
		return nil
	})
}

// quantize writes x as int8 into dst (len(dst) == len(x)) and returns the
// scale: dst[i] = round(x[i]·127/max|x|), ties to even. A zero vector gets
// scale 0 and zeros.
func quantize(dst []int8, x []float32) float32 {
	var m float32
	for _, v := range x {
		m = max(m, float32(math.Abs(float64(v))))
	}
	if m == 0 {
		clear(dst)
		return 0
	}
	inv := 127 / float64(m)
	for i, v := range x {
		dst[i] = int8(math.RoundToEven(float64(v) * inv))
	}
	return m / 127
}

// quantizeRows quantises each dim-wide row of rows into dst and its scale
// into scales.
func quantizeRows(dst []int8, scales []float32, rows []float32, dim int) {
	for i := range scales {
		scales[i] = quantize(dst[i*dim:(i+1)*dim], rows[i*dim:(i+1)*dim])
	}
}

// scale8 turns integer dot products into scores: out[i] =
// float32(acc[i]·qs·rs[i]), computed in float64 so every platform rounds
// the same way once.
func scale8(out []float32, acc []int32, qs float32, rs []float32) {
	for i, a := range acc {
		out[i] = float32(float64(a) * (float64(qs) * float64(rs[i])))
	}
}

// scorer is the product every score of a snapshot runs on: the float32 dot
// product of one kernel tier, or with Int8 storage the int8 one of the same
// tier. The zero value scores in float32 on kernels.Best().
type scorer struct {
	f32  kernels.Dot
	s8   kernels.Dot8
	int8 bool
}

func scorerFor(t kernels.Tier) scorer {
	return scorer{f32: kernels.DotFor(t), s8: kernels.Dot8For(t)}
}

// Tier is the kernel tier the scores run on.
func (d scorer) Tier() kernels.Tier {
	if d.int8 {
		return d.s8.Tier()
	}
	return d.f32.Tier()
}

// Rows scores q against n float32 rows as a match would: in int8 storage
// both sides are quantised first, so a score here is bit for bit the score
// matching computes from the stored int8 rows.
func (d scorer) Rows(q, rows []float32, dim, n int, out []float32) {
	if !d.int8 {
		d.f32.Rows(q, rows, dim, n, out)
		return
	}
	q8 := make([]int8, dim)
	qs := quantize(q8, q[:dim])
	r8 := make([]int8, n*dim)
	rs := make([]float32, n)
	quantizeRows(r8, rs, rows, dim)
	acc := make([]int32, n)
	d.s8.Rows(q8, r8, dim, n, acc)
	scale8(out[:n], acc, qs, rs)
}

// match8 scores the unit query q against the snapshot's int8 rows lo ..
// lo+len(out)-1 into out, with scratch kept in r so a match allocates
// nothing.
func (s *snapshot) match8(q []float32, r *Result, lo int, out []float32) {
	nr := len(out)
	if cap(r.q8Buf) < s.dim {
		r.q8Buf = make([]int8, s.dim)
	}
	if cap(r.accBuf) < nr {
		r.accBuf = make([]int32, nr)
	}
	q8, acc := r.q8Buf[:s.dim], r.accBuf[:nr]
	qs := quantize(q8, q)
	s.dot.s8.Rows(q8, s.rows8[lo*s.dim:], s.dim, nr, acc)
	scale8(out, acc, qs, s.rowScale[lo:])
}
