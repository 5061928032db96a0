package onnx

import (
	"fmt"
	"testing"
)

// largeGraph builds a chain of about n nodes on x[1,4]: mostly Relu, with
// Sigmoid·Mul pairs (rewritten to SiLU), Dropout and Identity inside the
// chain, and outs Identity nodes spread along it whose outputs are graph
// outputs (each needs a rename of its producer's output).
func largeGraph(n, outs int) []byte {
	m := newModel(13, enc{})
	m.input("x", 1, 4)
	prev := "x"
	every := n / outs
	k := 0
	val := func() string { k++; return fmt.Sprintf("v%d", k) }
	for i := 0; len(m.nodes) < n; i++ {
		switch i % 8 {
		case 3:
			s, y := val(), val()
			m.node("Sigmoid", fmt.Sprintf("s%d", i), []string{prev}, []string{s})
			m.node("Mul", fmt.Sprintf("m%d", i), []string{prev, s}, []string{y})
			prev = y
		case 5:
			y := val()
			m.node("Dropout", fmt.Sprintf("d%d", i), []string{prev}, []string{y})
			prev = y
		case 6:
			y := val()
			m.node("Identity", fmt.Sprintf("i%d", i), []string{prev}, []string{y})
			prev = y
		default:
			y := val()
			m.node("Relu", fmt.Sprintf("r%d", i), []string{prev}, []string{y})
			prev = y
		}
		if len(m.nodes) >= (len(m.outputs)+1)*every && len(m.outputs) < outs-1 {
			o := fmt.Sprintf("out%d", len(m.outputs))
			m.node("Identity", fmt.Sprintf("o%d", i), []string{prev}, []string{o})
			m.output(o, 1, 4)
		}
	}
	m.node("Identity", "last", []string{prev}, []string{"y"})
	m.output("y", 1, 4)
	return m.bytes()
}

// TestConvertLargeGraphLinear: the work of a conversion (nodes visited by
// every pass, consumers rewired) must grow linearly with the graph. The
// removal of an Identity whose output is a graph output used to rescan every
// node and rebuild the producer map, so 4× the nodes and outputs cost 16×.
func TestConvertLargeGraphLinear(t *testing.T) {
	work := func(n, outs int) int64 {
		m, rep, err := ConvertReport(largeGraph(n, outs), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Graph.Outputs) != outs {
			t.Fatalf("%d outputs, want %d", len(m.Graph.Outputs), outs)
		}
		for _, nd := range m.Graph.Nodes {
			if nd.Op != "Relu" && nd.Op != "SiLU" {
				t.Fatalf("node %s %q left in the graph", nd.Op, nd.Name)
			}
		}
		if rep.Removed == 0 || rep.SiLU == 0 || rep.work <= 0 {
			t.Fatalf("report %+v", rep)
		}
		return rep.work
	}
	small, big := work(10000, 125), work(40000, 500)
	t.Logf("work: %d for 10k nodes, %d for 40k (×%.2f)", small, big, float64(big)/float64(small))
	if big > 6*small {
		t.Fatalf("4× the graph costs %.1f× the work (%d → %d): not linear", float64(big)/float64(small), small, big)
	}
}

// BenchmarkConvertLargeGraph converts 300k nodes with 4000 Identity graph
// outputs (the size that took minutes when each removal rescanned the graph).
func BenchmarkConvertLargeGraph(b *testing.B) {
	data := largeGraph(300000, 4000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
