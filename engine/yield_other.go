//go:build !linux

package engine

import "runtime"

// yieldThread lets other work run; without a portable thread yield it goes
// through the Go scheduler.
func yieldThread() { runtime.Gosched() }
