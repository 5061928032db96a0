// Package procmem reads resident memory figures of this process and of its
// finished children, in bytes: the kernel's /proc/<pid>/status lines
// (Linux) and getrusage's peak. Each reader says false, or 0, where the
// system has no such figure, so callers print "n/a" rather than a guess.
package procmem

import (
	"math"
	"os"
	"strconv"
	"strings"
)

// StatusBytes reads a "Key:   1234 kB" line of a /proc/<pid>/status text
// and returns its value in bytes; false when key is absent (a prefix of a
// key is not the key) or its line is not a count of kB.
func StatusBytes(status, key string) (int64, bool) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/1024 {
			return 0, false
		}
		return n * 1024, true
	}
	return 0, false
}

// Self reads key (VmRSS, VmHWM, …) from /proc/self/status; false where
// there is no /proc or no such line.
func Self(key string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	return StatusBytes(string(b), key)
}
