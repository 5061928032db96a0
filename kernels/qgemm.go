package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/signet-go/signet/kernels/internal/impl"
)

// The int8 GEMM family (qs8: signed int8 activations, int8 weights with one
// scale per output channel, as XNNPACK's qs8-qc8w kernels and the TFLite and
// ONNX QDQ schemes): C[M×N] = requantize(bias + (A − za)·W), with
//
//   - A [M×K] int8 activations, one zero point za for the whole tensor;
//   - W [K×N] int8 weights, symmetric (zero point 0), one scale per column;
//   - bias [N] int32, in units of the accumulator (input scale × weight
//     scale), accumulation in int32;
//   - the int32 accumulator requantized to int8 in float32 per column
//     (QOut.Requantize, round half to even and saturation as ONNX
//     QuantizeLinear), fused into the microkernel's store.
//
// QGemmRef is the definition:
//
//	for i := 0; i < M; i++ {
//		for j := 0; j < N; j++ {
//			acc := bias[j]                                   // int32
//			for p := 0; p < K; p++ {
//				acc += (int32(a[i*lda+p]) - int32(za)) * int32(w[p*ldw+j]) // wraps as int32
//			}
//			c[i*ldc+j] = out.Requantize(acc, scale[j])
//		}
//	}
//
// Integer arithmetic wraps modulo 2³² (as Go's int32 and every SIMD add),
// so the sum is exact while |bias| + K·255·128 < 2³¹ (K below 65793) and
// identical on every tier for any K: the tiers differ in the order of the
// additions and how the zero point enters, never in the result. Every tier
// gives that result bit for bit, for any split of the work over threads.
//
// Activations are signed (qs8) with a zero point: uint8 activations (ONNX
// QDQ's usual asymmetric kind) map exactly onto them by x^0x80 with zero
// point zp−128, so one family serves both, and VNNI's unsigned operand is
// that same XOR, applied when A is packed.
//
// Microkernels (QGemmFor, QGemmKernels): qs8-gemm-4x8-go (Generic),
// qs8-gemm-6x16c2-avx2 (vpmaddwd on int16, never vpmaddubsw, whose int16
// saturation is wrong for full-range weights), qs8-gemm-12x32c4-avx512vnni
// (vpdpbusd; the AVX512 tier where the CPU has VNNI, AVX2's kernel where
// not), qs8-gemm-8x12c4-neondot (sdot, where the CPU has FEAT_DotProd) and
// qs8-gemm-8x8-neonmull (smlal, where not). QConv runs convolutions on
// them.
//
// The zero point, and what a microkernel's instruction needs, is folded into
// the bias when the weights are packed (PackQB): the microkernels sum
// products of the stored values only. A tier's QLayout says how it wants A
// and W packed: how many k steps each instruction consumes (KR), whether the
// values are widened to int16 at pack time (AVX2's vpmaddwd, NEON's smlal)
// and whether A is stored as a^0x80 = a+128 unsigned (vpdpbusd multiplies
// unsigned by signed bytes; the extra 128·Σw is subtracted from the packed
// bias, so it costs nothing at run time).

// QOut is the requantization of a QGemm's int32 accumulators into int8.
type QOut struct {
	ZeroPoint int8 // output zero point
	// Lo and Hi clamp the quantized output, Lo ≤ Hi: -128 and 127 for
	// plain QuantizeLinear, ZeroPoint and 127 for a fused ReLU.
	Lo, Hi int8
}

// QOutFull is the requantization to int8 with zero point zp and no clamp
// but int8's range.
func QOutFull(zp int8) QOut { return QOut{ZeroPoint: zp, Lo: -128, Hi: 127} }

// bounds are the clamp bounds relative to the zero point, as float32
// (exact: integers in [-255, 255]).
func (o *QOut) bounds() (lo, hi float32) {
	return float32(int32(o.Lo) - int32(o.ZeroPoint)), float32(int32(o.Hi) - int32(o.ZeroPoint))
}

// Requantize maps one accumulator to int8. It is the exact sequence every
// tier performs, each step one IEEE float32 operation in the default
// rounding mode (to nearest, ties to even), so all tiers agree bit for bit:
//
//	y := float32(acc)                          // cvtdq2ps / scvtf: rounds |acc| > 2²⁴
//	y *= scale                                 // one float32 product
//	y = min(max(y, float32(Lo-ZeroPoint)), float32(Hi-ZeroPoint))
//	q := int32(math.RoundToEven(float64(y)))   // cvtps2dq / fcvtns: exact on the clamped y
//	return int8(q + ZeroPoint)                 // in [Lo, Hi]
//
// Clamping before rounding gives what rounding before clamping would (the
// bounds are integers), so the result is ONNX QuantizeLinear's
// saturate(round(acc·scale) + zero point), clamped to [Lo, Hi]. scale must
// be finite (a NaN product has no defined int8); ±Inf products clamp.
func (o QOut) Requantize(acc int32, scale float32) int8 {
	lo, hi := o.bounds()
	y := float32(acc)
	y *= scale
	y = min(max(y, lo), hi)
	return int8(int32(math.RoundToEven(float64(y))) + int32(o.ZeroPoint))
}

// QLayout is how one microkernel wants its operands packed. A tile of A
// (MR rows) and a panel of W (NR columns) are stored in groups of KR k
// steps; K is padded with zeros to a whole number G of groups. Element
// (p, j) of a W panel is number (p/KR·NR + j)·KR + p%KR: one group of a
// column is KR consecutive values, what one dot-product lane consumes.
// Element (i, p) of an A tile is number i·G·KR + p with ARows (each row's
// k steps contiguous: the microkernel reads row i from its own address,
// and packing is a copy, a widening or an XOR per row), else
// (p/KR·MR + i)·KR + p%KR as W (one load gives a group of every row, what
// NEON's by-element instructions take).
type QLayout struct {
	MR, NR int
	KR     int  // k steps per group: 1, 2 or 4
	Wide   bool // values stored as little-endian int16 (sign-extended)
	XorA   bool // A stored as a^0x80 (a+128 as uint8), W as int8
	ARows  bool // A tile stored row by row
}

func (l QLayout) esize() int {
	if l.Wide {
		return 2
	}
	return 1
}

// Groups is the number of KR-step groups of K.
func (l QLayout) Groups(K int) int { return (K + l.KR - 1) / l.KR }

// ALen is the number of bytes of one packed A tile of K columns.
func (l QLayout) ALen(K int) int { return l.Groups(K) * l.MR * l.KR * l.esize() }

// BLen is the number of bytes of one packed W panel of K rows.
func (l QLayout) BLen(K int) int { return l.Groups(K) * l.NR * l.KR * l.esize() }

// aIndex is the element number of (i, p) in an A tile of g groups.
func (l QLayout) aIndex(i, p, g int) int {
	if l.ARows {
		return i*g*l.KR + p
	}
	return (p/l.KR*l.MR+i)*l.KR + p%l.KR
}

func (l QLayout) put(dst []byte, idx int, v int8) {
	if l.Wide {
		binary.LittleEndian.PutUint16(dst[2*idx:], uint16(int16(v)))
		return
	}
	dst[idx] = byte(v)
}

// putA stores src as k steps k0, k0+1, ... of row i of the packed A tile
// dst (exactly ALen bytes).
func (l QLayout) putA(dst []byte, i, k0 int, src []int8) {
	if len(src) == 0 {
		return
	}
	MR, KR := l.MR, l.KR
	g := len(dst) / (MR * KR * l.esize())
	switch {
	case l.ARows && l.Wide:
		o := 2 * l.aIndex(i, k0, g)
		widenInt8(dst[o:o+2*len(src)], src)
	case l.ARows && l.XorA:
		o := l.aIndex(i, k0, g)
		xor80(dst[o:o+len(src)], src)
	case l.ARows:
		o := l.aIndex(i, k0, g)
		copy(dst[o:o+len(src)], int8Bytes(src))
	case KR == 1 && !l.Wide && !l.XorA:
		d := dst[k0*MR+i:]
		for q, v := range src {
			d[q*MR] = byte(v)
		}
	case KR == 1 && l.Wide:
		d := dst[2*(k0*MR+i):]
		for q, v := range src {
			binary.LittleEndian.PutUint16(d[2*q*MR:], uint16(int16(v)))
		}
	case KR == 4 && !l.Wide && !l.XorA && k0%4 == 0:
		// Whole groups are 4-byte copies.
		b := int8Bytes(src)
		q := 0
		for ; q+4 <= len(b); q += 4 {
			o := ((k0+q)/4*MR + i) * 4
			binary.LittleEndian.PutUint32(dst[o:o+4], binary.LittleEndian.Uint32(b[q:q+4]))
		}
		for ; q < len(b); q++ {
			dst[l.aIndex(i, k0+q, g)] = b[q]
		}
	default:
		for q, v := range src {
			idx := l.aIndex(i, k0+q, g)
			if l.XorA {
				dst[idx] = byte(v) ^ 0x80
			} else {
				l.put(dst, idx, v)
			}
		}
	}
}

// aRow is row i of a packed A tile with ARows (dst exactly ALen bytes),
// for rowPut and rowFill.
func (l QLayout) aRow(dst []byte, i int) []byte {
	n := len(dst) / l.MR
	return dst[i*n : (i+1)*n]
}

// rowPut stores src as k steps k0, k0+1, ... of an ARows row.
func (l QLayout) rowPut(row []byte, k0 int, src []int8) {
	switch {
	case l.Wide:
		widenInt8(row[2*k0:2*(k0+len(src))], src)
	case l.XorA:
		xor80(row[k0:k0+len(src)], src)
	default:
		copy(row[k0:k0+len(src)], int8Bytes(src))
	}
}

// rowFill stores n copies of v as k steps k0 .. k0+n-1 of an ARows row.
func (l QLayout) rowFill(row []byte, k0, n int, v int8) {
	if n <= 0 {
		return
	}
	var d []byte
	if l.Wide {
		d = row[2*k0 : 2*(k0+n)]
		d[0], d[1] = byte(v), byte(v>>7)
	} else {
		d = row[k0 : k0+n]
		d[0] = byte(v)
		if l.XorA {
			d[0] ^= 0x80
		}
	}
	// The pattern doubles with each copy: a padding run costs a few
	// memmoves, not a store per byte.
	for f := len(d) / n; f < len(d); f *= 2 {
		copy(d[f:], d[:f])
	}
}

// fillA stores n copies of v as k steps k0 .. k0+n-1 of row i.
func (l QLayout) fillA(dst []byte, i, k0, n int, v int8) {
	if l.ARows {
		l.rowFill(l.aRow(dst, i), k0, n, v)
		return
	}
	g := len(dst) / (l.MR * l.KR * l.esize())
	for p := k0; p < k0+n; p++ {
		idx := l.aIndex(i, p, g)
		if l.XorA {
			dst[idx] = byte(v) ^ 0x80
		} else {
			l.put(dst, idx, v)
		}
	}
}

// int8Bytes is s as bytes.
func int8Bytes(s []int8) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// widenInt8 stores src as little-endian int16s in dst (2·len(src) bytes).
// The amd64 build replaces it with an AVX2 loop where the CPU has AVX2.
var widenInt8 = widenInt8Go

func widenInt8Go(dst []byte, src []int8) {
	dst = dst[:2*len(src)]
	for q, v := range src {
		d := dst[2*q : 2*q+2 : 2*q+2]
		d[0], d[1] = byte(v), byte(v>>7) // v>>7: the sign, 0 or -1
	}
}

// xor80 stores src^0x80 in dst, eight bytes at a time.
func xor80(dst []byte, src []int8) {
	b := int8Bytes(src)
	dst = dst[:len(b)]
	q := 0
	for ; q+8 <= len(b); q += 8 {
		binary.LittleEndian.PutUint64(dst[q:], binary.LittleEndian.Uint64(b[q:])^0x8080808080808080)
	}
	for ; q < len(b); q++ {
		dst[q] = b[q] ^ 0x80
	}
}

// The layouts of the assembly microkernels, here so that every machine's
// tests can check the packing of every one (see qgemmLayoutModel).
var (
	qlayoutAVX2     = QLayout{MR: 6, NR: 16, KR: 2, Wide: true, ARows: true}  // vpmaddwd: int16 pairs
	qlayoutVNNI     = QLayout{MR: 12, NR: 32, KR: 4, XorA: true, ARows: true} // vpdpbusd: u8 quads × s8 quads
	qlayoutNEONDot  = QLayout{MR: 8, NR: 12, KR: 4}                           // sdot: s8 quads
	qlayoutNEONMull = QLayout{MR: 8, NR: 8, KR: 1, Wide: true}                // smlal: int16
	qlayouts        = []QLayout{qlayoutAVX2, qlayoutVNNI, qlayoutNEONDot, qlayoutNEONMull}
)

// QGemmMicrokernel computes one MR×NR tile of C from a packed A tile and a
// packed W panel (see QLayout):
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			acc := bias[j]                              // int32
//			for p := 0; p < kg*KR; p++ {
//				acc += elemA(a, i, p) * elemB(b, p, j)  // wraps as int32
//			}
//			c[i*ldc+j] = out.Requantize(acc, scale[j])
//		}
//	}
//
// where elemA and elemB read the stored values as int32: int8, int16
// (Wide) or, for A with XorA, the unsigned byte a^0x80. kg ≥ 0 is the
// number of k groups; mr ≤ MR, nr ≤ NR; bias and scale hold the panel's NR
// values (PackedQB pads them; those past nr are read and ignored). Only the
// mr×nr valid elements of c are written.
type QGemmMicrokernel struct {
	Name string // e.g. "qs8-gemm-6x16c2-avx2"
	Tier Tier   // the tier whose instructions it uses
	QLayout
	Fn func(kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut)
}

// qgemmFamily holds the int8 GEMM microkernels.
var qgemmFamily = impl.NewFamily[QGemmMicrokernel]("qgemm")

func registerQGemm(t Tier, k QGemmMicrokernel) { register(qgemmFamily, t, k.Name, k) }

// QGemmFor returns the int8 GEMM microkernel of tier t, falling back to
// Generic when the family lacks t or this machine does not run it. Its Tier
// field says whose instructions it uses: on an AVX-512 CPU without VNNI
// the AVX512 request gets the AVX2 kernel.
func QGemmFor(t Tier) QGemmMicrokernel { return qgemmFamily.Lookup(uint8(t)).Kernels }

// QGemmKernels lists every int8 GEMM microkernel this machine runs,
// including those no tier selects here (NEON's widening-multiply kernel on
// a CPU with sdot, AVX2's on one with VNNI), so that tests cover them all.
func QGemmKernels() []QGemmMicrokernel {
	out := []QGemmMicrokernel{qgemmGeneric}
	for _, k := range qgemmArchKernels() {
		if k.Tier.Runs() {
			out = append(out, k)
		}
	}
	return out
}

var qgemmGeneric = QGemmMicrokernel{
	Name: "qs8-gemm-4x8-go", Tier: Generic, QLayout: QLayout{MR: 4, NR: 8, KR: 1},
	Fn: qgemmGeneric4x8,
}

func init() { registerQGemm(Generic, qgemmGeneric) }

// qgemmGeneric4x8 is the portable microkernel: int8 values, one k step a
// group. (Two-by-four sub-tiles with their accumulators in registers, as
// gemmGeneric4x8 does, measured no faster: the int32 multiplies bound it.)
func qgemmGeneric4x8(kg int, a, b []byte, c []int8, ldc, mr, nr int, bias []int32, scale []float32, out *QOut) {
	if mr <= 0 || nr <= 0 {
		return
	}
	var acc [4][8]int32
	for i := 0; i < mr; i++ {
		copy(acc[i][:], bias[:8])
	}
	a, b = a[:4*kg], b[:8*kg]
	for p := 0; p < kg; p++ {
		ap := a[4*p : 4*p+4 : 4*p+4]
		bp := b[8*p : 8*p+8 : 8*p+8]
		for i := 0; i < mr; i++ {
			ai := int32(int8(ap[i]))
			r := &acc[i]
			r[0] += ai * int32(int8(bp[0]))
			r[1] += ai * int32(int8(bp[1]))
			r[2] += ai * int32(int8(bp[2]))
			r[3] += ai * int32(int8(bp[3]))
			r[4] += ai * int32(int8(bp[4]))
			r[5] += ai * int32(int8(bp[5]))
			r[6] += ai * int32(int8(bp[6]))
			r[7] += ai * int32(int8(bp[7]))
		}
	}
	storeQTile(acc[:mr], c, ldc, nr, scale, out)
}

// storeQTile requantizes and stores the nr valid columns of each row.
func storeQTile(acc [][8]int32, c []int8, ldc, nr int, scale []float32, out *QOut) {
	for i := range acc {
		row := c[i*ldc : i*ldc+nr]
		for j := range row {
			row[j] = out.Requantize(acc[i][j], scale[j])
		}
	}
}

// PackedQB is W [K×N] packed for one QLayout, with the bias the layout's
// microkernels add: panel j (columns j·NR ..) occupies
// Data[j·BLen(K) : (j+1)·BLen(K)]; Bias and Scale hold Panels()·NR values,
// zero past N.
type PackedQB struct {
	K, N int
	L    QLayout
	Data []byte
	// Bias is bias[j] − za·Σₚ w[p][j], and − 128·Σₚ w[p][j] more when A is
	// stored plus 128 (XorA), all wrapping as int32.
	Bias  []int32
	Scale []float32
}

// Panels returns the number of NR-wide panels.
func (b *PackedQB) Panels() int { return (b.N + b.L.NR - 1) / b.L.NR }

// PackQB packs weights w for layout l: element (k, n) is w[k*ldw+n], or
// w[n*ldw+k] when trans (W given as [N×K], as ONNX's OIHW convolution and
// MatMulInteger-transposed weights are). bias (N values, nil for zero) is
// in accumulator units; za is A's zero point; scale holds N requantization
// scales (input scale × weight scale[n] / output scale).
func PackQB(l QLayout, K, N int, w []int8, ldw int, trans bool, za int8, bias []int32, scale []float32) *PackedQB {
	if K < 0 || N < 0 || len(scale) < N || (bias != nil && len(bias) < N) {
		panic(fmt.Sprintf("kernels: PackQB K=%d N=%d with %d scales and %d biases", K, N, len(scale), len(bias)))
	}
	pb := &PackedQB{K: K, N: N, L: l}
	np := pb.Panels()
	blen := l.BLen(K)
	pb.Data = make([]byte, np*blen)
	pb.Bias = make([]int32, np*l.NR)
	pb.Scale = make([]float32, np*l.NR)
	copy(pb.Scale, scale[:N])
	corr := int32(za)
	if l.XorA {
		corr += 128
	}
	for n := 0; n < N; n++ {
		j, jj := n/l.NR, n%l.NR
		panel := pb.Data[j*blen : (j+1)*blen]
		var sum int32
		for p := 0; p < K; p++ {
			var v int8
			if trans {
				v = w[n*ldw+p]
			} else {
				v = w[p*ldw+n]
			}
			sum += int32(v)
			l.put(panel, (p/l.KR*l.NR+jj)*l.KR+p%l.KR, v)
		}
		var b int32
		if bias != nil {
			b = bias[n]
		}
		pb.Bias[n] = b - corr*sum
	}
	return pb
}

// A QAPacker writes rows m0 .. m0+mr-1 (all K columns) of A into dst as one
// packed tile of layout l (ALen(K) bytes); rows mr .. MR-1 and the k steps
// past K may hold anything (W is zero there, and rows past mr are not
// stored).
type QAPacker interface {
	PackQA(dst []byte, l QLayout, m0, mr, K int)
}

// DenseQA is a row-major int8 A matrix: element (m, k) at Data[m*LD+k].
type DenseQA struct {
	Data []int8
	LD   int
}

// PackQA implements QAPacker.
func (a DenseQA) PackQA(dst []byte, l QLayout, m0, mr, K int) {
	dst = dst[:l.ALen(K)]
	clear(dst)
	for i := 0; i < mr; i++ {
		l.putA(dst, i, 0, a.Data[(m0+i)*a.LD:(m0+i)*a.LD+K])
	}
}

// QGemmOp is one int8 GEMM with packed weights.
type QGemmOp struct {
	MK  QGemmMicrokernel
	M   int
	B   *PackedQB // packed for MK's layout
	Out QOut
}

// ScratchLen is the number of bytes of per-thread A scratch QGemmRange
// needs.
func (g *QGemmOp) ScratchLen() int { return g.MK.ALen(g.B.K) }

// Tiles returns the number of MR-row tiles of M.
func (g *QGemmOp) Tiles() int { return (g.M + g.MK.MR - 1) / g.MK.MR }

// QGemmRange computes tasks lo .. hi-1 of g into c (row stride ldc): task
// t covers M tile t/split and the t%split-th of split equal chunks of the
// NR panels, as GemmRange. The whole of K is one block (int8 tiles are a
// quarter of fp32's bytes, and an int32 sum needs no ordering), so each
// output is computed once, by one microkernel call, whatever the split:
// results are identical for any thread count.
func QGemmRange[P QAPacker](g *QGemmOp, a P, c []int8, ldc, split, lo, hi int, scratch []byte) {
	if g.B.L != g.MK.QLayout {
		panic("kernels: QGemmOp weights packed for another layout than " + g.MK.Name)
	}
	MR, NR := g.MK.MR, g.MK.NR
	K, N := g.B.K, g.B.N
	if hi <= lo || N == 0 {
		return
	}
	np := g.B.Panels()
	blen := g.MK.BLen(K)
	kg := g.MK.Groups(K)
	ap := scratch[:g.MK.ALen(K)]
	fn := g.MK.Fn
	packed := -1
	for t := lo; t < hi; t++ {
		mt, chunk := t/split, t%split
		m0 := mt * MR
		mr := min(MR, g.M-m0)
		if packed != mt {
			a.PackQA(ap, g.MK.QLayout, m0, mr, K)
			packed = mt
		}
		for j := chunk * np / split; j < (chunk+1)*np/split; j++ {
			n0 := j * NR
			fn(kg, ap, g.B.Data[j*blen:(j+1)*blen], c[m0*ldc+n0:], ldc, mr, min(NR, N-n0),
				g.B.Bias[n0:n0+NR], g.B.Scale[n0:n0+NR], &g.Out)
		}
	}
}
