//go:build unix

package safefile

import "os"

const implementation = "fsync the directory"

// Rename is os.Rename; on these systems the rename becomes durable once the
// caller syncs the directory with SyncDir.
func Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// SyncDir fsyncs dir (F_FULLFSYNC on darwin, through os.File.Sync), making
// the renames and creations in it durable.
func SyncDir(dir string) error {
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
