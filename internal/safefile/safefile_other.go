//go:build !unix && !windows

package safefile

import "os"

const implementation = "no directory sync on this OS"

// Rename is os.Rename.
func Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// SyncDir does nothing: plan9, js and wasip1 offer no directory sync.
func SyncDir(string) error { return nil }
