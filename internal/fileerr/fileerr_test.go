package fileerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestSentinelIsEachParent(t *testing.T) {
	root := New("root")
	kind := New("kind", root)
	other := New("other: corrupt", root)
	both := New("other: truncated", other, kind)
	wrapped := fmt.Errorf("%w: at byte 7", both)
	for _, p := range []error{both, other, kind, root} {
		if !errors.Is(wrapped, p) {
			t.Errorf("errors.Is(%q, %q) = false", wrapped, p)
		}
	}
	if errors.Is(other, kind) || errors.Is(root, kind) {
		t.Error("a sentinel is one of its children")
	}
	if got := wrapped.Error(); got != "other: truncated: at byte 7" {
		t.Errorf("message %q repeats its parents", got)
	}
}
