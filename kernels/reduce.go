package kernels

import "math"

// MaxStridedRank bounds the rank of a Strided index space.
const MaxStridedRank = 8

// Strided is an index space of up to MaxStridedRank dims, each with a stride
// (in elements) into some tensor's storage: element i, numbered row-major
// over Dims, lies at Σ idx[d]·Strides[d]. Fixed arrays keep it free of
// allocation.
type Strided struct {
	Rank    int
	Dims    [MaxStridedRank]int
	Strides [MaxStridedRank]int
}

// NewStrided returns the index space of dims with strides (equal lengths, at
// most MaxStridedRank); a rank-0 space has one element at offset 0.
func NewStrided(dims, strides []int) Strided {
	var s Strided
	s.Rank = len(dims)
	copy(s.Dims[:], dims)
	copy(s.Strides[:], strides)
	return s
}

// Offset returns the storage offset of element i.
func (s *Strided) Offset(i int) int {
	off := 0
	for d := s.Rank - 1; d >= 0; d-- {
		idx := i % s.Dims[d]
		i /= s.Dims[d]
		off += idx * s.Strides[d]
	}
	return off
}

// Len is the number of elements.
func (s *Strided) Len() int {
	n := 1
	for d := 0; d < s.Rank; d++ {
		n *= s.Dims[d]
	}
	return n
}

// ReduceMean returns the mean of x[base+r.Offset(j)] over the r.Len()
// elements j, summed in order of j in float32 and divided by the count.
func ReduceMean(x []float32, base int, r *Strided) float32 {
	n := r.Len()
	var acc float32
	for j := 0; j < n; j++ {
		acc += x[base+r.Offset(j)]
	}
	return acc / float32(n)
}

// ReduceL2 returns the Euclidean norm of x[base+r.Offset(j)] over the
// r.Len() elements j: squares summed in order of j in float32, then a
// square root rounded from float64.
func ReduceL2(x []float32, base int, r *Strided) float32 {
	n := r.Len()
	var acc float32
	for j := 0; j < n; j++ {
		v := x[base+r.Offset(j)]
		acc += v * v
	}
	return float32(math.Sqrt(float64(acc)))
}
