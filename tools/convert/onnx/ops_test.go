package onnx

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestRegistryWellFormed: every descriptor is complete and every operator
// is described once.
func TestRegistryWellFormed(t *testing.T) {
	n := 0
	for _, f := range families {
		n += len(f)
	}
	if n != len(operators) {
		t.Errorf("%d descriptors in the families, %d operators: an operator is described twice", n, len(operators))
	}
	for op, d := range operators {
		if len(d.versions) == 0 || d.versions[len(d.versions)-1] > 17 {
			t.Errorf("%s: opset versions %v", op, d.versions)
		}
		for i := 1; i < len(d.versions); i++ {
			if d.versions[i] <= d.versions[i-1] {
				t.Errorf("%s: opset versions %v not increasing", op, d.versions)
			}
		}
		if d.translate == nil {
			t.Errorf("%s: no translation", op)
		}
		for _, a := range []arity{d.inputs, d.outputs} {
			if a.min < 0 || (a.max >= 0 && a.max < a.min) {
				t.Errorf("%s: arity %+v", op, a)
			}
		}
		if d.outputs.min != 1 {
			t.Errorf("%s: %d required outputs, want 1", op, d.outputs.min)
		}
		seen := map[string]bool{}
		for _, a := range d.attrs {
			if seen[a.name] {
				t.Errorf("%s: attribute %q declared twice", op, a.name)
			}
			seen[a.name] = true
			switch a.typ {
			case attrInt, attrFloat, attrString, attrInts, attrFloats, attrTensor:
			default:
				t.Errorf("%s: attribute %q of type %d", op, a.name, a.typ)
			}
		}
	}
}

// opNode builds an opset-17 model of one node of op with nin inputs (graph
// inputs x0, x1, ...) and nout outputs y0, y1, ..., the first of which is
// the graph output.
func opNode(op string, nin, nout int, attrs ...attr) []byte {
	m := newModel(17, enc{})
	in := make([]string, nin)
	for i := range in {
		in[i] = fmt.Sprint("x", i)
		m.input(in[i], 1, 4, 8, 8)
	}
	if nin == 0 {
		m.input("unused", 1)
	}
	out := make([]string, nout)
	for i := range out {
		out[i] = fmt.Sprint("y", i)
	}
	m.node(op, "n", in, out, attrs...)
	m.output("y0", 1, 4, 8, 8)
	return m.bytes()
}

// declaredAttr is an attribute of the type spec declares.
func declaredAttr(s attrSpec) attr {
	switch s.typ {
	case attrInt:
		return aInt(s.name, s.i)
	case attrFloat:
		return aFloat(s.name, s.f)
	case attrString:
		return aString(s.name, s.s)
	case attrInts:
		return aInts(s.name, []int64{1, 1}, true)
	case attrFloats:
		return aFloats(s.name, []float32{1}, true)
	}
	return aTensor(s.name, floatTensor("", []int64{1}, []float32{1}, enc{}))
}

// TestDescriptorsEnforced: for every operator in the registry, a node with
// an attribute its descriptor does not declare, or with one input or
// output too few or too many, is refused by the descriptor check with the
// check's message; a node carrying a declared attribute is not refused for
// it.
func TestDescriptorsEnforced(t *testing.T) {
	ops := make([]string, 0, len(operators))
	for op := range operators {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	refused := func(t *testing.T, data []byte, want error, msg string) {
		t.Helper()
		_, err := Convert(data, Options{})
		if !errors.Is(err, want) || !strings.HasSuffix(err.Error(), msg) {
			t.Errorf("%v, want %v ending in %q", err, want, msg)
		}
	}
	for _, op := range ops {
		d := operators[op]
		t.Run(op, func(t *testing.T) {
			nin := d.inputs.min
			refused(t, opNode(op, nin, 1, aInt("undeclared", 1)), ErrUnsupported, `node "n" (opset 17): attribute "undeclared"`)
			if d.inputs.min > 0 {
				refused(t, opNode(op, d.inputs.min-1, 1), ErrMalformed, fmt.Sprintf("%d inputs", d.inputs.min-1))
			}
			if d.inputs.max >= 0 {
				refused(t, opNode(op, d.inputs.max+1, 1), ErrMalformed, fmt.Sprintf("%d inputs", d.inputs.max+1))
			}
			if d.outputs.max >= 0 {
				refused(t, opNode(op, nin, d.outputs.max+1), ErrMalformed, fmt.Sprintf("%d outputs", d.outputs.max+1))
			}
			refused(t, opNode(op, nin, 0), ErrMalformed, "node has no output")
			for _, s := range d.attrs {
				_, err := Convert(opNode(op, nin, 1, declaredAttr(s)), Options{})
				if err != nil && (strings.HasSuffix(err.Error(), fmt.Sprintf("attribute %q", s.name)) || strings.Contains(err.Error(), "not declared")) {
					t.Errorf("declared attribute %q refused: %v", s.name, err)
				}
			}
		})
	}
}

// TestOperatorOpsets: an operator is refused in a model whose opset is
// older than its first definition, or older than a change it had before
// opset 11.
func TestOperatorOpsets(t *testing.T) {
	for op, d := range operators {
		if d.versions[0] == 1 {
			continue
		}
		m := newModel(d.versions[0]-1, enc{})
		m.input("x0", 1, 4)
		m.node(op, "n", []string{"x0"}, []string{"y0"})
		m.output("y0", 1, 4)
		_, err := Convert(m.bytes(), Options{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "does not exist before opset") {
			t.Errorf("%s at opset %d: %v", op, d.versions[0]-1, err)
		}
	}
	for op, d := range operators {
		var changed int64
		for _, v := range d.versions {
			if v > 1 && v <= 11 {
				changed = v
				break
			}
		}
		if changed == 0 || d.versions[0] >= changed {
			continue
		}
		m := newModel(changed-1, enc{})
		m.input("x0", 1, 4)
		m.node(op, "n", []string{"x0"}, []string{"y0"})
		m.output("y0", 1, 4)
		_, err := Convert(m.bytes(), Options{})
		if want := fmt.Sprintf("operator changed in opset %d;", changed); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s at opset %d: %v, want %q", op, changed-1, err, want)
		}
	}
}
