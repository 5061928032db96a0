//go:build !linux

package cputime

// Available reports whether Thread reads a real clock on this platform.
const Available = false

// Thread is unavailable on this platform and returns 0.
func Thread() float64 { return 0 }
