// Package model defines signet's native model: the graph the converter writes
// and the engine executes, its metadata, and the single-file format it is
// stored in (see FORMAT.md).
//
// Build a model with New, which validates it and computes its Fingerprint;
// store it with Encode, Write or WriteFile; load it with Decode (from memory,
// zero-copy) or Open (memory-mapped where the system allows). Loading runs
// the same validation as New, so every Model is valid. Loaders never trust
// the file: every error for a bad file wraps ErrCorrupt, and a more specific
// sentinel (ErrTruncated, ErrChecksum, ErrVersion, ErrInvalidGraph,
// ErrInvalidMetadata) says why. The gallery and bundle formats report damage
// in the same family: their ErrCorrupt wraps this one and their
// ErrTruncated, ErrChecksum and ErrVersion wrap this package's, so one
// errors.Is(err, model.ErrCorrupt) covers every signet file.
//
// Package modeltest builds small valid models for other packages' tests.
package model
