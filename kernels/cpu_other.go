//go:build purego || !(amd64 || arm64)

package kernels

// cpuRuns reports whether this build runs tier t: without assembly (the
// purego tag, or an architecture with no kernels of its own) only Generic.
func cpuRuns(t Tier) bool { return t == Generic }
