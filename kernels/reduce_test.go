package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestReduce checks ReduceMean and ReduceL2 over strided index spaces (the
// reduced axes of a rank-4 tensor, contiguous or not) against plain nested
// loops over the tensor.
func TestReduce(t *testing.T) {
	dims, strides := reduceDims, reduceStrides
	forReduceMasks(rand.New(rand.NewPCG(5, 6)), func(mask int, x []float32, inner, outer Strided) {
		if outer.Len()*inner.Len() != len(x) {
			t.Fatalf("mask %b: %d×%d elements", mask, outer.Len(), inner.Len())
		}
		for i := 0; i < outer.Len(); i++ {
			base := outer.Offset(i)
			var sum, sq float64
			// Plain loops over the whole tensor, keeping the elements of
			// output i: those whose kept indices decode from i.
			for e := 0; e < len(x); e++ {
				idx, keep := e, 0
				for d := len(dims) - 1; d >= 0; d-- {
					id := idx % dims[d]
					idx /= dims[d]
					if mask&(1<<d) == 0 {
						keep += id * strides[d]
					}
				}
				if keep == base {
					sum += float64(x[e])
					sq += float64(x[e]) * float64(x[e])
				}
			}
			n := float64(inner.Len())
			if got := ReduceMean(x, base, &inner); !loopClose(got, sum/n) {
				t.Fatalf("mask %b output %d: mean %v, want %v", mask, i, got, sum/n)
			}
			if got := ReduceL2(x, base, &inner); !loopClose(got, math.Sqrt(sq)) {
				t.Fatalf("mask %b output %d: L2 %v, want %v", mask, i, got, math.Sqrt(sq))
			}
		}
	})
	// Rank 0: one element at offset 0.
	s := NewStrided(nil, nil)
	if s.Len() != 1 || s.Offset(0) != 0 || ReduceMean([]float32{3}, 0, &s) != 3 {
		t.Errorf("rank-0 Strided: len %d offset %d", s.Len(), s.Offset(0))
	}
}

// The rank-4 tensor of the reduction tests, contiguous.
var (
	reduceDims    = []int{2, 3, 4, 5}
	reduceStrides = []int{60, 20, 5, 1}
)

// forReduceMasks calls check for every non-empty set of reduced axes (bit d
// of mask: axis d) of a random tensor x of shape reduceDims, with inner
// walking the reduced axes and outer the kept ones.
func forReduceMasks(r *rand.Rand, check func(mask int, x []float32, inner, outer Strided)) {
	x := loopFloats(r, 2*3*4*5)
	for mask := 1; mask < 16; mask++ {
		var rd, rs, kd, ks []int
		for d := range reduceDims {
			if mask&(1<<d) != 0 {
				rd, rs = append(rd, reduceDims[d]), append(rs, reduceStrides[d])
			} else {
				kd, ks = append(kd, reduceDims[d]), append(ks, reduceStrides[d])
			}
		}
		check(mask, x, NewStrided(rd, rs), NewStrided(kd, ks))
	}
}
