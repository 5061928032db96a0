// Package cputime reads the CPU time of the calling OS thread, which
// benchmarks on machines shared with other work compare instead of wall
// time: it counts only the turns the benchmark itself got.
package cputime
