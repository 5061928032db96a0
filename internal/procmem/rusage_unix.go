//go:build linux || darwin

package procmem

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// MaxRSS is this process's peak resident set from getrusage, the fallback
// where /proc/self/status is absent. ru_maxrss is in KiB on Linux and in
// bytes on Darwin.
func MaxRSS() (int64, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil || ru.Maxrss <= 0 {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss), true
	}
	return int64(ru.Maxrss) * 1024, true
}
