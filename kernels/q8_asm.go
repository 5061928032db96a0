//go:build !purego && (amd64 || arm64)

package kernels

// q8Asm is one tier's int8 element-wise assembly: the kernels take n a
// multiple of lanes (of maxLanes for max; 1: any n), and the Go loops do
// the rest.
type q8Asm struct {
	quant           func(dst *int8, src *float32, n int, scale float32, zero int32)
	dequant         func(dst *float32, src *int8, n int, scale float32, zero int32)
	add             func(dst, a, b *int8, n int, sa, sb, s float32, za, zb, zo, lo, hi int32)
	max             func(dst, a *int8, n int)
	lanes, maxLanes int
}

// register adds k as tier t's q8 implementation.
func (k q8Asm) register(t Tier, name string) {
	registerQ8(t, name, &q8Impl{
		quant: func(dst []int8, src []float32, scale float32, zero int8) {
			if n := len(dst) &^ (k.lanes - 1); n > 0 {
				k.quant(&dst[0], &src[0], n, scale, int32(zero))
				dst, src = dst[n:], src[n:]
			}
			q8QuantGeneric(dst, src, scale, zero)
		},
		dequant: func(dst []float32, src []int8, scale float32, zero int8) {
			if n := len(dst) &^ (k.lanes - 1); n > 0 {
				k.dequant(&dst[0], &src[0], n, scale, int32(zero))
				dst, src = dst[n:], src[n:]
			}
			q8DequantGeneric(dst, src, scale, zero)
		},
		add: func(dst, a, b []int8, p *QAddParams) {
			if n := len(dst) &^ (k.lanes - 1); n > 0 {
				k.add(&dst[0], &a[0], &b[0], n, p.ScaleA, p.ScaleB, p.Scale,
					int32(p.ZeroA), int32(p.ZeroB), int32(p.Out.ZeroPoint), int32(p.Out.Lo), int32(p.Out.Hi))
				dst, a, b = dst[n:], a[n:], b[n:]
			}
			q8AddGeneric(dst, a, b, p)
		},
		max: func(dst, a []int8) {
			if n := len(dst) &^ (k.maxLanes - 1); n > 0 {
				k.max(&dst[0], &a[0], n)
				dst, a = dst[n:], a[n:]
			}
			q8MaxGeneric(dst, a)
		},
	})
}
