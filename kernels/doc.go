// Package kernels holds signet's numeric kernels: a plain reference
// implementation of each (the oracle, kept forever), a fast portable Go path,
// and assembly microkernels per CPU tier that slot in per layer.
//
// A kernel family is described by a contract (see GemmMicrokernel); every tier
// implements the same contract and tests compare each tier with the reference
// on every size around its tile boundaries, with guard bands around the output
// that catch stray writes, and fuzz targets compare them on random shapes.
//
// # Tiers and dispatch
//
// The tiers are Generic (pure Go, every platform), AVX2 (with FMA) and AVX512
// on amd64, and NEON on arm64. Which of them this machine runs is decided in
// one file per architecture (cpu_amd64.go, which asks
// github.com/klauspost/cpuid/v2 and so checks that the OS saves the ymm/zmm
// register state; cpu_arm64.go; cpu_other.go for purego builds and other
// architectures, Generic only). Available lists them and Best is the fastest.
//
// Every kernel family (gemm, dot, elem, depthwise, winograd, ...) registers each tier it
// implements in one registry (kernels/internal/impl, modelled on the
// standard library's crypto/internal/impl). A tier is chosen once by the
// caller and passed down: Gemm(t), ElemFor(t), DotFor(t) and
// NewDepthwiseTier(..., t) return that tier's kernels, or
// Generic's when the family lacks t or this machine does not run it, and
// each reports the tier it actually chose (Resolve lists them for all
// families at once). There is no process-wide tier switch: the engine plans
// every layer on the tier of its options (engine.Options.ForceTier, `signet
// bench -tier`) and reports it in engine.Engine.Layers; a gallery scores on
// its engine's tier (gallery.Gallery.SetTier). The package-level DotRows,
// AddSlice, MulSlice and Act.ApplySlice, and the zero Dot and Elem, run on
// Best.
//
// Tests loop over every defined tier and skip, by name, the ones this
// machine does not run; internal/impl's Select and Reset let a test make the
// machine look smaller.
//
// # Convolution
//
// ConvGemm runs any convolution as an implicit GEMM over NHWC activations
// (no im2col buffer); Depthwise runs depthwise ones; Winograd runs 3×3
// stride-1 ones by Winograd F(4×4, 3×3), a quarter of the multiply-adds for
// transforms that the winograd family implements per tier (AVX2 assembly,
// also run by AVX-512, and NEON assembly). Which a layer gets is the
// engine's plan-time rule (engine/internal/cpu).
//
// # Assembly
//
// The amd64 assembly is generated with avo by the separate module in _asm
// (`go generate ./kernels`; CI fails when the committed files differ from
// what it writes): one source per kernel family with the ISA (AVX2 ymm,
// AVX-512 zmm) and tile shape as parameters, one constant table
// (at the top of kernels_amd64.s), and Go constants read through go_asm.h. The arm64
// assembly is hand-written, NEON through the assembler's vector mnemonics
// and WORD-encoded instructions where it has none (see neon_arm64.h), and
// takes its constants from the same table (consts_arm64.s) and go_asm.h. Each assembly routine's declaration states, as a Go loop,
// exactly what it computes, and has a pure-Go twin with the same contract.
// Building with the purego tag removes every assembly file; the package then
// offers only the Generic tier, with identical results up to the stated
// floating-point tolerances (integers bit for bit).
//
// # Determinism
//
// For a given tier, every kernel's result is independent of how work is split
// between threads: threads own disjoint output tiles and each output is
// always summed in the same order.
package kernels
