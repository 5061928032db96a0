//go:build purego || !amd64

package kernels

// packRows4 packs nothing without assembly: the caller's Go loop packs all
// of the rows (on arm64 the compiler's unrolled loop is already close to
// what a NEON transpose would give for the 8-row tiles).
func packRows4(d []float32, MR int, s0, s1, s2, s3 []float32, seg int) int { return 0 }
