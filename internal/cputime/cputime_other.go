//go:build !linux

package cputime

const available = false

// Thread is unavailable on this platform and returns 0.
func Thread() float64 { return 0 }
