package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dotDims covers 0..2×(the widest unrolled stride: 128 int8 lanes on
// AVX-512 VNNI)+1 densely enough to hit every tail length of every tier.
func dotDims() []int {
	var d []int
	for i := 0; i <= 70; i++ {
		d = append(d, i)
	}
	for i := 71; i <= 257; i++ {
		if i%16 <= 1 || i%16 == 15 || i%7 == 0 {
			d = append(d, i)
		}
	}
	return append(d, 300, 512, 1000)
}

var dotNs = []int{0, 1, 2, 3, 7}

const outGuard = 5

// guardedOut returns out of length n inside a buffer of sentinels.
func guardedOut[T any](n int, s T) (buf, out []T) {
	buf = make([]T, outGuard+n+outGuard)
	for i := range buf {
		buf[i] = s
	}
	return buf, buf[outGuard : outGuard+n]
}

func checkOutGuards[T comparable](t *testing.T, what string, buf []T, n int, s T) {
	t.Helper()
	for i := range buf {
		if (i < outGuard || i >= outGuard+n) && buf[i] != s {
			t.Fatalf("%s: wrote out[%d] outside [0,%d)", what, i-outGuard, n)
		}
	}
}

func TestDotTiers(t *testing.T) {
	for _, tier := range Available() {
		t.Run(tier.String(), func(t *testing.T) {
			restore := SetDotTier(tier)
			defer restore()
			if got := DotTier(); got != tier {
				t.Fatalf("SetDotTier(%v) left the dot products on %v", tier, got)
			}
			rng := rand.New(rand.NewPCG(5, uint64(tier)))
			const sf = float32(-7.5e33)
			for _, dim := range dotDims() {
				for _, n := range dotNs {
					q := make([]float32, dim)
					rows := make([]float32, n*dim)
					for i := range q {
						q[i] = rng.Float32()*2 - 1
					}
					for i := range rows {
						rows[i] = rng.Float32()*2 - 1
					}
					bufD, outD := guardedOut(n, sf)
					bufL, outL := guardedOut(n, sf)
					DotRows(q, rows, dim, n, outD)
					L2Rows(q, rows, dim, n, outL)
					checkOutGuards(t, "DotRows", bufD, n, sf)
					checkOutGuards(t, "L2Rows", bufL, n, sf)
					for i := 0; i < n; i++ {
						var ref, mag, refL float64
						for j := 0; j < dim; j++ {
							p := float64(q[j]) * float64(rows[i*dim+j])
							ref += p
							mag += math.Abs(p)
							d := float64(q[j]) - float64(rows[i*dim+j])
							refL += d * d
						}
						if d := math.Abs(float64(outD[i]) - ref); !(d <= 1e-5*(1+mag)) {
							t.Fatalf("DotRows dim=%d n=%d: out[%d]=%v, want %v", dim, n, i, outD[i], ref)
						}
						if d := math.Abs(float64(outL[i]) - refL); !(d <= 1e-5*(1+refL)) {
							t.Fatalf("L2Rows dim=%d n=%d: out[%d]=%v, want %v", dim, n, i, outL[i], refL)
						}
					}

					q8 := make([]int8, dim)
					rows8 := make([]int8, n*dim)
					for i := range q8 {
						q8[i] = int8(rng.Uint32())
					}
					for i := range rows8 {
						rows8[i] = int8(rng.Uint32())
					}
					if dim > 0 && n > 0 {
						// Extremes: the u8×s8 offset trick and int16 products must be exact there.
						q8[0], rows8[0] = -128, -128
						q8[dim-1], rows8[n*dim-1] = 127, -128
					}
					const s8 = int32(-0x5a5a5a5a)
					buf8, out8 := guardedOut(n, s8)
					want8 := make([]int32, n)
					DotRowsInt8(q8, rows8, dim, n, out8)
					dotRowsInt8Generic(q8, rows8, dim, n, want8)
					checkOutGuards(t, "DotRowsInt8", buf8, n, s8)
					for i := range want8 {
						if out8[i] != want8[i] {
							t.Fatalf("DotRowsInt8 dim=%d n=%d: out[%d]=%d, want %d", dim, n, i, out8[i], want8[i])
						}
					}
				}
			}
		})
	}
}

// TestDotInt8Saturated checks exactness where every product is ±16384 and
// sums reach the int32 range of long vectors.
func TestDotInt8Saturated(t *testing.T) {
	for _, tier := range Available() {
		restore := SetDotTier(tier)
		for _, dim := range []int{1, 63, 64, 65, 127, 128, 129, 4099} {
			for _, pair := range [][2]int8{{-128, -128}, {-128, 127}, {127, 127}, {-1, -128}} {
				q := make([]int8, dim)
				rows := make([]int8, 2*dim)
				for i := range q {
					q[i] = pair[0]
				}
				for i := range rows {
					rows[i] = pair[1]
				}
				out, want := make([]int32, 2), make([]int32, 2)
				DotRowsInt8(q, rows, dim, 2, out)
				dotRowsInt8Generic(q, rows, dim, 2, want)
				if out != nil && (out[0] != want[0] || out[1] != want[1]) {
					t.Errorf("%v dim=%d %v: got %v, want %v", tier, dim, pair, out, want)
				}
			}
		}
		restore()
	}
}

func TestDotAllocs(t *testing.T) {
	q := make([]float32, 128)
	rows := make([]float32, 128*10)
	out := make([]float32, 10)
	q8 := make([]int8, 128)
	rows8 := make([]int8, 128*10)
	out8 := make([]int32, 10)
	for _, tier := range Available() {
		restore := SetDotTier(tier)
		n := testing.AllocsPerRun(20, func() {
			DotRows(q, rows, 128, 10, out)
			L2Rows(q, rows, 128, 10, out)
			DotRowsInt8(q8, rows8, 128, 10, out8)
		})
		restore()
		if n != 0 {
			t.Errorf("%v: %v allocations", tier, n)
		}
	}
}

func TestDotShortSlicesPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("DotRows accepted rows shorter than n*dim")
		}
	}()
	DotRows(make([]float32, 4), make([]float32, 7), 4, 2, make([]float32, 2))
}

func BenchmarkDotRows(b *testing.B) {
	const dim, n = 256, 1024
	q := make([]float32, dim)
	rows := make([]float32, dim*n)
	out := make([]float32, n)
	q8 := make([]int8, dim)
	rows8 := make([]int8, dim*n)
	out8 := make([]int32, n)
	for _, tier := range Available() {
		restore := SetDotTier(tier)
		b.Run("f32/"+tier.String(), func(b *testing.B) {
			b.SetBytes(dim * n * 4)
			for i := 0; i < b.N; i++ {
				DotRows(q, rows, dim, n, out)
			}
		})
		b.Run("l2/"+tier.String(), func(b *testing.B) {
			b.SetBytes(dim * n * 4)
			for i := 0; i < b.N; i++ {
				L2Rows(q, rows, dim, n, out)
			}
		})
		b.Run("int8/"+tier.String(), func(b *testing.B) {
			b.SetBytes(dim * n)
			for i := 0; i < b.N; i++ {
				DotRowsInt8(q8, rows8, dim, n, out8)
			}
		})
		restore()
	}
}
