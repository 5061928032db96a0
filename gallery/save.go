package gallery

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/signet-go/signet/internal/safefile"
)

// fileSystem is the set of filesystem steps a save takes. It exists so tests
// can fail each step in turn and show that the previous gallery survives.
type fileSystem interface {
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
	CreateTemp(dir, pattern string, perm fs.FileMode) (tempFile, error)
	Rename(oldpath, newpath string) error
	Link(oldpath, newpath string) error
	Remove(name string) error
	SyncDir(dir string) error
}

type tempFile interface {
	Name() string
	Write(p []byte) (int, error)
	Chmod(mode fs.FileMode) error
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// CreateTemp is os.CreateTemp with a mode: os.CreateTemp always makes 0600
// files, and a save must keep the gallery's own mode.
func (osFS) CreateTemp(dir, pattern string, perm fs.FileMode) (tempFile, error) {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, pattern), Err: fs.ErrExist}
}

// Rename and SyncDir make a rename durable on every OS: the directory is
// fsynced on Unix, the rename written through on Windows (where a directory
// cannot be synced); see internal/safefile.
func (osFS) Rename(o, n string) error { return safefile.Rename(o, n) }
func (osFS) SyncDir(dir string) error { return safefile.SyncDir(dir) }
func (osFS) Link(o, n string) error   { return os.Link(o, n) }
func (osFS) Remove(name string) error { return os.Remove(name) }

// BackupPath names the n-th previous version of a gallery file (path.n).
// For a symlinked gallery the versions are kept beside the link's target:
// BackupPath(Target(path), n).
func BackupPath(path string, n int) string { return path + "." + strconv.Itoa(n) }

// Save writes the gallery to path atomically: the bytes go to a temporary
// file in the same folder, which is synced and renamed over path, and the
// folder is synced. Before the rename the current file becomes path.1 and
// older versions shift up to path.N (Options.KeepVersions); at every step
// before the rename path still holds the previous gallery intact.
//
// The new file keeps the mode of the one it replaces (a new one gets 0666
// less the umask). When path is a symbolic link, the file it points to is
// replaced and the link kept. Save holds the gallery's FileLock while it
// writes (not waiting when this process holds it already) and first
// removes temporary files that killed saves left behind. Save alone does
// not make open-change-save atomic against other writers: hold LockFile
// around all three for that.
func (g *Gallery) Save(path string) error { return g.saveWith(osFS{}, path) }

func (g *Gallery) saveWith(fsys fileSystem, path string) error {
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	target, err := Target(path)
	if err != nil {
		return fmt.Errorf("gallery: save %s: %w", path, err)
	}
	l, err := lockForWrite(target)
	if err != nil {
		return fmt.Errorf("gallery: save %s: %w", path, err)
	}
	if l != nil {
		defer l.Unlock()
	}
	s := g.load()
	return writeAtomic(fsys, target, encodeSnapshot(s), s.opts.KeepVersions)
}

// writeAtomic replaces target (a resolved path, see Target) with data,
// keeping target's mode.
func writeAtomic(fsys fileSystem, target string, data []byte, keep int) error {
	perm, exact := fs.FileMode(0o666), false
	fi, err := fsys.Stat(target)
	switch {
	case err == nil:
		perm, exact = fi.Mode().Perm(), true
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("gallery: save %s: %w", target, err)
	}
	return writeFile(fsys, target, data, keep, perm, exact)
}

// writeFile writes data to path through a temporary file created with perm;
// exact sets the mode to perm whatever the umask took away.
func writeFile(fsys fileSystem, path string, data []byte, keep int, perm fs.FileMode, exact bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := fsys.CreateTemp(dir, tempPattern(base), perm)
	if err != nil {
		return fmt.Errorf("gallery: save %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			fsys.Remove(tmp) // best effort; the live file is untouched
			err = fmt.Errorf("gallery: save %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if exact {
		if err = f.Chmod(perm); err != nil {
			f.Close()
			return err
		}
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if keep > 0 {
		if err = rotate(fsys, path, keep, perm, exact); err != nil {
			return err
		}
	}
	if err = fsys.Rename(tmp, path); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// rotate shifts path.i to path.i+1 (dropping path.keep) and makes path.1 a
// copy of the current file: a hard link where the filesystem has them, else
// a careful copy with the file's mode.
func rotate(fsys fileSystem, path string, keep int, perm fs.FileMode, exact bool) error {
	for i := keep - 1; i >= 1; i-- {
		if err := fsys.Rename(BackupPath(path, i), BackupPath(path, i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	one := BackupPath(path, 1)
	if err := fsys.Remove(one); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	err := fsys.Link(path, one)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil // linked, or first save: nothing to keep
	}
	cur, err := fsys.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return writeFile(fsys, one, cur, 0, perm, exact)
}

// Open loads a gallery file and checks that it was embedded by the encoder
// with the given fingerprint.
func Open(path string, fingerprint [32]byte) (*Gallery, error) {
	return openWith(osFS{}, path, &fingerprint)
}

// OpenForReembed loads a gallery file whatever encoder made it, so that
// Reembed can move it to a new one.
func OpenForReembed(path string) (*Gallery, error) {
	return openWith(osFS{}, path, nil)
}

func openWith(fsys fileSystem, path string, fp *[32]byte) (*Gallery, error) {
	data, err := fsys.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gallery: open: %w", err)
	}
	g, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
	if fp != nil {
		if have := g.Fingerprint(); have != *fp {
			return nil, fmt.Errorf("%w: %s was embedded by encoder %s, this encoder is %s; open it with OpenForReembed and call Reembed with the new encoder (uses the stored crops), then Save",
				ErrEncoderMismatch, path, hex.EncodeToString(have[:]), hex.EncodeToString(fp[:]))
		}
	}
	return g, nil
}

// Rollback makes version n (path.n) the current gallery again. The file is
// checked to decode first, and the rollback is itself a save (under the
// gallery's lock, like Save), so the gallery it replaces becomes path.1 and
// can be restored in turn.
func Rollback(path string, n int) error {
	return rollbackWith(osFS{}, path, n)
}

func rollbackWith(fsys fileSystem, path string, n int) error {
	if n < 1 || n > maxKeep {
		return fmt.Errorf("%w: rollback version %d outside 1..%d", ErrInvalidOptions, n, maxKeep)
	}
	target, err := Target(path)
	if err != nil {
		return fmt.Errorf("gallery: rollback: %w", err)
	}
	l, err := lockForWrite(target)
	if err != nil {
		return fmt.Errorf("gallery: rollback: %w", err)
	}
	if l != nil {
		defer l.Unlock()
	}
	data, err := fsys.ReadFile(BackupPath(target, n))
	if err != nil {
		return fmt.Errorf("gallery: rollback: %w", err)
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		return fmt.Errorf("gallery: rollback to %s: %w", BackupPath(target, n), err)
	}
	return writeAtomic(fsys, target, data, s.opts.KeepVersions)
}
