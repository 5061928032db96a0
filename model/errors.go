package model

import (
	"fmt"

	"github.com/signet-go/signet/internal/fileerr"
)

// Sentinel errors. Every error returned for a bad file or an invalid model
// wraps one of them; the specific ones wrap ErrCorrupt in turn, so a caller
// that only wants to know "is this file unusable" tests errors.Is(err,
// ErrCorrupt), and one that wants to tell the user why tests the specific one.
var (
	// ErrCorrupt: the bytes are not a well-formed model file or the model is
	// not valid. All other sentinels below wrap it, and so do the corrupt-file
	// errors of the gallery and bundle formats (gallery.ErrCorrupt,
	// bundle.ErrCorrupt): errors.Is(err, ErrCorrupt) asks "is this signet
	// file unusable" whichever format was read.
	ErrCorrupt = fileerr.New("model: corrupt")
	// ErrTruncated: a read needed more bytes than the file or section holds.
	ErrTruncated = fileerr.New("model: truncated", ErrCorrupt)
	// ErrChecksum: a section's CRC-32C does not match its bytes.
	ErrChecksum = fileerr.New("model: checksum mismatch", ErrCorrupt)
	// ErrVersion: the file has a format version this package cannot read.
	ErrVersion = fileerr.New("model: unsupported format version", ErrCorrupt)
	// ErrInvalidGraph: the graph breaks a rule New enforces (undefined or
	// duplicate names, bad shapes, tensor size mismatch, limits exceeded).
	ErrInvalidGraph = fileerr.New("model: invalid graph", ErrCorrupt)
	// ErrInvalidMetadata: the metadata breaks a rule New enforces (unknown
	// layout or channel order, non-finite or non-positive std, unknown output).
	ErrInvalidMetadata = fileerr.New("model: invalid metadata", ErrCorrupt)
)

func errf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
