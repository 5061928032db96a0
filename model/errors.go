package model

import "fmt"

// Sentinel errors. Every error returned for a bad file or an invalid model
// wraps one of them; the specific ones wrap ErrCorrupt in turn, so a caller
// that only wants to know "is this file unusable" tests errors.Is(err,
// ErrCorrupt), and one that wants to tell the user why tests the specific one.
var (
	// ErrCorrupt: the bytes are not a well-formed model file or the model is
	// not valid. All other sentinels below wrap it.
	ErrCorrupt error = &sentinel{msg: "model: corrupt"}
	// ErrTruncated: a read needed more bytes than the file or section holds.
	ErrTruncated error = &sentinel{msg: "model: truncated", parent: ErrCorrupt}
	// ErrChecksum: a section's CRC-32C does not match its bytes.
	ErrChecksum error = &sentinel{msg: "model: checksum mismatch", parent: ErrCorrupt}
	// ErrVersion: the file has a format version this package cannot read.
	ErrVersion error = &sentinel{msg: "model: unsupported format version", parent: ErrCorrupt}
	// ErrInvalidGraph: the graph breaks a rule New enforces (undefined or
	// duplicate names, bad shapes, tensor size mismatch, limits exceeded).
	ErrInvalidGraph error = &sentinel{msg: "model: invalid graph", parent: ErrCorrupt}
	// ErrInvalidMetadata: the metadata breaks a rule New enforces (unknown
	// layout or channel order, non-finite or non-positive std, unknown output).
	ErrInvalidMetadata error = &sentinel{msg: "model: invalid metadata", parent: ErrCorrupt}
)

// sentinel is an error that is also another error, so that
// errors.Is(ErrTruncated, ErrCorrupt) holds without fmt.Errorf chains.
type sentinel struct {
	msg    string
	parent error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.parent }

func errf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
