//go:build !linux

package kernels

import (
	"testing"
	"time"
)

// startCPUTimer falls back to wall time where thread CPU time is not read.
func startCPUTimer(b *testing.B) func() float64 {
	start := time.Now()
	return func() float64 { return time.Since(start).Seconds() }
}
