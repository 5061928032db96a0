//go:build linux || darwin

package model

import (
	"fmt"
	"math"
	"os"
	"unsafe"

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
	f, size, err := openSized(path, math.MaxInt, "map")
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	if size == 0 {
		return nil, fmt.Errorf("%s: %w", path, errf(ErrTruncated, "file is empty"))
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("model: mmap %s: %w", path, err)
	}
	m, err := decodeChecked(path, data, check)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	m.mapped = data
	m.closer = func() error {
		m.mapped = nil
		return unix.Munmap(data)
	}
	return m, nil
}

// Evict tells the system that t's data will not be read again soon, so its
// memory need not stay resident: an engine calls it once it has packed a
// tensor into its own layout. For a model from Open, the pages lying wholly
// inside t's bytes leave the process's resident set (madvise MADV_DONTNEED;
// on macOS a hint the kernel may ignore); they stay mapped and read-only, and
// touching them again reads them back from the file, so the data never
// changes. t == nil evicts the whole mapping. Evict is a no-op for models
// from New or Decode, for tensors that are not the model's, and on systems
// without memory mapping. It must not run concurrently with Close.
func (m *Model) Evict(t *Tensor) {
	if m == nil || len(m.mapped) == 0 {
		return
	}
	lo, hi := 0, len(m.mapped)
	if t != nil {
		if len(t.Data) == 0 {
			return
		}
		base := uintptr(unsafe.Pointer(unsafe.SliceData(m.mapped)))
		p := uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))
		if p < base || p-base > uintptr(len(m.mapped)) || uintptr(len(t.Data)) > uintptr(len(m.mapped))-(p-base) {
			return // not in this mapping
		}
		page := os.Getpagesize()
		lo = (int(p-base) + page - 1) &^ (page - 1)
		hi = (int(p-base) + len(t.Data)) &^ (page - 1)
		if hi <= lo {
			return // no whole page
		}
	}
	// The advice cannot fail on a valid mapping, and the data is correct
	// whether or not the kernel follows it.
	_ = unix.Madvise(m.mapped[lo:hi], unix.MADV_DONTNEED)
}
