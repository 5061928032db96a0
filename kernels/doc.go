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
// on amd64, and NEON on arm64. Available reports what this CPU and OS support,
// detected once at init with github.com/klauspost/cpuid/v2 (which checks that
// the OS saves the ymm/zmm register state before reporting AVX2/AVX-512);
// Best is the fastest of them. The engine picks a tier per layer when it plans
// a model, so a layer's kernel is fixed for the life of a session; forcing a
// tier (engine.Options.ForceTier, `signet bench -tier`, SetDotTier for the
// gallery's dot products) is how tests and benchmarks compare tiers, and
// engine.Engine.Layers reports the kernel each layer runs.
//
// # Assembly
//
// All assembly is hand-written Go assembly (no generator): amd64 files use
// VEX/EVEX encodings directly, arm64 files use NEON through the assembler's
// vector mnemonics and WORD-encoded instructions where it has none (see
// neon_arm64.h). Each assembly routine's declaration states, as a Go loop,
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
