//go:build purego || !(amd64 || arm64)

// Without assembly (the purego tag, or an architecture with no kernels of
// its own) only the Generic tier's Go loops are registered, and cpu_other.go
// says the machine runs nothing else.

package kernels

func fmaPeakLoop(Tier) (loop func(n int), flopsPerIter int) { return nil, 0 }
