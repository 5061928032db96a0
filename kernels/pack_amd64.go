//go:build !purego

package kernels

// transpose4Rows writes four rows into four columns of a k-major panel:
//
//	for q := 0; q < n&^3; q++ {
//		dst[q*dstStride+0], dst[q*dstStride+1] = r0[q], r1[q]
//		dst[q*dstStride+2], dst[q*dstStride+3] = r2[q], r3[q]
//	}
//
// Only whole groups of four q are done; the caller finishes the tail.
//
//go:noescape
func transpose4Rows(dst *float32, dstStride int, r0, r1, r2, r3 *float32, n int)

// packRows4 writes d[q*MR+i] = s_i[q] for rows i < 4 and q < seg&^3 and
// returns how many q it did; the caller packs the rest.
func packRows4(d []float32, MR int, s0, s1, s2, s3 []float32, seg int) int {
	n := seg &^ 3
	if n == 0 {
		return 0
	}
	_ = d[(n-1)*MR+3]
	_, _, _, _ = s0[n-1], s1[n-1], s2[n-1], s3[n-1]
	transpose4Rows(&d[0], MR, &s0[0], &s1[0], &s2[0], &s3[0], n)
	return n
}
