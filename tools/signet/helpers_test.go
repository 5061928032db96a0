package main

import (
	"reflect"
	"strings"
	"testing"
)

// Small assertion helpers: the main module keeps its test dependencies to the
// standard library where the checks are this simple.

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, got, want int, stderr string) {
	t.Helper()
	if got != want {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", got, want, stderr)
	}
}

// runOK runs one signet invocation that must succeed and returns its stdout.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	wantCode(t, code, exitOK, errs)
	return out
}

func wantContains(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("output does not contain %q:\n%s", sub, s)
	}
}

func wantEqual(t *testing.T, got, want any, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}
