package engine

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/signet-go/signet/model"
)

// TestMutatedGraphsNeverPanic plans (and, when planning succeeds, runs)
// networks whose attributes and shape operands were randomly corrupted: New
// must answer with an error or a plan that runs, never a panic.
func TestMutatedGraphsNeverPanic(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	values := []int64{-3, -2, -1, 0, 1, 2, 3, 5, 7, 1 << 40}
	var names []string
	for name := range networks {
		names = append(names, name)
	}
	slices.Sort(names)
	for iter := 0; iter < 600; iter++ {
		name := names[iter%len(names)]
		m := buildNet(t, name, int64(iter))
		g := &m.Graph
		for k := 0; k < 1+r.Intn(3); k++ {
			n := &g.Nodes[r.Intn(len(g.Nodes))]
			if len(n.Attrs) > 0 && r.Intn(4) > 0 {
				a := &n.Attrs[r.Intn(len(n.Attrs))]
				switch a.Kind {
				case model.AttrInt:
					a.Int = values[r.Intn(len(values))]
				case model.AttrInts:
					a.Ints = append([]int64(nil), a.Ints...)
					if len(a.Ints) > 0 && r.Intn(5) > 0 {
						a.Ints[r.Intn(len(a.Ints))] = values[r.Intn(len(values))]
					} else {
						a.Ints = append(a.Ints, values[r.Intn(len(values))])
					}
				case model.AttrFloat:
					a.Float = float32(values[r.Intn(len(values))])
				}
			} else {
				attrs := []string{"axis", "group", "kernel_shape", "strides", "pads", "dilations", "perm", "split", "starts", "ends", "axes", "steps", "keepdims", "transA", "transB", "p", "ceil_mode"}
				a := model.Attr{Name: attrs[r.Intn(len(attrs))]}
				if r.Intn(2) == 0 {
					a.Kind, a.Int = model.AttrInt, values[r.Intn(len(values))]
				} else {
					a.Kind = model.AttrInts
					for j := r.Intn(5); j > 0; j-- {
						a.Ints = append(a.Ints, values[r.Intn(len(values))])
					}
				}
				n.Attrs = append(n.Attrs, a)
			}
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("iteration %d (%s): panic: %v", iter, name, p)
				}
			}()
			e, err := New(m, Options{Threads: 2})
			if err != nil {
				return
			}
			if _, err := runMulti(e, randInputs(r, e)); err != nil {
				t.Fatalf("iteration %d (%s): planned but Run failed: %v", iter, name, err)
			}
		}()
	}
}
