//go:build purego || !(amd64 || arm64)

package kernels

// qgemmArchKernels lists the assembly int8 GEMM microkernels this machine
// runs: none without assembly.
func qgemmArchKernels() []QGemmMicrokernel { return nil }
