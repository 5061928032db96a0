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
	fmt.Println(scores)
	// Output: [5 0 -5]
}

// Choosing a tier once and passing it down, as an engine's options do; a
// tier the machine does not run falls back to Generic and says so.
func ExampleDotFor() {
	d := kernels.DotFor(kernels.Generic)
	out := make([]float32, 1)
	d.Rows([]float32{0.5, 4}, []float32{2, 0.25}, 2, 1, out)
	fmt.Println(d.Tier(), out[0])
	fmt.Println(kernels.DotFor(kernels.Tier(200)).Tier())
	// Output:
	// generic 2
	// generic
}
