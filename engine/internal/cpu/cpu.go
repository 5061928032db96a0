// Package cpu is the CPU backend: it lowers each planned Op to the kernels
// of package kernels at one tier, packing constant weights as it goes.
// Every kernel here splits its work into tasks over output tiles, rows or
// channel blocks without ever splitting a sum (K), so results are
// bit-identical for any thread count.
package cpu

import (
	"fmt"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

func init() {
	backend.Register("cpu", func(t kernels.Tier) backend.Backend { return New(t, true) })
}

// Backend lowers Ops to CPU kernels of one tier.
type Backend struct {
	tier     kernels.Tier
	mk       kernels.GemmMicrokernel
	el       kernels.Elem
	winograd bool
}

// New returns the CPU backend for tier (which must be available; the
// engine resolves it). winograd lets it run the 3×3 stride-1 convolutions
// where Winograd pays (see winogradPays) by Winograd F(4×4, 3×3).
func New(tier kernels.Tier, winograd bool) *Backend {
	return &Backend{tier: tier, mk: kernels.Gemm(tier), el: kernels.ElemFor(tier), winograd: winograd}
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cpu" }

// Supports implements backend.Backend: the CPU backend lowers every kind of
// Op the planner emits.
func (b *Backend) Supports(op *backend.Op, g backend.Graph) bool {
	switch op.Args.(type) {
	case *backend.Copy, *backend.Conv, *backend.Pool, *backend.GlobalAvgPool, *backend.Gemm, *backend.MatMul,
		*backend.Unary, *backend.Binary, *backend.Affine, *backend.Concat, *backend.Split, *backend.Reduce,
		*backend.Normalize, *backend.Pad, *backend.LayerNorm, *backend.Softmax:
		return true
	}
	return isQuant(op.Args)
}

// Lower implements backend.Backend.
func (b *Backend) Lower(op *backend.Op, g backend.Graph) (backend.Lowered, error) {
	switch a := op.Args.(type) {
	case *backend.Copy:
		return b.lowerCopy(op, a, g), nil
	case *backend.Conv:
		return b.lowerConv(op, a, g)
	case *backend.Pool:
		return b.lowerPool(op, a, g), nil
	case *backend.GlobalAvgPool:
		return b.lowerGAP(op, a), nil
	case *backend.Gemm:
		return b.lowerGemm(op, a, g)
	case *backend.MatMul:
		return b.lowerMatMul(op, a, g)
	case *backend.Unary:
		return b.lowerUnary(op, a, g), nil
	case *backend.Binary:
		return b.lowerBinary(op, a, g), nil
	case *backend.Affine:
		return b.lowerAffine(op, a, g), nil
	case *backend.Concat:
		return b.lowerConcat(op, a, g), nil
	case *backend.Split:
		return b.lowerSplit(op, a), nil
	case *backend.Reduce:
		return b.lowerReduce(op, a), nil
	case *backend.Normalize:
		return b.lowerNormalize(op, a), nil
	case *backend.Pad:
		return b.lowerPad(op, a, g)
	case *backend.LayerNorm:
		return b.lowerLayerNorm(op, a, g)
	case *backend.Softmax:
		return b.lowerSoftmax(op, a, g), nil
	}
	if l, ok, err := b.lowerQuant(op, g); ok {
		return l, err
	}
	return backend.Lowered{}, fmt.Errorf("cpu: no kernel for %T", op.Args)
}

// elemBlock is the smallest block of elements worth a task of its own.
const elemBlock = 1 << 14

func elemTasks(n, threads int) int {
	if threads <= 1 {
		return 1
	}
	return max(1, min(4*threads, n/elemBlock))
}

// chunks returns how many tasks a walk of total elements is cut into.
func chunks(rows, total, threads int) int {
	if threads <= 1 || total < 1<<14 {
		return 1
	}
	return min(rows, 4*threads)
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
