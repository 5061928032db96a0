package shape

import (
	"math"
	"slices"
	"testing"
)

func TestSamePad(t *testing.T) {
	cases := []struct {
		in, k, s, d   int
		lower         bool
		before, after int
	}{
		{5, 3, 1, 1, false, 1, 1},
		{4, 3, 2, 1, false, 0, 1}, // out 2: (2-1)*2+3-4 = 1, odd one at the end
		{4, 3, 2, 1, true, 1, 0},  // SAME_LOWER: at the beginning
		{6, 3, 2, 2, false, 1, 2}, // dilated window 5, out 3: (3-1)*2+5-6 = 3
		{1, 7, 1, 1, false, 3, 3},
		{10, 1, 3, 1, false, 0, 0},
		{0, 3, 1, 1, false, 0, 0},
	}
	for _, c := range cases {
		b, a := SamePad(c.in, c.k, c.s, c.d, c.lower)
		if b != c.before || a != c.after {
			t.Errorf("SamePad(%d,%d,%d,%d,%v) = %d,%d; want %d,%d", c.in, c.k, c.s, c.d, c.lower, b, a, c.before, c.after)
		}
		if b+a > 0 {
			if o, ok := PoolOut(c.in, c.k, c.s, c.d, b, a, false); !ok || o != (c.in+c.s-1)/c.s {
				t.Errorf("SAME padding of %+v gives output %d (ok %v), want ceil(in/stride)", c, o, ok)
			}
		}
	}
	// Huge sizes saturate instead of wrapping to a negative padding.
	if b, a := SamePad(int64(math.MaxInt64), 3, 1, math.MaxInt64, false); b < 0 || a < 0 {
		t.Errorf("huge SamePad wrapped: %d,%d", b, a)
	}
	if b, a := SamePad(5, 3, 0, 1, false); b != 0 || a != 0 {
		t.Errorf("stride 0: %d,%d", b, a)
	}
}

func TestPoolOut(t *testing.T) {
	cases := []struct {
		in, k, s, d, pb, pe int
		ceil                bool
		out                 int
		ok                  bool
	}{
		{32, 3, 1, 1, 1, 1, false, 32, true},
		{32, 3, 2, 1, 1, 1, false, 16, true},
		{5, 2, 2, 1, 0, 0, false, 2, true},
		{5, 2, 2, 1, 0, 0, true, 3, true},  // ceil adds the partial window
		{4, 2, 2, 1, 0, 1, true, 2, true},  // a window starting in the end padding is dropped
		{6, 3, 3, 1, 0, 1, true, 2, true},  // span 4: ceil(4/3)+1 = 3, last starts at 6 ≥ 6: dropped
		{7, 3, 1, 3, 0, 0, false, 1, true}, // dilated window 7
		{6, 3, 1, 3, 0, 0, false, 0, false},
		{5, 0, 1, 1, 0, 0, false, 0, false},
		{5, 3, 0, 1, 0, 0, false, 0, false},
		{5, 3, 1, 1, -1, 0, false, 0, false},
	}
	for _, c := range cases {
		o, ok := PoolOut(c.in, c.k, c.s, c.d, c.pb, c.pe, c.ceil)
		if o != c.out || ok != c.ok {
			t.Errorf("PoolOut(%+v) = %d,%v; want %d,%v", c, o, ok, c.out, c.ok)
		}
	}
	if _, ok := PoolOut(int64(math.MaxInt64), 3, 1, 1, math.MaxInt64, 0, false); ok {
		t.Error("padded length past 2^62 accepted")
	}
	if _, ok := PoolOut(int64(10), 1<<40, 1, 1<<40, 0, 0, false); ok {
		t.Error("window past 2^62 accepted")
	}
}

func TestBroadcast(t *testing.T) {
	cases := []struct {
		a, b, out []int64
		ok        bool
	}{
		{[]int64{2, 3}, []int64{3}, []int64{2, 3}, true},
		{[]int64{1, 3, 1}, []int64{4, 1, 5}, []int64{4, 3, 5}, true},
		{[]int64{}, []int64{2}, []int64{2}, true},
		{[]int64{2, 3}, []int64{4}, nil, false},
		{[]int64{-1, 3}, []int64{5, 1}, []int64{5, 3}, true},
		{[]int64{-1}, []int64{1}, []int64{-1}, true},
	}
	for _, c := range cases {
		o, ok := Broadcast(c.a, c.b)
		if ok != c.ok || !slices.Equal(o, c.out) {
			t.Errorf("Broadcast(%v, %v) = %v,%v; want %v,%v", c.a, c.b, o, ok, c.out, c.ok)
		}
	}
	if o, ok := Broadcast([]int{3, 1}, []int{1, 4}); !ok || !slices.Equal(o, []int{3, 4}) {
		t.Errorf("int Broadcast = %v,%v", o, ok)
	}
}
