package kernels

import (
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// guarded32 is guarded for int32 outputs.
func guarded32(n int) (inner, whole []int32) {
	const g = -0x5a5a5a5b
	whole = make([]int32, n+2*guardLen)
	for i := range whole {
		whole[i] = g
	}
	return whole[guardLen : guardLen+n : guardLen+n], whole
}

// runDot8Case is the dot8 family's tester: one query against n rows on d,
// the output inside a guard band, every sum equal to the generic loop's.
func runDot8Case(t *testing.T, r testrand.Rand, d Dot8, dim, n int) {
	t.Helper()
	q, rows := int8s(r, dim), int8s(r, n*dim)
	out, whole := guarded32(n)
	d.Rows(q, rows, dim, n, out)
	for i := range whole {
		if (i < guardLen || i >= guardLen+n) && whole[i] != -0x5a5a5a5b {
			t.Fatalf("%v dim=%d n=%d: wrote element %d outside [0,%d)", d.Tier(), dim, n, i-guardLen, n)
		}
	}
	want := make([]int32, n)
	if dim > 0 && n > 0 {
		dot8RowsGeneric(q, rows, dim, n, want)
	}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("%v dim=%d n=%d: out[%d]=%d, generic %d", d.Tier(), dim, n, i, out[i], want[i])
		}
	}
}

func TestDot8Tiers(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := Dot8For(tier)
		if d.Tier() != tier {
			t.Fatalf("Dot8For(%v) runs on %v: the fast path would silently not be taken", tier, d.Tier())
		}
		r := testrand.New(8<<8 | uint64(tier))
		for _, dim := range append(dotDims(), 511, 513, 1023, 1025) {
			for _, n := range append(dotNs, 4, 5, 8, 9) { // blocks of four rows and what is left
				runDot8Case(t, r, d, dim, n)
			}
		}
	})
}

// TestDot8Extremes: products of -128 in every lane, and sums past int32
// at dim 1<<17+3, agree on every tier (the wrap is the same everywhere).
func TestDot8Extremes(t *testing.T) {
	for _, dim := range []int{1, 33, 1<<16 + 1, 1<<17 + 3} {
		q := make([]int8, dim)
		rows := make([]int8, 2*dim)
		for i := range q {
			q[i] = -128
		}
		for i := range rows {
			rows[i] = int8(-128 + 255*(i/dim))
		}
		want := make([]int32, 2)
		dot8RowsGeneric(q, rows, dim, 2, want)
		forEachTier(t, func(t *testing.T, tier Tier) {
			got := make([]int32, 2)
			Dot8For(tier).Rows(q, rows, dim, 2, got)
			if got != nil && (got[0] != want[0] || got[1] != want[1]) {
				t.Fatalf("dim=%d: %v, generic %v", dim, got, want)
			}
		})
	}
}

func TestDot8AllocsAndShortSlices(t *testing.T) {
	q, rows, out := make([]int8, 128), make([]int8, 128*10), make([]int32, 10)
	forEachTier(t, func(t *testing.T, tier Tier) {
		d := Dot8For(tier)
		if n := testing.AllocsPerRun(20, func() { d.Rows(q, rows, 128, 10, out) }); n != 0 {
			t.Errorf("%v: %v allocations", tier, n)
		}
	})
	defer func() {
		if recover() == nil {
			t.Fatal("Dot8Rows accepted rows shorter than n*dim")
		}
	}()
	Dot8Rows(make([]int8, 4), make([]int8, 7), 4, 2, make([]int32, 2))
}

// FuzzDot8Rows compares every available tier's int8 dot product with the
// generic loop, bit for bit.
func FuzzDot8Rows(f *testing.F) {
	f.Add(uint16(33), uint8(3), []byte{1, 255, 128, 127, 0, 9})
	f.Add(uint16(129), uint8(1), []byte{0x80})
	f.Fuzz(func(t *testing.T, dim16 uint16, n8 uint8, data []byte) {
		dim, n := int(dim16)%1200, int(n8)%9
		bytesAt := func(off, k int) []int8 {
			v := make([]int8, k)
			for i := range v {
				if len(data) > 0 {
					v[i] = int8(data[(off+i)%len(data)] + byte(i/len(data)))
				}
			}
			return v
		}
		q, rows := bytesAt(0, dim), bytesAt(7, n*dim)
		want := make([]int32, n)
		Dot8For(Generic).Rows(q, rows, dim, n, want)
		for _, tier := range Available() {
			got := make([]int32, n)
			Dot8For(tier).Rows(q, rows, dim, n, got)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v Dot8Rows dim=%d: out[%d]=%d, generic %d", tier, dim, i, got[i], want[i])
				}
			}
		}
	})
}
