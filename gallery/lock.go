package gallery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// FileLock is an exclusive lock on a gallery file, shared by every process
// that uses it (flock on Unix, LockFileEx on Windows). It lives in a
// separate file, path.lock beside the file path resolves to, because a save
// replaces the gallery file itself; the lock file is created on first use
// and left in place (removing it would let two writers lock two different
// files).
//
// Hold it around a read-modify-write (open, change, Save) so that two
// writers cannot both read the same version and one of them lose the
// other's change:
//
//	l, err := gallery.LockFile(path)
//	if err != nil { ... }
//	defer l.Unlock()
//	g, err := gallery.Open(path, fp)
//	... change g ...
//	err = g.Save(path)
//
// Save and Rollback take the lock themselves for the time they write, and
// do not wait when this process already holds it. A FileLock is not
// reentrant: LockFile on a path this process holds blocks like a second
// sync.Mutex.Lock.
type FileLock struct {
	path string // the lock file
	f    *os.File
	fi   os.FileInfo
	once sync.Once
	err  error
}

// held lists the locks this process holds, so that Save under a held lock
// writes instead of waiting for itself.
var held struct {
	sync.Mutex
	locks []*FileLock
}

// LockFile blocks until it holds the exclusive lock of the gallery at path,
// then removes temporary files that killed saves of that gallery left
// behind (no writer that takes the lock can be using them).
func LockFile(path string) (*FileLock, error) { return lockPath(path, true) }

// TryLockFile is LockFile without waiting: it fails with ErrLocked when
// another writer holds the lock.
func TryLockFile(path string) (*FileLock, error) { return lockPath(path, false) }

func lockPath(path string, wait bool) (*FileLock, error) {
	target, err := Target(path)
	if err != nil {
		return nil, fmt.Errorf("gallery: lock %s: %w", path, err)
	}
	l, err := openLock(target)
	if err != nil {
		return nil, fmt.Errorf("gallery: lock %s: %w", path, err)
	}
	if err := l.lock(wait); err != nil {
		return nil, fmt.Errorf("gallery: lock %s: %w", path, err)
	}
	removeStaleTemps(target)
	return l, nil
}

// lockForWrite makes sure the gallery at target is locked while Save or
// Rollback writes it. It returns nil when this process already holds the
// lock (the holder is in the middle of its read-modify-write); else the
// lock it took, to be released after the write.
func lockForWrite(target string) (*FileLock, error) {
	l, err := openLock(target)
	if err != nil {
		return nil, err
	}
	held.Lock()
	for _, h := range held.locks {
		if os.SameFile(h.fi, l.fi) {
			held.Unlock()
			l.f.Close()
			return nil, nil
		}
	}
	held.Unlock()
	if err := l.lock(true); err != nil {
		return nil, err
	}
	removeStaleTemps(target)
	return l, nil
}

func openLock(target string) (*FileLock, error) {
	name := target + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if errors.Is(err, fs.ErrPermission) {
		f, err = os.Open(name) // a lock file someone else created: reading is enough to lock it
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &FileLock{path: name, f: f, fi: fi}, nil
}

func (l *FileLock) lock(wait bool) error {
	locked, err := lockFile(l.f, wait)
	if err == nil && !locked {
		err = fmt.Errorf("%w (%s)", ErrLocked, l.path)
	}
	if err != nil {
		l.f.Close()
		return err
	}
	held.Lock()
	held.locks = append(held.locks, l)
	held.Unlock()
	return nil
}

// Unlock releases the lock. Calling it again does nothing.
func (l *FileLock) Unlock() error {
	l.once.Do(func() {
		held.Lock()
		for i, h := range held.locks {
			if h == l {
				held.locks = append(held.locks[:i], held.locks[i+1:]...)
				break
			}
		}
		held.Unlock()
		unlockFile(l.f)
		l.err = l.f.Close() // closing releases a flock or LockFileEx lock
	})
	return l.err
}

// Target returns the file a gallery path stands for: path itself, or where
// its chain of symbolic links ends (the end need not exist yet). Save
// replaces that file, keeps its versions and its lock beside it, so a
// symlinked gallery stays a symlink.
func Target(path string) (string, error) {
	p := path
	for range 64 {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		dst, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dst) {
			dst = filepath.Join(filepath.Dir(p), dst)
		}
		p = dst
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// tempPattern is the os.CreateTemp pattern of a save of base; tempName
// matches what it produces for base and its backups base.N (the copy
// fallback of a rotation writes those), and nothing else.
func tempPattern(base string) string { return "." + base + ".tmp-*" }

func tempName(base string) *regexp.Regexp {
	return regexp.MustCompile(`^\.` + regexp.QuoteMeta(base) + `(\.[0-9]+)?\.tmp-[0-9]+$`)
}

// removeStaleTemps deletes the temporary files of earlier saves of target
// that did not finish (a killed process never reaches its cleanup). It runs
// only under the gallery's lock, so no live writer that locks owns one.
// Failures are ignored: a stale file costs disk space, not correctness.
func removeStaleTemps(target string) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	re := tempName(base)
	for _, e := range ents {
		if e.Type().IsRegular() && re.MatchString(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
