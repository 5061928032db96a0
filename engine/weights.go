package engine

import (
	"slices"
	"unsafe"

	"github.com/signet-go/signet/model"
)

// Weights held once. A model's float tensors are read in place while
// planning: on a little-endian machine, a tensor's 4-byte-aligned bytes (the
// file format aligns every tensor to 64 bytes) are its float32 values, so
// konst aliases the model's memory (for a model from model.Open, the file
// mapping) and nothing is decoded. Each packing kernel copies what it reads
// into its own layout. Once the last node is planned, ownConstants leaves
// the plan with no reference into the model: constants that some step reads
// at run time (a constant Add operand, a runtime-B MatMul, a graph output)
// get a copy of their own, counted in the memory budget like packed weights,
// and the others are dropped. The pages of the file mapping are handed back
// (model.Model.Evict) before planning, after each node has packed its
// inputs, and at the end: at no time are both the raw and the packed copy
// of the whole model resident, and afterwards only the packed one is.

// floatsOf returns the float32 values of t: its bytes read in place when
// this machine is little-endian and they are 4-byte aligned, else a decoded
// copy (which ownConstants drops or keeps like any other).
func floatsOf(t *model.Tensor) []float32 {
	n := len(t.Data) / 4
	if n == 0 {
		return []float32{}
	}
	p := unsafe.Pointer(unsafe.SliceData(t.Data))
	if littleEndian && uintptr(p)%4 == 0 {
		return unsafe.Slice((*float32)(p), n)
	}
	return t.Float32s()
}

// littleEndian reports whether float32 values lie in memory as the file
// format stores them.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// evictInputs hands back the file pages of the initializers node n read:
// whatever it needed from them is packed by now. A later reader of the same
// tensor reads it back from the file.
func (c *compiler) evictInputs(n *model.Node) {
	for _, name := range n.Inputs {
		if id, ok := c.byName[name]; ok && c.p.vals[id].src != nil {
			c.m.Evict(c.p.vals[id].src)
		}
	}
}

// ownConstants runs once every step is planned: a constant some step reads
// at run time (or a graph output) gets a copy of its own when it still
// aliases the model, every other constant is dropped (its data lives on,
// packed, in the steps that read it while planning), and integer constants
// are dropped too. After it the plan holds no reference to the model's
// tensors, and their file pages are handed back.
func (c *compiler) ownConstants() error {
	p := c.p
	read := make([]bool, len(p.vals))
	for _, ins := range c.stepIn {
		for _, id := range ins {
			read[id] = true
		}
	}
	for _, id := range p.outputs {
		read[id] = true
	}
	for i := range p.vals {
		v := &p.vals[i]
		v.ints = nil
		if !v.isConst {
			continue
		}
		switch {
		case !read[i]:
			v.konst = nil
		case v.src != nil:
			if err := c.reserve(len(v.konst)); err != nil {
				return err
			}
			v.konst = slices.Clone(v.konst)
		}
		v.src = nil
	}
	c.m.Evict(nil)
	return nil
}
