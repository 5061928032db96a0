// Package host describes the machine the bench commands measure on, for
// their reports, and parses the thread counts they measure with.
package host

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CPUModel returns the "model name" of /proc/cpuinfo, or "" where there is
// none (no /proc, or an arm64 kernel that does not name the core).
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LoadAverage is the 1-minute load average: on a shared machine it says how
// much the numbers were disturbed by other work.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// Threads parses a comma-separated list of thread counts, each at least 1.
func Threads(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || t < 1 {
			return nil, fmt.Errorf("bad thread count %q", p)
		}
		out = append(out, t)
	}
	return out, nil
}
