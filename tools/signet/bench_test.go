package main

import (
	"os"
	"runtime"
	"testing"
)

// TestBenchMemory checks the memory figures of `signet bench -json`: the
// file size is the file's, the engine's figures are its own accounting, and
// the peak resident set is at least what the process holds for certain.
func TestBenchMemory(t *testing.T) {
	f := newFixture(t)
	m := runJSON[benchReport](t, "bench", "-model", f.model, "-n", "3", "-warmup", "1", "-json").Memory
	st, err := os.Stat(f.model)
	must(t, err)
	wantEqual(t, m.FileBytes, st.Size(), "file_bytes")
	if m.SessionBytes <= 0 || m.EngineBytes < m.SessionBytes {
		t.Errorf("engine_bytes %d, session_bytes %d: want 0 < session <= engine", m.EngineBytes, m.SessionBytes)
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		if m.PeakRSSBytes != nil || m.RSSSource != "n/a" {
			t.Errorf("peak RSS %v from %q on %s, want n/a", m.PeakRSSBytes, m.RSSSource, runtime.GOOS)
		}
		return
	}
	if m.PeakRSSBytes == nil || m.PeakRatio == nil {
		t.Fatalf("no peak RSS on %s: %+v", runtime.GOOS, m)
	}
	// A Go process's resident set is at least a megabyte (runtime, text
	// touched) and the session's buffers were written during the runs.
	if *m.PeakRSSBytes < 1<<20 || *m.PeakRSSBytes < m.SessionBytes {
		t.Errorf("peak RSS %d bytes, session %d", *m.PeakRSSBytes, m.SessionBytes)
	}
	want := float64(*m.PeakRSSBytes) / float64(m.FileBytes+m.SessionBytes)
	wantEqual(t, *m.PeakRatio, want, "peak_rss_over_file_plus_arena")
	if runtime.GOOS == "linux" {
		wantEqual(t, m.RSSSource, "VmHWM", "rss_source")
		if m.BaselineRSSBytes == nil || m.EndRSSBytes == nil || *m.BaselineRSSBytes > *m.PeakRSSBytes || *m.EndRSSBytes > *m.PeakRSSBytes {
			t.Errorf("baseline %v, end %v, peak %d: want both at most the peak", m.BaselineRSSBytes, m.EndRSSBytes, *m.PeakRSSBytes)
		}
	}

	code, out, errs := runCLI(t, "bench", "-model", f.model, "-n", "2")
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "peak RSS")
	wantContains(t, out, "session")
}
