package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/signet-go/signet/internal/testrand"
)

// The int8 GEMM family's tester: every microkernel this machine runs
// (QGemmKernels: each tier's, and the ones no tier selects here) against
// the twin QGemmRef, bit for bit, on every tile shape around the tile and
// k-group edges, with guard bands around the output and junk in the packing
// padding the kernels must ignore.

// qgemmLayoutModel is the QGemmMicrokernel contract's loop, in Go, over
// the packed operands of layout l: with it every machine checks the packing
// of every layout (PackQB's bias folding, XorA's +128, the int16 widening,
// the k-group order), including those whose assembly it cannot run (VNNI
// on a CPU without it, NEON on amd64).
func qgemmLayoutModel(l QLayout) QGemmMicrokernel {
	// decode reads n stored values as int32: int16 (Wide), uint8 (A with
	// XorA) or int8.
	decode := func(buf []byte, n int, unsigned bool) []int32 {
		v := make([]int32, n)
		for idx := range v {
			switch {
			case l.Wide:
				v[idx] = int32(int16(uint16(buf[2*idx]) | uint16(buf[2*idx+1])<<8))
			case unsigned:
				v[idx] = int32(buf[idx])
			default:
				v[idx] = int32(int8(buf[idx]))
			}
		}
		return v
	}
	fn := func(kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut) {
		av := decode(a, kg*l.MR*l.KR, l.XorA)
		bv := decode(b, kg*l.NR*l.KR, false)
		for i := 0; i < mr; i++ {
			for j := 0; j < nr; j++ {
				acc := bias[j]
				for g := 0; g < kg; g++ {
					ag := av[l.aIndex(i, g*l.KR, kg):][:l.KR]
					bg := bv[(g*l.NR+j)*l.KR:][:l.KR]
					for r := range ag {
						acc += ag[r] * bg[r]
					}
				}
				c[i*ldc+j] = out.Requantize(acc, scale[j])
			}
		}
	}
	name := fmt.Sprintf("model-%dx%dc%d", l.MR, l.NR, l.KR)
	if l.Wide {
		name += "-wide"
	}
	if l.XorA {
		name += "-xor"
	}
	if l.ARows {
		name += "-rows"
	}
	return QGemmMicrokernel{Name: name, Tier: Generic, QLayout: l, Fn: fn}
}

func isModel(k QGemmMicrokernel) bool { return strings.HasPrefix(k.Name, "model-") }

// qgemmTestKernels is QGemmKernels and the layout models.
func qgemmTestKernels() []QGemmMicrokernel {
	out := QGemmKernels()
	for _, l := range qlayouts {
		out = append(out, qgemmLayoutModel(l))
	}
	return out
}

// qGuard is the guard byte at position i of a guarded int8 buffer: a
// pattern, since every byte value is a possible output.
func qGuard(i int) int8 { return int8(0x5a ^ byte(i*37)) }

// guardedQ returns n int8s (capacity n) inside a buffer whose guardLen
// bytes on each side, and the inner bytes too, hold qGuard values.
func guardedQ(n int) (inner, whole []int8) {
	whole = make([]int8, n+2*guardLen)
	for i := range whole {
		whole[i] = qGuard(i)
	}
	return whole[guardLen : guardLen+n : guardLen+n], whole
}

// checkGuardsQ fails the test if a guard byte around the n inner bytes of
// whole changed.
func checkGuardsQ(t *testing.T, whole []int8, n int) {
	t.Helper()
	for i := range whole {
		if (i < guardLen || i >= guardLen+n) && whole[i] != qGuard(i) {
			t.Fatalf("wrote byte %d outside [0,%d): %d", i-guardLen, n, whole[i])
		}
	}
}

func int8s(r testrand.Rand, n int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(r.Uint32())
	}
	return s
}

// qCase is one tile's parameters and data.
type qCase struct {
	k, mr, nr, ldc int
	a              []int8 // mr×k, row stride k
	w              []int8 // k×nr, row stride nr
	bias           []int32
	scale          []float32
	za             int8
	out            QOut
}

func (q *qCase) String() string {
	return fmt.Sprintf("k=%d mr=%d nr=%d ldc=%d za=%d out=%+v", q.k, q.mr, q.nr, q.ldc, q.za, q.out)
}

// randomQCase draws a tile: values over the whole int8 range, biases of
// the accumulators' size, scales that put typical sums in the output range
// (so rounding and saturation are both exercised), random zero points and
// clamps.
func randomQCase(r testrand.Rand, k, mr, nr, ldc int) *qCase {
	q := &qCase{k: k, mr: mr, nr: nr, ldc: ldc, a: int8s(r, mr*k), w: int8s(r, k*nr), za: int8(r.Uint32())}
	q.bias = make([]int32, nr)
	q.scale = make([]float32, nr)
	typ := 128 * 128 * math.Sqrt(float64(max(k, 1)))
	for j := range q.bias {
		q.bias[j] = int32(r.NormFloat64() * typ)
		q.scale[j] = float32(100 / typ * math.Exp(r.NormFloat64()))
	}
	lo, hi := int8(r.Uint32()), int8(r.Uint32())
	if lo > hi {
		lo, hi = hi, lo
	}
	switch r.IntN(3) {
	case 0:
		q.out = QOutFull(int8(r.Uint32()))
	case 1:
		zp := int8(r.Uint32())
		q.out = QOut{ZeroPoint: zp, Lo: zp, Hi: 127} // fused ReLU
	default:
		q.out = QOut{ZeroPoint: int8(r.Uint32()), Lo: lo, Hi: hi}
	}
	return q
}

// want is the twin's tile.
func (q *qCase) want() []int8 {
	c := make([]int8, max(0, (q.mr-1)*q.ldc+q.nr))
	QGemmRef(q.mr, q.nr, q.k, q.a, q.k, q.za, q.w, q.nr, q.bias, q.scale, q.out, c, q.ldc)
	return c
}

// runQTile packs the case for kern, fills the packing's padding (rows past
// mr, k steps past k) with junk, runs the microkernel into a guarded tile
// and compares with the twin.
func runQTile(t *testing.T, r testrand.Rand, kern QGemmMicrokernel, q *qCase) {
	t.Helper()
	l := kern.QLayout
	pb := PackQB(l, q.k, q.nr, q.w, q.nr, false, q.za, q.bias, q.scale)
	ap := make([]byte, l.ALen(q.k))
	DenseQA{Data: q.a, LD: q.k}.PackQA(ap, l, 0, q.mr, q.k)
	junk := int8s(r, l.Groups(q.k)*l.KR)
	for i := q.mr; i < l.MR; i++ {
		l.putA(ap, i, 0, junk)
	}
	if pad := l.Groups(q.k)*l.KR - q.k; pad > 0 {
		for i := 0; i < l.MR; i++ {
			l.putA(ap, i, q.k, junk[:pad])
		}
	}
	n := max(0, (q.mr-1)*q.ldc+q.nr)
	c, whole := guardedQ(n)
	bias, scale := make([]int32, l.NR), make([]float32, l.NR) // an empty panel (nr = 0) has none
	copy(bias, pb.Bias)
	copy(scale, pb.Scale)
	b := pb.Data
	if q.nr == 0 {
		b = make([]byte, l.BLen(q.k))
	}
	kern.Fn(l.Groups(q.k), ap, b, c, q.ldc, q.mr, q.nr, bias, scale, &q.out)
	checkGuardsQ(t, whole, n)
	want := q.want()
	for idx := range c {
		i, j := idx/q.ldc, idx%q.ldc
		if j >= q.nr {
			if c[idx] != qGuard(idx+guardLen) {
				t.Fatalf("%s %v: wrote row %d col %d outside the tile", kern.Name, q, i, j)
			}
			continue
		}
		if c[idx] != want[idx] {
			t.Fatalf("%s %v: c[%d][%d] = %d, twin %d", kern.Name, q, i, j, c[idx], want[idx])
		}
	}
}

// qgemmKs straddles the k groups (1, 2, 4), the kernels' unrolled loops
// and powers of two.
var qgemmKs = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 16, 17, 23, 31, 32, 33, 63, 64, 65, 255, 256, 257}

// TestQGemmTiles: every microkernel on every mr ≤ MR, nr ≤ NR at every k
// of qgemmKs, tight and padded rows.
func TestQGemmTiles(t *testing.T) {
	for _, kern := range qgemmTestKernels() {
		t.Run(kern.Name, func(t *testing.T) {
			r := testrand.New(12<<8 | uint64(len(kern.Name)))
			n := 0
			for ki, k := range qgemmKs {
				if isModel(kern) && k > 17 && k < 255 {
					continue // the models check the packing: fewer lengths
				}
				for mr := 0; mr <= kern.MR; mr++ {
					for nr := 0; nr <= kern.NR; nr++ {
						ldc := nr + 1 + (ki+mr)%3*kern.NR
						if (mr+nr)%5 == 0 {
							ldc = max(nr, 1)
						}
						runQTile(t, r, kern, randomQCase(r, k, mr, nr, ldc))
						n++
					}
				}
			}
			t.Logf("%s: %d tiles checked", kern.Name, n)
		})
	}
}

// TestQGemmExtremes: operands at the ends of the int8 range everywhere,
// zero points at their extremes, and K long enough that the int32 sum
// wraps (K·255·128 > 2³¹); the scales keep the wrapped sums in the output
// range so that every bit of the accumulator shows.
func TestQGemmExtremes(t *testing.T) {
	vals := []int8{-128, 127, -127, 0, -1, 1}
	for _, kern := range qgemmTestKernels() {
		if isModel(kern) && !kern.XorA {
			continue // of the models, the one whose bias folds 128·Σw
		}
		t.Run(kern.Name, func(t *testing.T) {
			r := testrand.New(13 << 8)
			for _, k := range []int{1, 4, 255, 1024, 70001} {
				for ci, av := range vals {
					for wi, wv := range vals[:3] {
						for zi, za := range []int8{-128, 127, 0} {
							if k > 255 && (ci >= 2 || wi >= 2 || zi >= 2) || k > 5000 && wi > 0 {
								continue // the long sums at the extremes only
							}
							mr, nr := kern.MR, kern.NR
							if ci%2 == 1 {
								mr, nr = max(1, mr-1), max(1, nr-3)
							}
							if k > 5000 && kern.Tier == Generic || isModel(kern) {
								mr = min(mr, 2) // the Go loops and the model: fewer rows
							}
							q := &qCase{k: k, mr: mr, nr: nr, ldc: nr, za: za}
							q.a = make([]int8, mr*k)
							q.w = make([]int8, k*nr)
							for i := range q.a {
								q.a[i] = av
								if (i+ci)%7 == 0 && k < 5000 {
									q.a[i] = -av - 1 // mixed signs
								}
							}
							for i := range q.w {
								q.w[i] = wv
							}
							q.bias = make([]int32, nr)
							q.scale = make([]float32, nr)
							for j := range q.bias {
								q.bias[j] = []int32{math.MinInt32, math.MaxInt32, 0, -1}[j%4]
								q.scale[j] = float32(math.Ldexp(1, -24-j%3)) * (1 + float32(j)/7)
							}
							q.out = QOutFull([]int8{-128, 127, 0}[(ci+k)%3])
							runQTile(t, r, kern, q)
						}
					}
				}
			}
		})
	}
}

// TestQRequantize pins Requantize against an independent float64
// formulation on ties, saturation, clamps and large accumulators.
func TestQRequantize(t *testing.T) {
	cases := []struct {
		acc   int32
		scale float32
		out   QOut
		want  int8
	}{
		{1, 0.5, QOutFull(0), 0},   // 0.5 → 0
		{3, 0.5, QOutFull(0), 2},   // 1.5 → 2
		{5, 0.5, QOutFull(0), 2},   // 2.5 → 2
		{-1, 0.5, QOutFull(0), 0},  // -0.5 → -0
		{-3, 0.5, QOutFull(0), -2}, // -1.5 → -2
		{-5, 0.5, QOutFull(0), -2}, // -2.5 → -2
		{255, 1, QOutFull(-128), 127},
		{-1, 1, QOutFull(-128), -128},
		{300, 1, QOutFull(0), 127},
		{-300, 1, QOutFull(0), -128},
		{math.MaxInt32, 1, QOutFull(5), 127},
		{math.MinInt32, 1, QOutFull(5), -128},
		{math.MaxInt32, 3e38, QOutFull(0), 127}, // +Inf clamps
		{math.MinInt32, 3e38, QOutFull(0), -128},
		{16777217, 1.0 / (1 << 17), QOutFull(0), 127}, // float32(acc) rounds to 2^24: 128 → 127
		{10, 1, QOut{ZeroPoint: -20, Lo: -20, Hi: 127}, -10},
		{-10, 1, QOut{ZeroPoint: -20, Lo: -20, Hi: 127}, -20},
		{7, 1, QOut{ZeroPoint: 3, Lo: -4, Hi: 8}, 8},
	}
	for _, c := range cases {
		if got := c.out.Requantize(c.acc, c.scale); got != c.want {
			t.Errorf("Requantize(%d, %g, %+v) = %d, want %d", c.acc, c.scale, c.out, got, c.want)
		}
	}
	r := testrand.New(15 << 8)
	for range 200000 {
		acc := int32(r.Uint32())
		if r.IntN(2) == 0 {
			acc >>= r.IntN(31)
		}
		scale := float32(math.Ldexp(r.Float64(), -r.IntN(32)))
		out := QOut{ZeroPoint: int8(r.Uint32()), Lo: -128, Hi: 127}
		// float64 holds the float32 product exactly; round it to float32
		// once, as the contract does.
		y := float64(float32(float64(float32(acc)) * float64(scale)))
		q := math.RoundToEven(y) + float64(out.ZeroPoint)
		want := int8(math.Max(-128, math.Min(127, q)))
		if got := out.Requantize(acc, scale); got != want {
			t.Fatalf("Requantize(%d, %g, %+v) = %d, want %d", acc, scale, out, got, want)
		}
	}
}

// TestQGemmDriver runs QGemmRange over M, N around the tile sizes, split
// different ways across "threads", against the twin: the same bytes for
// every split, no write outside C.
func TestQGemmDriver(t *testing.T) {
	for _, kern := range qgemmTestKernels() {
		t.Run(kern.Name, func(t *testing.T) {
			r := testrand.New(14 << 8)
			MR, NR := kern.MR, kern.NR
			for _, K := range []int{1, 5, 8, 27, 64} {
				for M := 0; M <= 2*MR+1; M += 1 + M%3 {
					for N := 1; N <= 2*NR+1; N += 1 + N%4 {
						q := randomQCase(r, K, M, N, N+3)
						trans := (M+N)%2 == 0
						w := q.w
						if trans { // the same weights given as [N×K]
							w = make([]int8, N*K)
							for p := 0; p < K; p++ {
								for j := 0; j < N; j++ {
									w[j*K+p] = q.w[p*N+j]
								}
							}
						}
						ldw := N
						if trans {
							ldw = K
						}
						op := QGemmOp{MK: kern, M: M, B: PackQB(kern.QLayout, K, N, w, ldw, trans, q.za, q.bias, q.scale), Out: q.out}
						want := q.want()
						for _, split := range []int{1, 2, op.B.Panels()} {
							n := max(0, (M-1)*q.ldc+N)
							c, whole := guardedQ(n)
							scratch := make([]byte, op.ScratchLen())
							tasks := op.Tiles() * split
							// Three "threads" take the tasks in interleaved ranges.
							for lo := 0; lo < tasks; lo += 3 {
								QGemmRange(&op, DenseQA{Data: q.a, LD: K}, c, q.ldc, split, lo, min(lo+2, tasks), scratch)
								if lo+2 < tasks {
									QGemmRange(&op, DenseQA{Data: q.a, LD: K}, c, q.ldc, split, lo+2, lo+3, make([]byte, op.ScratchLen()))
								}
							}
							checkGuardsQ(t, whole, n)
							for idx := range c {
								if idx%q.ldc < N && c[idx] != want[idx] {
									t.Fatalf("%s M=%d N=%d K=%d split=%d: c[%d] = %d, twin %d", kern.Name, M, N, K, split, idx, c[idx], want[idx])
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestQGemmTiersSelect: a tier this machine runs gets a kernel of its own
// (AVX512 on a CPU without VNNI gets AVX2's), and the others fall back to
// Generic and say so.
func TestQGemmTiersSelect(t *testing.T) {
	for _, tier := range Tiers() {
		k := QGemmFor(tier)
		switch {
		case !tier.Runs() && k.Tier != Generic:
			t.Errorf("QGemmFor(%v) = %s on %v; the machine does not run %v", tier, k.Name, k.Tier, tier)
		case tier.Runs() && k.Tier != tier && !(tier == AVX512 && k.Tier == AVX2):
			t.Errorf("QGemmFor(%v) = %s on %v: the fast path would silently not be taken", tier, k.Name, k.Tier)
		}
		t.Logf("%v: %s", tier, k.Name)
	}
	if k := QGemmFor(numTiers); k.Tier != Generic {
		t.Errorf("QGemmFor(numTiers) = %s", k.Name)
	}
}

// FuzzQGemm drives the whole GEMM (packing, driver, every microkernel)
// with shapes and values from the fuzzer and fails on any byte that
// differs from the twin.
func FuzzQGemm(f *testing.F) {
	f.Add(uint8(5), uint8(17), uint8(9), int8(3), int8(-7), uint8(0), []byte{1, 2, 3, 200, 128, 127, 0, 255})
	f.Add(uint8(13), uint8(33), uint8(64), int8(-128), int8(127), uint8(1), []byte{128})
	f.Add(uint8(1), uint8(1), uint8(1), int8(0), int8(0), uint8(2), []byte{})
	f.Fuzz(func(t *testing.T, m, n, k uint8, za, zp int8, mode uint8, data []byte) {
		M, N, K := int(m%40), int(n%70)+1, int(k)
		src := func(i int) int8 {
			if len(data) == 0 {
				return int8(i*131 + 7)
			}
			return int8(data[i%len(data)] ^ byte(i/len(data)))
		}
		a := make([]int8, M*K)
		for i := range a {
			a[i] = src(i)
		}
		w := make([]int8, K*N)
		for i := range w {
			w[i] = src(3*i + 1)
		}
		bias := make([]int32, N)
		scale := make([]float32, N)
		for j := range bias {
			bias[j] = int32(src(j)) * int32(src(j+5)) * 97
			scale[j] = float32(math.Ldexp(1+float64(uint8(src(j+2)))/64, -int(mode%16)-int(uint8(src(j+3))%8)))
		}
		out := QOutFull(zp)
		if mode&16 != 0 {
			out.Lo = zp
		}
		want := make([]int8, M*N)
		QGemmRef(M, N, K, a, K, za, w, N, bias, scale, out, want, N)
		for _, kern := range qgemmTestKernels() {
			op := QGemmOp{MK: kern, M: M, B: PackQB(kern.QLayout, K, N, w, N, false, za, bias, scale), Out: out}
			c, whole := guardedQ(M * N)
			QGemmRange(&op, DenseQA{Data: a, LD: K}, c, N, 1, 0, op.Tiles(), make([]byte, op.ScratchLen()))
			checkGuardsQ(t, whole, M*N)
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("%s M=%d N=%d K=%d: c[%d] = %d, twin %d", kern.Name, M, N, K, i, c[i], want[i])
				}
			}
		}
	})
}

// TestWidenInt8: the packing's widening, the Go loop and the one this
// machine uses (assembly where the CPU has it), against the definition at
// every length around the blocks of 16, inside guard bands.
func TestWidenInt8(t *testing.T) {
	r := testrand.New(19 << 8)
	for name, widen := range map[string]func([]byte, []int8){"go": widenInt8Go, "selected": widenInt8} {
		for n := 0; n <= 70; n++ {
			src := int8s(r, n)
			want := make([]byte, 2*n)
			for q, v := range src { // the definition: little-endian int16s
				binary.LittleEndian.PutUint16(want[2*q:], uint16(int16(v)))
			}
			checkGuarded(t, fmt.Sprintf("%s n=%d", name, n), want, func(dst []byte) { widen(dst, src) })
		}
	}
}

// TestRowFill: padding runs of every layout and length, at offsets inside
// a row, against the definition (the value's bytes n times, XOR 0x80 for
// XorA), inside guard bands.
func TestRowFill(t *testing.T) {
	for _, l := range []QLayout{{}, {XorA: true}, {Wide: true}} {
		for _, v := range []int8{-128, -3, 0, 5, 127} {
			for k0 := 0; k0 < 3; k0++ {
				for n := 0; n <= 40; n++ {
					e := l.esize()
					want := make([]byte, e*(k0+n))
					for q := k0; q < k0+n; q++ {
						switch {
						case l.Wide:
							binary.LittleEndian.PutUint16(want[2*q:], uint16(int16(v)))
						case l.XorA:
							want[q] = byte(v) ^ 0x80
						default:
							want[q] = byte(v)
						}
					}
					checkGuarded(t, fmt.Sprintf("%+v v=%d k0=%d n=%d", l, v, k0, n), want[e*k0:], func(dst []byte) {
						// dst is the run; the row starts k0 elements before it.
						row := make([]byte, e*k0, e*k0+len(dst))
						row = append(row, dst...)
						l.rowFill(row, k0, n, v)
						copy(dst, row[e*k0:])
					})
				}
			}
		}
	}
}

// checkGuarded runs fill on a len(want)-byte window of a guard-banded
// buffer and checks the window against want and the bands untouched.
func checkGuarded(t *testing.T, what string, want []byte, fill func(dst []byte)) {
	t.Helper()
	n := len(want)
	buf := make([]byte, n+2*guardLen)
	for i := range buf {
		buf[i] = byte(qGuard(i))
	}
	fill(buf[guardLen : guardLen+n : guardLen+n])
	for i, v := range buf {
		switch {
		case i < guardLen || i >= guardLen+n:
			if v != byte(qGuard(i)) {
				t.Fatalf("%s: wrote byte %d outside", what, i-guardLen)
			}
		case v != want[i-guardLen]:
			t.Fatalf("%s: byte %d = %d, want %d", what, i-guardLen, v, want[i-guardLen])
		}
	}
}
