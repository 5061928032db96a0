package model_test

import (
	"strconv"
	"testing"

	"github.com/signet-go/signet/internal/testalloc"
	"github.com/signet-go/signet/model"
)

// maxAllocRatio is the documented bound: Decode allocates at most this many
// bytes per byte of input (plus a small constant), whatever the input.
const maxAllocRatio = 20

// TestDecodeAllocationBounded decodes the densest files for allocation the
// format allows: many tiny nodes with many one-byte-named float attributes
// (each 10 bytes on disk, a 104-byte Attr in memory), valid and with the
// node count inflated to what the remaining bytes could hold.
func TestDecodeAllocationBounded(t *testing.T) {
	g := model.Graph{Inputs: []model.Value{{Name: "x"}}}
	prev := "x"
	for i := range 2000 {
		out := strconv.Itoa(i)
		n := model.Node{Op: "R", Inputs: []string{prev}, Outputs: []string{out}}
		for a := range 64 {
			n.Attrs = append(n.Attrs, model.Attr{Name: string(rune('!' + a)), Kind: model.AttrFloat, Float: float32(a)})
		}
		g.Nodes = append(g.Nodes, n)
		prev = out
	}
	g.Outputs = []model.Value{{Name: prev}}
	_, valid := newEncoded(t, model.Metadata{}, g)
	// Inflate the node count to the most the section could hold at the
	// minimum node size (20 bytes): the decoder allocates that many Nodes
	// before finding that the records are not there.
	inflated := append([]byte(nil), valid...)
	sec := graphSection(t, inflated)
	at := find(t, sec, lp("R"), 0) - 4
	le.PutUint32(sec[at:], uint32((len(sec)-at-4)/20))
	fixCRCs(inflated)

	for name, b := range map[string][]byte{"valid": valid, "inflated node count": inflated} {
		var err error
		n := testalloc.Bytes(func() { _, err = model.Decode(b) })
		if name == "valid" && err != nil {
			t.Fatal(err)
		}
		ratio := float64(n) / float64(len(b))
		t.Logf("%s: %d-byte file, %d bytes allocated (%.1f×), err=%v", name, len(b), n, ratio, err)
		if n > maxAllocRatio*uint64(len(b))+64<<10 {
			t.Errorf("%s: allocated %d bytes for a %d-byte file, more than %d×", name, n, len(b), maxAllocRatio)
		}
	}
}
