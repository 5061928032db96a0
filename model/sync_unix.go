//go:build linux || darwin

package model

import "os"

// syncDir makes a rename in dir durable: on POSIX systems the new directory
// entry is only safe once the directory itself is synced.
func syncDir(dir string) error {
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
