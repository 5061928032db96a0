// Package model defines signet's native model: the graph the converter writes
// and the engine executes, its metadata, and the single-file format it is
// stored in (see FORMAT.md).
package model
