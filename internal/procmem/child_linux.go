package procmem

import (
	"os"
	"syscall"
)

// ChildMaxRSS is a finished child's peak resident set from wait4's rusage
// (ru_maxrss, KiB on Linux); 0 when it is not known.
func ChildMaxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > 0 {
		return ru.Maxrss * 1024
	}
	return 0
}
