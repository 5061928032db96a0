//go:build !linux && !darwin

package procmem

// MaxRSS reports no peak resident set where getrusage is not wired up.
func MaxRSS() (int64, bool) { return 0, false }
