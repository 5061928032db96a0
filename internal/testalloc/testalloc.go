// Package testalloc measures what a piece of code allocates, for the tests
// that bound the memory a hostile input can make signet spend.
package testalloc

import "runtime"

// Bytes returns the bytes the heap handed out while f ran. The count is
// cumulative (runtime.MemStats.TotalAlloc), so it does not depend on when the
// collector runs, and it covers every goroutine: keep the test quiet while
// f runs (no t.Parallel next to it).
func Bytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
