package kernels

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPUSeconds is the CPU time of the calling OS thread.
func threadCPUSeconds() float64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// startCPUTimer pins the benchmark goroutine to its thread and returns a
// function giving the thread's CPU seconds since the call. On the shared
// build machines other processes take turns on the cores; CPU time counts
// only the turns this benchmark got, so GFLOP/s per CPU second measures the
// kernel rather than the neighbours.
func startCPUTimer(b *testing.B) func() float64 {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	start := threadCPUSeconds()
	return func() float64 { return threadCPUSeconds() - start }
}
