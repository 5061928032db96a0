package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProgressSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "embed", 3)
	p.start = time.Now().Add(-time.Hour)
	p.Add(3)
	p.Done()
	if buf.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", buf.String())
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	must(t, err)
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	must(t, err)
	defer null.Close()
	for _, w := range []*os.File{f, null} {
		if isTerminal(w) {
			t.Errorf("%s taken for a terminal", w.Name())
		}
	}
}

func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, label: "bench", total: 10, start: time.Now(), enabled: true}
	p.Add(1)
	if buf.Len() != 0 {
		t.Fatalf("drew within the first second: %q", buf.String())
	}
	p.start = time.Now().Add(-2 * time.Second)
	p.Add(4)
	out := buf.String()
	if !strings.HasPrefix(out, "\rbench [===============               ] 5/10 ") {
		t.Errorf("bar = %q", out)
	}
	p.Add(5) // the last unit is always drawn
	if !strings.Contains(buf.String(), "10/10") {
		t.Errorf("final state not drawn: %q", buf.String())
	}
	p.Done()
	if s := buf.String(); !strings.HasSuffix(s, "\r") || strings.Contains(s[len(out):], "\n") {
		t.Errorf("Done did not erase the line: %q", s)
	}
}
