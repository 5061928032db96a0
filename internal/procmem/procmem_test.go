package procmem

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestStatusBytes(t *testing.T) {
	status := "Name:\tsignet\nVmPeak:\t  812345 kB\nVmHWM:\t   15360 kB\nVmRSS:\t   12288 kB\nThreads:\t5\n"
	for _, c := range []struct {
		key  string
		want int64
		ok   bool
	}{
		{"VmHWM", 15360 * 1024, true},
		{"VmRSS", 12288 * 1024, true},
		{"VmSwap", 0, false},  // absent
		{"Threads", 0, false}, // no unit
		{"VmHW", 0, false},    // a prefix of a key is not the key
		{"Name", 0, false},    // not a number
		{"VmPeak", 812345 * 1024, true},
	} {
		got, ok := StatusBytes(status, c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("StatusBytes(%s) = %d, %v; want %d, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	for _, bad := range []string{"VmHWM:\t-4 kB\n", "VmHWM:\t99999999999999999999 kB\n", "VmHWM:\t12 MB\n", "VmHWM:\n"} {
		if n, ok := StatusBytes(bad, "VmHWM"); ok {
			t.Errorf("StatusBytes(%q) = %d, want no value", bad, n)
		}
	}
}

// The live readers: figures on the systems that have them, none elsewhere.
// A Go process's resident set is at least a megabyte (runtime, text
// touched).
func TestLive(t *testing.T) {
	rss, ok := Self("VmRSS")
	if runtime.GOOS == "linux" {
		if !ok || rss < 1<<20 {
			t.Errorf("Self(VmRSS) = %d, %v: want at least 1 MiB", rss, ok)
		}
		if peak, ok := Self("VmHWM"); !ok || peak < rss {
			t.Errorf("Self(VmHWM) = %d, %v: want at least VmRSS %d", peak, ok, rss)
		}
	} else if ok {
		t.Errorf("Self(VmRSS) = %d on %s, want none", rss, runtime.GOOS)
	}

	n, ok := MaxRSS()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		if ok {
			t.Errorf("MaxRSS = %d on %s, want none", n, runtime.GOOS)
		}
	} else if !ok || n < 1<<20 {
		t.Errorf("MaxRSS = %d, %v: want at least 1 MiB", n, ok)
	}
}

func TestChildMaxRSS(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run a child:", err)
	}
	n := ChildMaxRSS(cmd.ProcessState)
	if runtime.GOOS != "linux" {
		if n != 0 {
			t.Errorf("ChildMaxRSS = %d on %s, want 0", n, runtime.GOOS)
		}
		return
	}
	if n < 1<<20 {
		t.Errorf("ChildMaxRSS = %d: want at least 1 MiB for a Go test binary", n)
	}
}
