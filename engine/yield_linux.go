package engine

import "golang.org/x/sys/unix"

// yieldThread lets other OS threads waiting for this core run. A polling
// worker owns its OS thread (LockOSThread), so it yields the thread to the
// OS rather than its goroutine to the Go scheduler, which would have to hand
// the locked thread's P around.
func yieldThread() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
