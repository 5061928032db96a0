package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-go/signet/internal/testalloc"
	"github.com/signet-go/signet/internal/textsafe"
)

// childEnv makes the test binary run one signet command (JSON-encoded
// arguments) and exit, so tests can start real concurrent processes.
const (
	childEnv = "SIGNET_TEST_CLI_ARGS"
	holdEnv  = "SIGNET_TEST_CLI_HOLD" // sleep inside the lock, between read and write
)

func TestMain(m *testing.M) {
	if a := os.Getenv(childEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(exitUsage)
		}
		if d, err := time.ParseDuration(os.Getenv(holdEnv)); err == nil {
			testHookLocked = func() { time.Sleep(d) }
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runProcs runs each argument list as its own signet process, all at once.
func runProcs(t *testing.T, hold time.Duration, cmds ...[]string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	var wg sync.WaitGroup
	outs := make([][]byte, len(cmds))
	errs := make([]error, len(cmds))
	for i, args := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _ := json.Marshal(args)
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), childEnv+"="+string(a), holdEnv+"="+hold.String())
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("signet %s: %v\n%s", strings.Join(cmds[i], " "), err, outs[i])
		}
	}
}

// TestConcurrentWriters starts signet processes that change one gallery
// at the same time (the first enrolments also race to create it): every
// change must be in the final file. Each process sleeps between reading
// the gallery and saving it, so writers without the lock would overwrite
// each other's changes every time.
func TestConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	f := newGalleryFixture(t)
	colours := []string{"red", "blue", "green", "yellow", "purple"}
	var cmds [][]string
	for i, c := range colours {
		cmds = append(cmds, []string{"enroll", "-model", f.model, "-gallery", f.gal, "-label", fmt.Sprint("w", i), "-force", "-json",
			f.img(c, 0), f.img(c, 1), f.img(c, 2)})
	}
	runProcs(t, 50*time.Millisecond, cmds...)
	wantEqual(t, sorted(listLabels(t, f)), []string{"w0", "w1", "w2", "w3", "w4"}, "labels after concurrent enrolments")

	// Every other mutating command takes the same lock.
	runProcs(t, 50*time.Millisecond,
		[]string{"rename", "-gallery", f.gal, "-label", "w0", "-to", "renamed"},
		[]string{"remove", "-gallery", f.gal, "-label", "w1"},
		[]string{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "w2", "-force", f.img("green", 3)},
		[]string{"calibrate", "-gallery", f.gal, "-far", "0.1"},
	)
	wantEqual(t, sorted(listLabels(t, f)), []string{"renamed", "w2", "w3", "w4"}, "labels after concurrent changes")
	l := runJSON[listResult](t, "list", "-gallery", f.gal, "-json")
	for _, c := range l.Classes {
		if c.Label == "w2" && c.Exemplars != 4 {
			t.Errorf("w2 has %d exemplars, want 4 (the concurrent enrolment was lost)", c.Exemplars)
		}
		if !c.OwnThreshold && c.Label != "renamed" {
			// calibrate ran before or after the others, never lost: every
			// class it saw has its own threshold.
			t.Logf("class %s: no own threshold (calibrated before its change)", c.Label)
		}
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

// patchGallery edits a saved gallery file with fn and recomputes its
// CRC-32C trailer, as an older or hostile writer could produce it.
func patchGallery(t *testing.T, path string, fn func(b []byte) []byte) {
	t.Helper()
	b := fn(readBytes(t, path))
	n := len(b) - 4
	binary.LittleEndian.PutUint32(b[n:], crc32.Checksum(b[:n], crc32.MakeTable(crc32.Castagnoli)))
	must(t, os.WriteFile(path, b, 0o644))
}

// rawLabel is the same length as "placeholder-label" and holds what a
// hostile writer would store: a window-title OSC, a screen clear, a fake
// table row and an invalid byte.
const rawLabel = "\x1b]0;\x07\x1b[2J\n9\tx\r\xff\u009b"

func noUnsafe(t *testing.T, what, out string) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if j := textsafe.Check(line); j >= 0 {
			t.Fatalf("%s line %d carries a raw control or invalid byte at %d: %q", what, i+1, j, line)
		}
	}
}

// TestHostileText: labels with control characters are refused at
// enrolment and rename; a gallery that stores one anyway (older or hostile
// writer) is listed, classified and reported with it escaped, and JSON
// output keeps the exact label while escaping it.
func TestHostileText(t *testing.T) {
	f := newGalleryFixture(t)
	for _, bad := range []string{"\x1b]0;pwned\x07", "two\nlines", "tab\tbed", "cr\rx", "bad\xff", "csi\u009b2J", "rlo\u202e"} {
		code, out, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", bad, f.img("red", 0))
		wantCode(t, code, exitRuntime, errs)
		wantContains(t, errs, "invalid UTF-8 or control character")
		noUnsafe(t, "stderr", errs)
		noUnsafe(t, "stdout", out)
	}
	if _, err := os.Stat(f.gal); err == nil {
		t.Fatal("a refused enrolment created the gallery")
	}
	code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "placeholder-label", filepath.Join(f.data, "red"))
	wantCode(t, code, exitOK, errs)
	runOK(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "blue", filepath.Join(f.data, "blue"))
	code, _, errs = runCLI(t, "rename", "-gallery", f.gal, "-label", "blue", "-to", "a\x1b[31mb")
	wantCode(t, code, exitRuntime, errs)
	noUnsafe(t, "rename stderr", errs)

	patchGallery(t, f.gal, func(b []byte) []byte {
		i := bytes.Index(b, []byte("placeholder-label"))
		if i < 0 || len(rawLabel) != len("placeholder-label") {
			t.Fatalf("label not found or lengths differ (%d)", len(rawLabel))
		}
		copy(b[i:], rawLabel)
		return b
	})
	// Every table the gallery's labels reach.
	for _, args := range [][]string{
		{"list", "-gallery", f.gal},
		{"classify", "-model", f.model, "-gallery", f.gal, f.img("red", 5), f.img("blue", 5)},
		{"report", "-model", f.model, "-gallery", f.gal, "-label", "green", filepath.Join(f.data, "green")},
		{"calibrate", "-gallery", f.gal, "-far", "0.1", "-dry-run"},
	} {
		code, out, errs := runCLI(t, args...)
		wantCode(t, code, exitOK, errs)
		noUnsafe(t, args[0], out)
		noUnsafe(t, args[0]+" stderr", errs)
	}
	// list prints one row per class: the label's newline fakes none.
	_, out, _ := runCLI(t, "list", "-gallery", f.gal)
	if rows := strings.Count(out, "\n"); rows != 2+1+2 {
		t.Fatalf("list printed %d lines, want 5:\n%s", rows, out)
	}
	// JSON keeps the exact bytes where they are valid UTF-8 and escapes
	// everything a terminal acts on, C1 and DEL included.
	_, out, _ = runCLI(t, "list", "-gallery", f.gal, "-json")
	noUnsafe(t, "list -json", out)
	var l listResult
	must(t, json.Unmarshal([]byte(out), &l))
	if want := strings.ToValidUTF8(rawLabel, "\ufffd"); l.Classes[0].Label != want {
		t.Fatalf("JSON label %q, want %q", l.Classes[0].Label, want)
	}
	_, out, _ = runCLI(t, "classify", "-model", f.model, "-gallery", f.gal, "-json", f.img("red", 5))
	noUnsafe(t, "classify -json", out)
	// A stored raw label can be renamed away.
	runOK(t, "rename", "-gallery", f.gal, "-id", "1", "-to", "red")
	wantEqual(t, listLabels(t, f), []string{"red", "blue"}, "labels after renaming the raw one")

	// File names reach tables and errors too.
	name := filepath.Join(f.dir, "x\x1b[2J\u009by.png")
	must(t, os.WriteFile(name, readBytes(t, f.img("red", 5)), 0o644))
	for _, args := range [][]string{
		{"classify", "-model", f.model, "-gallery", f.gal, name},
		{"classify", "-model", f.model, "-gallery", f.gal, "-json", name},
		{"embed", "-model", f.model, name},
		{"embed", "-model", f.model, "-json", name},
	} {
		code, out, errs := runCLI(t, args...)
		wantCode(t, code, exitOK, errs)
		noUnsafe(t, strings.Join(args[:2], " "), out)
	}
	must(t, os.WriteFile(name, []byte("not an image"), 0o644))
	code, _, errs = runCLI(t, "classify", "-model", f.model, "-gallery", f.gal, name)
	wantCode(t, code, exitRuntime, errs)
	noUnsafe(t, "classify error", errs)
}

// pngClaiming returns a small PNG (a real 16×16 image's bytes) whose header
// claims w×h pixels.
func pngClaiming(t *testing.T, src []byte, w, h uint32) []byte {
	t.Helper()
	p := append([]byte(nil), src...)
	i := bytes.Index(p, []byte("IHDR"))
	if i < 0 {
		t.Fatal("no IHDR")
	}
	binary.BigEndian.PutUint32(p[i+4:], w)
	binary.BigEndian.PutUint32(p[i+8:], h)
	binary.BigEndian.PutUint32(p[i+17:], crc32.ChecksumIEEE(p[i:i+17]))
	return p
}

// TestPixelLimit: an input image or a stored crop whose header claims
// 100000×100000 pixels is refused from the header, with exit status 1, and
// a valid bomb over the limit likewise.
func TestPixelLimit(t *testing.T) {
	f := newGalleryFixture(t)
	f.enrolRed(t)
	liar := filepath.Join(f.dir, "liar.png")
	must(t, os.WriteFile(liar, pngClaiming(t, readBytes(t, f.img("red", 0)), 100000, 100000), 0o644))
	var bomb bytes.Buffer
	must(t, (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&bomb, image.NewGray(image.Rect(0, 0, 8200, 4100))))
	bombPath := filepath.Join(f.dir, "bomb.png")
	must(t, os.WriteFile(bombPath, bomb.Bytes(), 0o644))
	before := readBytes(t, f.gal)
	for _, img := range []string{liar, bombPath} {
		for _, args := range [][]string{
			{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "blue", f.img("blue", 0), img},
			{"classify", "-model", f.model, "-gallery", f.gal, img},
			{"embed", "-model", f.model, img},
		} {
			var code int
			var errs string
			n := testalloc.Bytes(func() { code, _, errs = runCLI(t, args...) })
			wantCode(t, code, exitRuntime, errs)
			wantContains(t, errs, "larger than the pixel limit")
			if n > 64<<20 {
				t.Errorf("%s %s: allocated %d bytes", args[0], filepath.Base(img), n)
			}
		}
	}
	wantEqual(t, readBytes(t, f.gal), before, "gallery after refused images")

	// A crop stored in the gallery claiming 100000×100000: reembed refuses
	// it and leaves the file alone.
	patchGallery(t, f.gal, func(b []byte) []byte {
		i := bytes.Index(b, []byte("IHDR"))
		binary.BigEndian.PutUint32(b[i+4:], 100000)
		binary.BigEndian.PutUint32(b[i+8:], 100000)
		binary.BigEndian.PutUint32(b[i+17:], crc32.ChecksumIEEE(b[i:i+17]))
		return b
	})
	before = readBytes(t, f.gal)
	var code int
	var errs string
	n := testalloc.Bytes(func() { code, _, errs = runCLI(t, "reembed", "-model", f.model2, "-gallery", f.gal) })
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "larger than the pixel limit")
	if n > 64<<20 {
		t.Errorf("reembed of a lying crop allocated %d bytes", n)
	}
	wantEqual(t, readBytes(t, f.gal), before, "gallery after a refused reembed")
}

// TestClassifyTopHuge: -top far beyond the class count lists every class
// once and allocates for the classes, not for the number asked.
func TestClassifyTopHuge(t *testing.T) {
	f := newGalleryFixture(t)
	for _, c := range []string{"red", "blue", "green"} {
		code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", c, "-force", filepath.Join(f.data, c))
		wantCode(t, code, exitOK, errs)
	}
	var code int
	var out, errs string
	n := testalloc.Bytes(func() {
		code, out, errs = runCLI(t, "classify", "-model", f.model, "-gallery", f.gal, "-json", "-top", "1000000000", f.img("red", 5))
	})
	wantCode(t, code, exitOK, errs)
	recs := decodeLines[classifyRecord](t, out)
	if len(recs) != 1 || len(recs[0].Top) != 3 {
		t.Fatalf("classify -top 1e9: %+v", recs)
	}
	if n > 64<<20 {
		t.Fatalf("classify -top 1e9 allocated %d bytes", n)
	}
}

// TestSaveKeepsFile: a CLI save keeps the gallery's mode and symlink, and
// removes temporary files a killed save left behind.
func TestSaveKeepsFile(t *testing.T) {
	f := newGalleryFixture(t)
	store := filepath.Join(f.dir, "store")
	must(t, os.Mkdir(store, 0o755))
	target := filepath.Join(store, "signs.gal")
	if err := os.Symlink(target, f.gal); err != nil {
		t.Skip("no symlinks:", err)
	}
	f.enrolRed(t)
	must(t, os.Chmod(target, 0o640))
	stale := filepath.Join(store, ".signs.gal.tmp-12345")
	must(t, os.WriteFile(stale, []byte("partial"), 0o600))
	code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "blue", filepath.Join(f.data, "blue"))
	wantCode(t, code, exitOK, errs)
	if fi, err := os.Lstat(f.gal); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the gallery symlink was replaced (%v)", err)
	}
	if fi, err := os.Stat(target); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640) {
		t.Fatalf("target mode after save: %v (%v)", fi.Mode(), err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Fatal("the stale temporary file survived the save")
	}
	wantEqual(t, listLabels(t, f), []string{"red", "blue"}, "labels")
	code, out, errs := runCLI(t, "rollback", "-gallery", f.gal)
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, filepath.Join("store", "signs.gal.1"))
	wantEqual(t, listLabels(t, f), []string{"red"}, "labels after rollback")
}
