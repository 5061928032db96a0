package gallery

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// fileSystem is the set of filesystem steps a save takes. It exists so tests
// can fail each step in turn and show that the previous gallery survives.
type fileSystem interface {
	ReadFile(name string) ([]byte, error)
	CreateTemp(dir, pattern string) (tempFile, error)
	Rename(oldpath, newpath string) error
	Link(oldpath, newpath string) error
	Remove(name string) error
	SyncDir(dir string) error
}

type tempFile interface {
	Name() string
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }
func (osFS) CreateTemp(dir, pattern string) (tempFile, error) {
	return os.CreateTemp(dir, pattern)
}
func (osFS) Rename(o, n string) error { return os.Rename(o, n) }
func (osFS) Link(o, n string) error   { return os.Link(o, n) }
func (osFS) Remove(name string) error { return os.Remove(name) }
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// BackupPath names the n-th previous version of a gallery file (path.n).
func BackupPath(path string, n int) string { return path + "." + strconv.Itoa(n) }

// Save writes the gallery to path atomically: the bytes go to a temporary
// file in the same folder, which is synced and renamed over path, and the
// folder is synced. Before the rename the current file becomes path.1 and
// older versions shift up to path.N (Options.KeepVersions); at every step
// before the rename path still holds the previous gallery intact.
func (g *Gallery) Save(path string) error { return g.saveWith(osFS{}, path) }

func (g *Gallery) saveWith(fsys fileSystem, path string) error {
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	s := g.load()
	return writeAtomic(fsys, path, encodeSnapshot(s), s.opts.KeepVersions)
}

func writeAtomic(fsys fileSystem, path string, data []byte, keep int) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := fsys.CreateTemp(dir, "."+base+".tmp-*")
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
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if keep > 0 {
		if err = rotate(fsys, path, keep); err != nil {
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
// a careful copy.
func rotate(fsys fileSystem, path string, keep int) error {
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
	return writeAtomic(fsys, one, cur, 0)
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
// checked to decode first, and the rollback is itself a save, so the
// gallery it replaces becomes path.1 and can be restored in turn.
func Rollback(path string, n int) error {
	return rollbackWith(osFS{}, path, n)
}

func rollbackWith(fsys fileSystem, path string, n int) error {
	if n < 1 || n > maxKeep {
		return fmt.Errorf("%w: rollback version %d outside 1..%d", ErrInvalidOptions, n, maxKeep)
	}
	data, err := fsys.ReadFile(BackupPath(path, n))
	if err != nil {
		return fmt.Errorf("gallery: rollback: %w", err)
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		return fmt.Errorf("gallery: rollback to %s: %w", BackupPath(path, n), err)
	}
	return writeAtomic(fsys, path, data, s.opts.KeepVersions)
}
