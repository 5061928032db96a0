package model

import (
	"fmt"
	"io"
	"math"
	"os"
	"unsafe"

	"github.com/signet-go/signet/internal/safefile"
)

// openRead is Open without memory mapping: the whole file is read into the
// heap. It is Open on systems without mmap support here, and tests use it
// everywhere so both paths run on every machine. The buffer is placed on an
// Alignment boundary so that tensors are as aligned in memory as in the
// file, just as with a (page-aligned) mapping.
func openRead(path string) (*Model, error) { return readChecked(path, nil) }

// readChecked is openRead with check, when not nil, run on the file's bytes
// before they are decoded (OpenSigned verifies the signature there).
func readChecked(path string, check func([]byte) error) (*Model, error) {
	f, size, err := openSized(path, math.MaxInt-Alignment, "read")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, int(size)+Alignment)
	skip := int(-uintptr(unsafe.Pointer(&buf[0])) & (Alignment - 1))
	data := buf[skip : skip+int(size) : skip+int(size)]
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("model: reading %s: %w", path, err)
	}
	return decodeChecked(path, data, check)
}

// openSized opens path and returns its size, refusing a file of more than
// limit bytes, too large to verb ("read", "map") here.
func openSized(path string, limit int64, verb string) (*os.File, int64, error) {
	f, st, err := safefile.Open(path)
	if err != nil {
		return nil, 0, err
	}
	size := st.Size()
	if size > limit {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, errf(ErrCorrupt, "file is %d bytes, too large to %s", size, verb))
	}
	return f, size, nil
}

// decodeChecked runs check, when not nil, on data, the bytes of the file at
// path, and only then decodes them: both opening paths end here, so the
// bytes checked are the bytes decoded. Errors name path.
func decodeChecked(path string, data []byte, check func([]byte) error) (*Model, error) {
	if check != nil {
		if err := check(data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
