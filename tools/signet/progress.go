package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/signet-go/signet/internal/textsafe"
)

// progress draws a one-line progress bar on a terminal. It stays silent for
// the first second so quick commands print nothing extra, and it is silent
// altogether when the writer is not a terminal (pipes, files, tests), so
// redirected output never contains carriage returns.
type progress struct {
	w       io.Writer
	label   string
	total   int
	done    int
	start   time.Time
	last    time.Time
	drawn   bool
	enabled bool
}

const (
	progressDelay    = time.Second
	progressInterval = 100 * time.Millisecond
	progressWidth    = 30
)

func newProgress(w io.Writer, label string, total int) *progress {
	now := time.Now()
	// The label may name a folder of someone else's files: escape it.
	return &progress{w: w, label: textsafe.Escape(label), total: total, start: now, last: now, enabled: isTerminal(w)}
}

// Add records n more finished units of work and redraws at most every 100 ms.
func (p *progress) Add(n int) {
	if p == nil {
		return
	}
	p.done += n
	if !p.enabled {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < progressDelay || (p.drawn && now.Sub(p.last) < progressInterval && p.done < p.total) {
		return
	}
	p.last = now
	p.draw(now)
}

func (p *progress) draw(now time.Time) {
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
	}
	if frac > 1 {
		frac = 1
	}
	fill := int(frac * progressWidth)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", progressWidth-fill)
	elapsed := now.Sub(p.start).Round(100 * time.Millisecond)
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d %v ", p.label, bar, p.done, p.total, elapsed)
	p.drawn = true
}

// Done erases the bar so the command's own output starts on a clean line.
func (p *progress) Done() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", len(p.label)+progressWidth+40))
	p.drawn = false
}

// isTerminal reports whether w is a character device other than /dev/null.
// A mode check needs no terminal ioctl and so works on every platform Go
// supports; /dev/null is excluded because drawing there is wasted work.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
