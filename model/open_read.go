//go:build !(linux || darwin)

package model

// Open reads the model file at path into memory and decodes it. (On Linux
// and macOS it is memory-mapped instead.) Close is a no-op here but should
// still be called, for portability.
func Open(path string) (*Model, error) { return openRead(path) }

func openChecked(path string, check func([]byte) error) (*Model, error) {
	return readChecked(path, check)
}

// Evict is a no-op where models are read into the heap rather than mapped
// (see the Linux and macOS version).
func (m *Model) Evict(t *Tensor) {}
