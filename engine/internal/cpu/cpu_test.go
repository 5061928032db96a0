package cpu

import (
	"testing"

	"github.com/signet-go/signet/engine/internal/backend"
	"github.com/signet-go/signet/kernels"
)

// TestClaimsEveryKind checks that the CPU backend claims every kind of Op
// the planner emits (the engine plans every model for it) and refuses an
// Args type it does not know.
func TestClaimsEveryKind(t *testing.T) {
	b := New(kernels.Generic, true)
	for _, k := range backend.Kinds() {
		if !b.Supports(&backend.Op{Args: k}, nil) {
			t.Errorf("the CPU backend does not claim %s", backend.Kind(k))
		}
	}
	if b.Supports(&backend.Op{}, nil) {
		t.Errorf("the CPU backend claims an Op without Args")
	}
	if _, err := b.Lower(&backend.Op{}, nil); err == nil {
		t.Errorf("lowering an Op without Args succeeded")
	}
	if f, ok := backend.Get("cpu"); !ok || f(kernels.Generic).Name() != "cpu" {
		t.Errorf("the CPU backend is not registered as cpu")
	}
}
