//go:build windows

package gallery

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive LockFileEx lock on f (the whole range),
// waiting for it when wait is set; without wait it reports false when
// another holder has it. Windows drops the lock when the handle closes or
// the process dies.
func lockFile(f *os.File, wait bool) (bool, error) {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, ^uint32(0), ^uint32(0), new(windows.Overlapped))
	switch {
	case err == nil:
		return true, nil
	case !wait && errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	}
	return false, &os.PathError{Op: "LockFileEx", Path: f.Name(), Err: err}
}

// unlockFile has nothing to do: closing the file releases the lock.
func unlockFile(*os.File) {}
