package model

// OpenRead exposes the plain-read Open to the external tests, so the
// non-mmap path is tested on Linux too.
var OpenRead = openRead
