package kernels

import (
	"runtime"
	"testing"
	"time"

	"github.com/signet-go/signet/internal/cputime"
)

// startCPUTimer pins the benchmark goroutine to its thread and returns a
// function giving the thread's CPU seconds since the call (wall seconds
// where thread CPU time cannot be read). On the shared build machines other
// processes take turns on the cores; CPU time counts only the turns this
// benchmark got, so GFLOP/s per CPU second measures the kernel rather than
// the neighbours.
func startCPUTimer(b *testing.B) func() float64 {
	if !cputime.Available {
		start := time.Now()
		return func() float64 { return time.Since(start).Seconds() }
	}
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	start := cputime.Thread()
	return func() float64 { return cputime.Thread() - start }
}
