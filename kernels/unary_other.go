//go:build purego || !amd64

package kernels

// mathAsmKind reports whether a kind of unary.go has SIMD kernels here:
// none without amd64 assembly (the NEON tier runs the Go twin).
func mathAsmKind(ActKind) bool { return false }
