//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package gallery

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on f, waiting for it when wait is set;
// without wait it reports false when another holder has it. flock locks
// belong to the open file, so the kernel drops them when the process dies.
func lockFile(f *os.File, wait bool) (bool, error) {
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case !wait && errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		}
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}

// unlockFile has nothing to do: closing the file releases the lock.
func unlockFile(*os.File) {}
