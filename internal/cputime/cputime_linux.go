package cputime

import "golang.org/x/sys/unix"

// Available reports whether Thread reads a real clock on this platform.
const Available = true

// Thread is the CPU time of the calling OS thread in seconds, or 0 when the
// clock cannot be read. Callers pin their goroutine with
// runtime.LockOSThread for the readings to refer to one thread.
func Thread() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
