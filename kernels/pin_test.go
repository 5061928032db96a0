package kernels

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"testing"
)

// Checksums of the gallery's dot products per tier, pinned at commit 7ae5ccf
// before the kernel registry refactor (the engine's kernels are pinned
// through whole models in engine/pin_test.go); avx512 was computed later, on
// the first machine with AVX-512, from the same pre-refactor code (commit
// 6ed2d68) and matched the refactored code. Sizes cover every SIMD tail.
var pinnedDot = map[string]string{
	"amd64/generic": "6519dbb0bc3a9490",
	"amd64/avx2":    "78af1aef6dae020c",
	"amd64/avx512":  "f057542756078007",
	"arm64/generic": "d151e28923e65496",
	"arm64/neon":    "8fc38a3814aa0b21",
}

// dotRowsOn runs DotRows on tier t.
func dotRowsOn(t Tier, q, rows []float32, dim, n int, out []float32) {
	DotFor(t).Rows(q, rows, dim, n, out)
}

func TestPinnedDotChecksums(t *testing.T) {
	for _, tr := range Tiers() {
		key := fmt.Sprintf("%s/%s", runtime.GOARCH, tr)
		t.Run(key, func(t *testing.T) {
			if !tr.Runs() {
				t.Skipf("tier %s not available on this machine", tr)
			}
			h := sha256.New()
			var b [4]byte
			s := uint32(7)
			next := func() float32 {
				s = s*1664525 + 1013904223
				return float32(s>>8)/float32(1<<24)*2 - 1
			}
			for _, dim := range []int{1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 129, 256, 257} {
				for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9} {
					q := make([]float32, dim)
					rows := make([]float32, dim*n)
					for i := range q {
						q[i] = next()
					}
					for i := range rows {
						rows[i] = next()
					}
					out := make([]float32, n)
					dotRowsOn(tr, q, rows, dim, n, out)
					for _, v := range out {
						binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
						h.Write(b[:])
					}
				}
			}
			got := hex.EncodeToString(h.Sum(nil))[:16]
			want, ok := pinnedDot[key]
			if !ok {
				t.Skipf("no checksum pinned for this tier (computed %s); see pinnedDot", got)
			}
			if got != want {
				t.Errorf("DotRows changed: checksum %s, pinned %s", got, want)
			}
		})
	}
}
