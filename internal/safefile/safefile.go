// Package safefile writes files atomically and durably on every OS signet
// builds for, and reads files under a size cap. WriteFile writes a temporary
// file in the same directory, syncs it, moves it over the old one with
// Rename and makes the new directory entry durable with SyncDir; callers
// with their own write sequence (the gallery's, which tests fail step by
// step) use Rename and SyncDir directly.
//
// What each OS needs:
//
//   - Linux, the BSDs, illumos, Solaris, AIX (build tag unix): a rename is
//     durable only once the directory is fsynced, so SyncDir opens the
//     directory and syncs it. On darwin and ios (os.File).Sync already
//     issues fcntl(F_FULLFSYNC), which also flushes the drive's cache, so
//     nothing darwin-specific is needed here.
//   - Windows: a directory cannot be flushed (FlushFileBuffers needs a handle
//     opened for writing, which a directory never is, so a directory "sync"
//     fails with Access is denied). Rename uses MoveFileEx with
//     MOVEFILE_WRITE_THROUGH instead, which returns only once the move is on
//     disk, and SyncDir does nothing.
//   - Everything else (plan9, js, wasip1): no directory sync exists; Rename
//     is os.Rename and SyncDir does nothing.
package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Implementation names which of the above this build uses; tests print it.
const Implementation = implementation

// Errors of ReadFile: the file holds more than its cap, or is not a regular
// file where one was required.
var (
	ErrTooLarge   = errors.New("file too large")
	ErrNotRegular = errors.New("not a regular file")
)

// WriteFile replaces path with the bytes write writes, atomically and
// durably: they go to a temporary file ".NAME.tmp-*" in path's directory,
// created with mode 0600 before any byte is written and given perm once
// written, which is synced, renamed over path (Rename), and the directory
// synced (SyncDir). Readers, including ones with the old file memory-mapped,
// see the old file or the new one, never a part. On any error the temporary
// file is removed and path is untouched.
//
// Unless replace is set, an existing path (even a dangling symlink) is
// refused with an error wrapping fs.ErrExist, checked before writing and
// again at the last step with a hard link, so a file that appeared meanwhile
// is not overwritten either (where the filesystem has no hard links the
// last step is the rename). path itself is written: a caller that wants to
// write through a symlink resolves it first.
func WriteFile(path string, perm fs.FileMode, replace bool, write func(io.Writer) error) (err error) {
	if !replace {
		if err := refuseExisting(path); err != nil {
			return err
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	err = write(f)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if !replace {
		// Link fails if path appeared meanwhile, where Rename would replace it.
		if err = os.Link(tmp, path); err == nil {
			os.Remove(tmp)
			return SyncDir(dir)
		}
		if errors.Is(err, fs.ErrExist) {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		// No hard links here: fall back to the checked rename.
	}
	if err = Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

func refuseExisting(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return err
}

// Open opens path for reading and returns its FileInfo with it; when Stat
// fails the file is closed again.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// ReadFile reads path whole, refusing with ErrTooLarge a file of more than
// max bytes: by its size before reading anything, and again if it grew while
// read (only max+1 bytes are ever read). With regular set, anything but a
// regular file (a device, a FIFO, a directory) is refused with
// ErrNotRegular; a symlink is followed.
func ReadFile(path string, max int64, regular bool) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if regular && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s", ErrNotRegular, path)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, at most %d", ErrTooLarge, path, st.Size(), max)
	}
	b := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead)) // room to see EOF without regrowing
	if _, err := b.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > max {
		return nil, fmt.Errorf("%w: %s grew past %d bytes while read", ErrTooLarge, path, max)
	}
	return b.Bytes(), nil
}
