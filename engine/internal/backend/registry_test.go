package backend

import (
	"slices"
	"testing"

	"github.com/signet-go/signet/kernels"
)

func TestRegistry(t *testing.T) {
	Register("test-a", func(kernels.Tier) Backend { return nil })
	Register("test-0", func(kernels.Tier) Backend { return nil })
	names := Registered()
	if !slices.IsSorted(names) || !slices.Contains(names, "test-a") || !slices.Contains(names, "test-0") {
		t.Errorf("Registered() = %v", names)
	}
	if _, ok := Get("test-a"); !ok {
		t.Errorf("Get(test-a) found nothing")
	}
	if _, ok := Get("none"); ok {
		t.Errorf("Get(none) found a backend")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("registering a name twice did not panic")
		}
	}()
	Register("test-a", func(kernels.Tier) Backend { return nil })
}

func TestKindsDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[Kind(k)] {
			t.Errorf("kind %s listed twice", Kind(k))
		}
		seen[Kind(k)] = true
	}
}
