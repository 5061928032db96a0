package engine

import (
	"fmt"
	"math"

	"github.com/signet-go/signet/internal/shape"
)

// Budgets. A model arrives over the air and may be hostile: a few hundred
// bytes can declare a 26000² input, a Conv with pads of 8000 or a 4096²
// MatMul of an input with itself. New adds up what the plan will hold and
// do and refuses it (ErrBudget) before allocating anything large, instead of
// dying of an out-of-memory or running for minutes.
const (
	// DefaultMemoryLimit is Options.MemoryLimit's default: 2 GiB, about
	// ten times what torchvision's ResNet50 needs at 224².
	DefaultMemoryLimit int64 = 2 << 30
	// DefaultMaxWork is Options.MaxWork's default: 64 G operations per
	// inference, eight times ResNet50 at 224² (8.2 GFLOP), about a second
	// of one core at the FMA peak.
	DefaultMaxWork int64 = 64e9
	// NoLimit turns a budget off.
	NoLimit int64 = -1
)

func limitOf(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return math.MaxInt64
	}
	return v
}

// reserve accounts n float32s the compiler is about to allocate for packed
// weights or converted constants, refusing them past the memory budget.
func (c *compiler) reserve(n int) error {
	c.p.weightBytes = shape.AddSat(c.p.weightBytes, shape.MulSat(int64(n), 4))
	if c.p.weightBytes > c.memLimit {
		return c.budgetErr("packed weights need more than %d bytes", c.memLimit)
	}
	return nil
}

// reserveTemp checks that n more float32s, dropped again once a node is
// planned (a scaled copy of weights before packing), fit the memory budget
// beside everything reserved so far.
func (c *compiler) reserveTemp(n int) error {
	if shape.AddSat(c.p.weightBytes, shape.MulSat(int64(n), 4)) > c.memLimit {
		return c.budgetErr("packed weights need more than %d bytes", c.memLimit)
	}
	return nil
}

func (c *compiler) budgetErr(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if c.node != nil {
		return fmt.Errorf("%w: node %q (%s): %s (Options.MemoryLimit, Options.MaxWork)", ErrBudget, c.node.Name, c.node.Op, msg)
	}
	return fmt.Errorf("%w: %s (Options.MemoryLimit, Options.MaxWork)", ErrBudget, msg)
}

// sessionBytes is what NewSession allocates: the arena, per-thread scratch
// and the logical copies of the outputs.
func (p *plan) sessionBytes(threads int) int64 {
	n := shape.AddSat(int64(p.arenaSize), shape.MulSat(int64(threads), int64(p.scratch)))
	for _, id := range p.outputs {
		n = shape.AddSat(n, int64(p.vals[id].size))
	}
	return shape.MulSat(n, 4)
}

// checkBudgets runs once the plan is complete, before any session exists.
func (c *compiler) checkBudgets() error {
	c.node = nil
	p := c.p
	var work int64
	for i := range p.steps {
		w := max(p.layers[i].FLOPs, 0)
		for _, id := range c.stepOut[i] {
			w = max(w, int64(p.vals[id].size))
		}
		work = shape.AddSat(work, w)
	}
	// Copying the inputs in and the outputs out is work too.
	for _, id := range append(append([]int(nil), p.inputs...), p.outputs...) {
		work = shape.AddSat(work, int64(p.vals[id].size))
	}
	p.work = work
	if work > c.workLimit {
		return c.budgetErr("one inference does %d operations, over the work budget of %d", work, c.workLimit)
	}
	total := shape.AddSat(p.weightBytes, p.sessionBytes(c.threads))
	if total > c.memLimit {
		return c.budgetErr("a session needs %d bytes (%d of packed weights, %d of arena, scratch and outputs), over the memory budget of %d",
			total, p.weightBytes, p.sessionBytes(c.threads), c.memLimit)
	}
	return nil
}

// MemoryBytes is what the engine holds (packed weights and its own copies of
// constants) plus what one Session allocates: the figure Options.MemoryLimit
// bounds. The engine keeps no reference to the model's tensors once planned
// (their file pages are handed back, see model.Model.Evict), so a process
// running one session is resident for about MemoryBytes plus the Go runtime.
func (e *Engine) MemoryBytes() int64 {
	return shape.AddSat(e.p.weightBytes, e.p.sessionBytes(e.threads))
}

// WorkPerRun is the work of one inference as Options.MaxWork counts it: per
// layer its FLOPs (a multiply-add counts two) or the elements it writes,
// whichever is larger, plus the elements copied in and out.
func (e *Engine) WorkPerRun() int64 { return e.p.work }
