package kernels_test

import (
	"fmt"

	"github.com/signet-go/signet/kernels"
)

// Scoring a query embedding against a gallery of three stored rows.
func ExampleDotRows() {
	q := []float32{1, 0, 2}
	gallery := []float32{
		1, 0, 2, // same direction
		0, 1, 0, // orthogonal
		-1, 0, -2, // opposite
	}
	scores := make([]float32, 3)
	kernels.DotRows(q, gallery, 3, 3, scores)
	dists := make([]float32, 3)
	kernels.L2Rows(q, gallery, 3, 3, dists)
	fmt.Println(scores, dists)
	// Output: [5 0 -5] [0 6 20]
}

// Forcing a tier, as tests and benchmarks do; the result does not depend on
// it (int8 sums are exact on every tier).
func ExampleSetDotTier() {
	restore := kernels.SetDotTier(kernels.Generic)
	defer restore()
	out := make([]int32, 1)
	kernels.DotRowsInt8([]int8{-128, 127}, []int8{-128, 127}, 2, 1, out)
	fmt.Println(kernels.DotTier(), out[0])
	// Output: generic 32513
}
