//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package gallery

import (
	"os"
	"sync"
)

// Platforms without flock or LockFileEx (aix, plan9, js, wasip1) lock
// within the process only: writers in one program still exclude each other,
// separate processes do not.
var (
	localMu   sync.Mutex
	localCond = sync.NewCond(&localMu)
	localHeld = map[string]bool{}
)

func lockFile(f *os.File, wait bool) (bool, error) {
	localMu.Lock()
	defer localMu.Unlock()
	for localHeld[f.Name()] {
		if !wait {
			return false, nil
		}
		localCond.Wait()
	}
	localHeld[f.Name()] = true
	return true, nil
}

func unlockFile(f *os.File) {
	localMu.Lock()
	delete(localHeld, f.Name())
	localMu.Unlock()
	localCond.Broadcast()
}
