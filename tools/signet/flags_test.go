package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

// The flag helpers every command shares: positional arguments are refused
// where a command takes none, and a missing required flag is named.
func TestFlagHelpers(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("model", "", "")
		fs.String("o", "", "")
		return fs
	}
	fs := newFS()
	if err := parseNoArgs(fs, []string{"-model", "m.sgn", "stray.png"}); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `unexpected arguments ["stray.png"]`) {
		t.Errorf("parseNoArgs with a positional argument: %v", err)
	}
	fs = newFS()
	if err := parseNoArgs(fs, []string{"-model", "m.sgn"}); err != nil {
		t.Errorf("parseNoArgs with flags only: %v", err)
	}
	if err := requireFlags(fs, "model", "o"); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-o is required") {
		t.Errorf("requireFlags with -o unset: %v", err)
	}
	if err := requireFlags(fs, "model"); err != nil {
		t.Errorf("requireFlags with -model set: %v", err)
	}
	if err := requireFlags(fs, "nosuch"); err == nil {
		t.Error("requireFlags accepted a flag the set does not define")
	}
}
