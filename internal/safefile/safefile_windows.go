//go:build windows

package safefile

import (
	"os"

	"golang.org/x/sys/windows"
)

const implementation = "MoveFileEx write-through, no directory sync"

// Rename moves oldpath over newpath with MoveFileEx(MOVEFILE_REPLACE_EXISTING
// | MOVEFILE_WRITE_THROUGH): the same replacement as os.Rename, but it
// returns only once the move has been flushed to disk, which is what a
// directory fsync achieves elsewhere. Errors are *os.LinkError, as from
// os.Rename.
func Rename(oldpath, newpath string) error {
	from, err := windows.UTF16PtrFromString(oldpath)
	if err == nil {
		var to *uint16
		if to, err = windows.UTF16PtrFromString(newpath); err == nil {
			err = windows.MoveFileEx(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
		}
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// SyncDir does nothing on Windows: a directory handle cannot be flushed
// (FlushFileBuffers on it fails with Access is denied), and Rename already
// wrote the move through to disk.
func SyncDir(string) error { return nil }
