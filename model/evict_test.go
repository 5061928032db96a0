package model

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestEvictKeepsData checks that evicting tensors (one at a time, then the
// whole mapping) never changes what the model reads, that a tensor from
// another model and a closed model are ignored, and that Evict is a no-op
// for models in the heap.
func TestEvictKeepsData(t *testing.T) {
	path := filepath.Join("..", "testdata", "models", "signs.sgn")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for i := range m.Graph.Initializers {
			if !bytes.Equal(m.Graph.Initializers[i].Data, want.Graph.Initializers[i].Data) {
				t.Fatalf("%s: tensor %q changed", when, m.Graph.Initializers[i].Name)
			}
		}
	}
	for i := range m.Graph.Initializers {
		m.Evict(&m.Graph.Initializers[i])
	}
	check("after evicting each tensor")
	m.Evict(nil)
	check("after evicting the mapping")
	m.Evict(&want.Graph.Initializers[0]) // not this model's: ignored
	want.Evict(nil)                      // a heap model: no-op
	want.Evict(&want.Graph.Initializers[0])
	check("after evicting foreign tensors")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m.Evict(nil) // closed: no-op, must not touch the unmapped range
	m.Evict(&want.Graph.Initializers[0])
}
