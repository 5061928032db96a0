package shape

import (
	"math"
	"testing"
)

func TestProd(t *testing.T) {
	for _, c := range []struct {
		dims  []int
		limit int
		want  int
		ok    bool
	}{
		{nil, 10, 1, true},
		{[]int{2, 3, 4}, 24, 24, true},
		{[]int{2, 3, 4}, 23, 0, false},
		{[]int{1, 3, 1 << 32, 1 << 32}, math.MaxInt, 0, false}, // wraps to 0 when unchecked
		{[]int{1 << 62, 4}, math.MaxInt, 0, false},
		{[]int{0, 1 << 62, 1 << 62}, math.MaxInt, 0, true}, // zero-size is a valid count
		{[]int{3, -1}, 100, 0, false},
		{[]int{0, -1}, 100, 0, false},
	} {
		got, ok := Prod(c.dims, c.limit)
		if got != c.want || ok != c.ok {
			t.Errorf("Prod(%v, %d) = %d, %v; want %d, %v", c.dims, c.limit, got, ok, c.want, c.ok)
		}
		d64 := make([]int64, len(c.dims))
		for i, d := range c.dims {
			d64[i] = int64(d)
		}
		got64, ok64 := Prod64(d64, int64(c.limit))
		if got64 != int64(c.want) || ok64 != c.ok {
			t.Errorf("Prod64(%v, %d) = %d, %v; want %d, %v", c.dims, c.limit, got64, ok64, c.want, c.ok)
		}
	}
}

func TestMulAddSat(t *testing.T) {
	if got := MulSat(2, 3, 7); got != 42 {
		t.Errorf("MulSat(2,3,7) = %d", got)
	}
	if got := MulSat(1<<31, 1<<31, 1<<31); got != math.MaxInt64 {
		t.Errorf("MulSat overflow = %d", got)
	}
	if got := MulSat(1<<32, 1<<31); got != math.MaxInt64 { // 2^63 is one past MaxInt64
		t.Errorf("MulSat(2^32, 2^31) = %d", got)
	}
	if got := MulSat(0, math.MaxInt64); got != 0 {
		t.Errorf("MulSat(0, max) = %d", got)
	}
	if got := AddSat(math.MaxInt64-1, 2); got != math.MaxInt64 {
		t.Errorf("AddSat overflow = %d", got)
	}
}

// sliceNaive enumerates the indices ONNX's definition visits, for small dims.
func sliceNaive(dim, start, end, step int64) (int64, int64) {
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	var first, n int64 = -1, 0
	if step > 0 {
		start = min(max(start, 0), dim)
		end = min(max(end, 0), dim)
		for i := start; i < end; {
			if first < 0 {
				first = i
			}
			n++
			if i > math.MaxInt64-step {
				break
			}
			i += step
		}
	} else {
		start = min(max(start, 0), dim-1)
		end = min(max(end, -1), dim-1)
		for i := start; i > end; {
			if first < 0 {
				first = i
			}
			n++
			if i < math.MinInt64-step {
				break
			}
			i += step
		}
	}
	if first < 0 {
		first = start
	}
	return first, n
}

func TestSlice(t *testing.T) {
	ext := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 40, -9, -5, -2, -1, 0, 1, 2, 3, 5, 9, 1 << 40, math.MaxInt64 - 1, math.MaxInt64}
	for dim := int64(1); dim <= 7; dim++ {
		for _, s := range ext {
			for _, e := range ext {
				for _, k := range ext {
					if k == 0 {
						continue
					}
					f, n := Slice(dim, s, e, k)
					wf, wn := sliceNaive(dim, s, e, k)
					if n != wn || (n > 0 && f != wf) {
						t.Fatalf("Slice(%d, %d, %d, %d) = (%d, %d), want (%d, %d)", dim, s, e, k, f, n, wf, wn)
					}
				}
			}
		}
	}
	// The finding: a step of MaxInt64 takes exactly the first element.
	if _, n := Slice(10, 0, math.MaxInt64, math.MaxInt64); n != 1 {
		t.Errorf("step MaxInt64: %d elements, want 1", n)
	}
	if _, n := Slice(10, -1, math.MinInt64, math.MinInt64); n != 1 {
		t.Errorf("step MinInt64: %d elements, want 1", n)
	}
	if _, n := Slice(0, 0, 1, 1); n != 0 {
		t.Errorf("empty axis: %d elements", n)
	}
}
