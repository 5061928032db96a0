package safefile

import (
	"errors"
	"go/build"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestRenameReplacesAndSyncDir(t *testing.T) {
	dir := t.TempDir()
	old, cur := filepath.Join(dir, "new.tmp"), filepath.Join(dir, "file")
	for p, s := range map[string]string{old: "new bytes", cur: "old bytes"} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Rename(old, cur); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(cur); err != nil || string(b) != "new bytes" {
		t.Fatalf("after Rename the file holds %q (%v), want the new bytes", b, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the temporary name still exists: %v", err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	var le *os.LinkError
	if err := Rename(old, cur); !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &le) {
		t.Fatalf("Rename of a missing file: %v, want an *os.LinkError wrapping fs.ErrNotExist", err)
	}
	missing := filepath.Join(dir, "missing")
	if err := SyncDir(missing); (err != nil) != (Implementation == implUnix) {
		t.Fatalf("SyncDir(missing dir) on %s (%s): %v", runtime.GOOS, Implementation, err)
	}
	t.Logf("%s: %s", runtime.GOOS, Implementation)
}

const implUnix = "fsync the directory"

// Every OS Go supports gets exactly one implementation, chosen on purpose:
// each unix one fsyncs the directory, Windows writes the rename through,
// the rest do nothing. (Before this package, model synced directories on
// linux and darwin only, so a model written on FreeBSD was not durable, and
// gallery and bundle each had their own copy, gallery's failing every Save
// on Windows.)
func TestEveryOSHasOneImplementation(t *testing.T) {
	unix := []string{"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "linux", "netbsd", "openbsd", "solaris"}
	want := map[string]string{"windows": "safefile_windows.go", "plan9": "safefile_other.go", "js": "safefile_other.go", "wasip1": "safefile_other.go"}
	for _, goos := range unix {
		want[goos] = "safefile_unix.go"
	}
	for goos, file := range want {
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, "amd64", false
		if goos == "js" || goos == "wasip1" {
			ctx.GOARCH = "wasm"
		}
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Errorf("%s: %v", goos, err)
			continue
		}
		var impl []string
		for _, f := range pkg.GoFiles {
			if f != "safefile.go" {
				impl = append(impl, f)
			}
		}
		if !slices.Equal(impl, []string{file}) {
			t.Errorf("GOOS=%s builds %v, want exactly %s", goos, impl, file)
		}
	}
}

func writeBytes(b string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, b); return err }
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, 0o640, false, writeBytes("one")); err != nil {
		t.Fatal(err)
	}
	// Without replace an existing file is refused and kept.
	if err := WriteFile(p, 0o640, false, writeBytes("two")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write without replace: %v, want fs.ErrExist", err)
	}
	if err := WriteFile(p, 0o600, true, writeBytes("three")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old file and no temporary behind.
	boom := errors.New("boom")
	if err := WriteFile(p, 0o600, true, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing writer: %v", err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "three" {
		t.Fatalf("file holds %q (%v), want \"three\"", b, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the file (temporaries left behind?)", len(ents))
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", st.Mode().Perm())
		}
	}
	// A dangling symlink counts as existing.
	if runtime.GOOS != "windows" {
		l := filepath.Join(dir, "link")
		if err := os.Symlink(filepath.Join(dir, "nowhere"), l); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(l, 0o600, false, writeBytes("x")); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("write over a dangling link: %v, want fs.ErrExist", err)
		}
	}
}

func TestReadFileCap(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path    string
		max     int64
		regular bool
		want    string
		err     error
	}{
		{p, 5, true, "12345", nil},
		{p, 4, false, "", ErrTooLarge},
		{dir, 1 << 20, true, "", ErrNotRegular},
		{filepath.Join(dir, "missing"), 9, false, "", fs.ErrNotExist},
	} {
		b, err := ReadFile(c.path, c.max, c.regular)
		if string(b) != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ReadFile(%s, %d, %v) = %q, %v; want %q, %v", filepath.Base(c.path), c.max, c.regular, b, err, c.want, c.err)
		}
	}
}
