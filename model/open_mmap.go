//go:build linux || darwin

package model

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// Open memory-maps the model file at path read-only and decodes it; tensor
// data aliases the mapping, so the weights cost no heap and pages are shared
// between processes that open the same file. (Verifying the data checksum
// and computing the fingerprint read every page once.) Close unmaps it. The file must not be truncated or rewritten in
// place while mapped (WriteFile replaces files by rename, which is safe).
func Open(path string) (*Model, error) { return openChecked(path, nil) }

// openChecked is Open with check, when not nil, run on the mapped bytes
// before they are decoded: the bytes checked are the bytes used.
func openChecked(path string, check func([]byte) error) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size == 0 {
		return nil, fmt.Errorf("%s: %w", path, errf(ErrTruncated, "file is empty"))
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("%s: %w", path, errf(ErrCorrupt, "file is %d bytes, too large to map", size))
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("model: mmap %s: %w", path, err)
	}
	if check != nil {
		if err := check(data); err != nil {
			unix.Munmap(data)
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	m, err := Decode(data)
	if err != nil {
		unix.Munmap(data)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.closer = func() error { return unix.Munmap(data) }
	return m, nil
}
