package gallery

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperEnv makes the test binary a writer process: TestLockHelperProcess
// then enrols one class into a gallery file under the lock and exits.
const helperEnv = "SIGNET_GALLERY_LOCK_HELPER"

// lockedEnrol is the read-modify-write a writer process does: lock, open
// (or create), add a class, save. hold widens the window between read and
// write, where an unlocked writer would lose a concurrent change.
func lockedEnrol(path, label string, hold time.Duration) error {
	l, err := LockFile(path)
	if err != nil {
		return err
	}
	defer l.Unlock()
	g, err := Open(path, fp(1))
	if errors.Is(err, fs.ErrNotExist) {
		g, err = New(4, fp(1), noHoldout())
	}
	if err != nil {
		return err
	}
	time.Sleep(hold)
	n, _ := strconv.Atoi(strings.TrimPrefix(label, "w"))
	v := []float32{1, float32(n), float32(n % 3), 2}
	if _, err := g.AddClass(label, nil, []Exemplar{{Embedding: v}}); err != nil {
		return err
	}
	return g.Save(path)
}

func TestLockHelperProcess(t *testing.T) {
	arg := os.Getenv(helperEnv)
	if arg == "" {
		t.Skip("helper process for TestConcurrentWriterProcesses")
	}
	path, label := arg, os.Getenv(helperEnv+"_LABEL")
	if err := lockedEnrol(path, label, 20*time.Millisecond); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestConcurrentWriterProcesses runs separate processes that each enrol a
// class into one gallery file at the same time, the first of them creating
// it; every enrolment must be in the final file. Without the lock, writers
// that read the same version overwrite each other's class.
func TestConcurrentWriterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "g.gal")
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	outs := make([][]byte, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "-test.run=^TestLockHelperProcess$")
			cmd.Env = append(os.Environ(), helperEnv+"="+path, helperEnv+"_LABEL=w"+strconv.Itoa(i))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	g, err := Open(path, fp(1))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range g.List() {
		labels = append(labels, c.Label)
	}
	slices.Sort(labels)
	if len(labels) != writers {
		t.Fatalf("%d of %d enrolments survived: %v", len(labels), writers, labels)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("left %s", e.Name())
		}
	}
}

func TestTryLockAndWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.gal")
	l, err := LockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLockFile(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLockFile while locked: %v", err)
	}
	// A second LockFile waits for Unlock.
	got := make(chan *FileLock)
	go func() {
		l2, err := LockFile(path)
		if err != nil {
			t.Error(err)
		}
		got <- l2
	}()
	select {
	case <-got:
		t.Fatal("second LockFile did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	// Save does not wait for a lock this process holds.
	g := mustNew(t, 4, noHoldout())
	done := make(chan error)
	go func() { done <- g.Save(path) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Save under this process's lock deadlocked")
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
	l2 := <-got
	if l2 == nil {
		t.FailNow()
	}
	l2.Unlock()
	l3, err := TryLockFile(path)
	if err != nil {
		t.Fatalf("TryLockFile after Unlock: %v", err)
	}
	l3.Unlock()
	if _, err := LockFile(filepath.Join(t.TempDir(), "missing", "g.gal")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lock in a missing folder: %v", err)
	}
}

// TestSaveKeepsMode: a save keeps the gallery's mode (not os.CreateTemp's
// 0600), for the live file and for the copied backup.
func TestSaveKeepsMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	for _, noLink := range []bool{false, true} {
		for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o664} {
			path := filepath.Join(t.TempDir(), "g.gal")
			o := noHoldout()
			o.KeepVersions = 2
			g := mustNew(t, 4, o)
			if err := g.Save(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			g.AddClass("a", nil, []Exemplar{{Embedding: []float32{1, 0, 0, 0}}})
			if err := g.saveWith(&faultFS{noLink: noLink}, path); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, BackupPath(path, 1)} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != mode {
					t.Errorf("noLink=%v: %s has mode %v after save, want %v", noLink, filepath.Base(p), fi.Mode().Perm(), mode)
				}
			}
		}
	}
}

// TestSaveThroughSymlink: saving to a symlinked gallery replaces the file
// the link points to and keeps the link; versions and the lock sit beside
// the target, and rollback through the link works.
func TestSaveThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "store")
	os.Mkdir(real, 0o755)
	target := filepath.Join(real, "signs.gal")
	link := filepath.Join(dir, "current.gal")
	chain := filepath.Join(dir, "chain.gal")
	if err := os.Symlink(filepath.Join("store", "signs.gal"), link); err != nil {
		t.Skip("no symlinks:", err)
	}
	os.Symlink("current.gal", chain) // a link to a link
	o := noHoldout()
	o.KeepVersions = 2
	g := mustNew(t, 4, o)
	// The link dangles until the first save creates its target.
	if err := g.Save(chain); err != nil {
		t.Fatal(err)
	}
	g.AddClass("a", nil, []Exemplar{{Embedding: []float32{1, 0, 0, 0}}})
	if err := g.Save(link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, chain} {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symlink (%v)", filepath.Base(p), err)
		}
	}
	if got := readFile(t, target); !bytes.Equal(got, g.Encode()) {
		t.Fatal("target does not hold the saved gallery")
	}
	for _, p := range []string{BackupPath(target, 1), target + ".lock"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "store" && e.Name() != "current.gal" && e.Name() != "chain.gal" {
			t.Errorf("save wrote %s beside the link", e.Name())
		}
	}
	if err := Rollback(chain, 1); err != nil {
		t.Fatal(err)
	}
	h, err := Open(link, fp(1))
	if err != nil || h.Len() != 0 {
		t.Fatalf("after rollback through the link: %v, %d classes", err, h.Len())
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("rollback replaced the link")
	}
	// A link loop is an error, not a hang.
	loop := filepath.Join(dir, "loop.gal")
	os.Symlink("loop.gal", loop)
	if err := g.Save(loop); err == nil {
		t.Fatal("saved through a symlink loop")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStaleTempsRemoved: temporary files of killed saves (of the gallery
// and of its backup copies) are removed by the next save and by LockFile;
// other files are left alone, and a save inside this process's own lock
// does not touch them (a goroutine of the holder may be writing one).
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.gal")
	stale := []string{".g.gal.tmp-123", ".g.gal.tmp-4294967295", ".g.gal.1.tmp-77", ".g.gal.12.tmp-1"}
	keep := []string{".other.gal.tmp-1", ".g.gal.tmp-abc", "g.gal.tmp-1", ".g.gal.tmpx", ".g.gal.x.tmp-1", ".xg.gal.tmp-1", "notes.txt"}
	plant := func(names []string) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(when string, gone bool) {
		t.Helper()
		for _, n := range stale {
			_, err := os.Stat(filepath.Join(dir, n))
			if gone != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: %s exists=%v", when, n, err == nil)
			}
		}
		for _, n := range keep {
			if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
				t.Errorf("%s: removed %s", when, n)
			}
		}
	}
	g := mustNew(t, 4, noHoldout())
	plant(append(stale, keep...))
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	check("after Save", true)

	plant(stale)
	l, err := LockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check("after LockFile", true)
	plant(stale)
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	check("after Save under the process's own lock", false)
	l.Unlock()
	if err := Rollback(path, 1); err != nil {
		t.Fatal(err)
	}
	check("after Rollback", true)
}
