package engine_test

import (
	"syscall"
	"unsafe"
)

// threadCPUSeconds is the CPU time of the calling OS thread, or 0 when the
// clock cannot be read. Benchmarks on a machine shared with other work
// compare CPU time: it counts only the turns the benchmark itself got.
func threadCPUSeconds() float64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
