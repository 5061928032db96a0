//go:build purego || !(amd64 || arm64)

// Without assembly (the purego tag, or an architecture with no kernels of
// its own) only the Generic tier is registered and the dot products stay on
// their Go loops.

package kernels

func fmaPeakLoop(Tier) (loop func(n int), flopsPerIter int) { return nil, 0 }
