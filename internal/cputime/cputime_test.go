package cputime

import (
	"runtime"
	"testing"
)

func TestThreadAdvances(t *testing.T) {
	if !Available {
		if Thread() != 0 {
			t.Fatal("Thread reads a clock where none is available")
		}
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := Thread()
	x := 0.0
	for i := 0; i < 20_000_000; i++ {
		x += float64(i)
	}
	t1 := Thread()
	if t0 <= 0 || t1 <= t0 {
		t.Fatalf("thread CPU time did not advance over a busy loop: %v -> %v (%v)", t0, t1, x)
	}
}
