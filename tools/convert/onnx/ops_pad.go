package onnx

import (
	"math"

	"github.com/signet-go/signet/model"
)

// Pad. Its pads and constant value are inputs from opset 11 and attributes
// before (Pad-2, read from opset 2 on); either way they become attributes
// of the native Pad. A pad that adds nothing becomes Identity (removed by
// the passes: torch.onnx emits one before every AveragePool with
// count_include_pad, padding or not), and foldPads moves a zero pad into
// the Conv or AveragePool it feeds when that computes the same.

var padOps = opTable{
	"Pad": {
		versions:  []int64{1, 2, 11, 13},
		readsFrom: 2,
		native:    model.OpPad,
		attrs: []attrSpec{
			optString("mode", "constant"),
			optInts("pads", "required before opset 11"),
			optFloat("value", 0),
		},
		// Inputs 1 and 2 (opset 11): pads, constant_value.
		inputs: arity{1, 3}, outputs: exactlyOne,
		translate: (*nctx).pad,
	},
}

func (x *nctx) pad() error {
	mode, err := x.getString("mode")
	if err != nil {
		return err
	}
	switch mode {
	case "constant", "edge", "reflect":
	default:
		return x.unsupported("mode %q", mode)
	}
	var pads []int64
	value, err := x.getFloat("value")
	if err != nil {
		return err
	}
	if x.c.opset >= 11 {
		for _, a := range []string{"pads", "value"} {
			if x.attr(a) != nil {
				return x.malformed("attribute %q (an input from opset 11)", a)
			}
		}
		p := x.cin(1)
		if p == nil {
			if x.in(1) == "" {
				return x.malformed("missing pads")
			}
			return x.unsupported("pads %q are not a constant", x.in(1))
		}
		if p.isFloat() || len(p.shape) != 1 {
			return x.malformed("pads of type %s and shape %v", typeName(p.onnxType), p.shape)
		}
		pads = p.ints()
		v, err := x.scalarIn(2, "constant_value")
		if err != nil {
			return err
		}
		if v != nil {
			value = v.floats()[0]
		}
	} else {
		if len(x.n.inputs) > 1 {
			return x.malformed("%d inputs before opset 11", len(x.n.inputs))
		}
		var ok bool
		if pads, ok, err = x.getInts("pads"); err != nil {
			return err
		} else if !ok {
			return x.malformed("missing pads")
		}
	}
	if err := x.floatOperand(0); err != nil {
		return err
	}
	if len(pads)%2 != 0 {
		return x.malformed("%d pads", len(pads))
	}
	r := len(pads) / 2
	in, known := x.shape(x.in(0))
	if known && len(in) != r {
		return x.malformed("%d pads for an input of rank %d", len(pads), len(in))
	}
	zero := true
	for _, p := range pads {
		if p > 1<<20 || p < -(1<<20) {
			return x.unsupported("pad %d out of range", p)
		}
		zero = zero && p == 0
	}
	if zero {
		return x.emit("Identity", []string{x.in(0)}, nil, in)
	}
	var out []int64
	if known {
		out = make([]int64, r)
		for d := range out {
			if in[d] < 0 {
				out[d] = -1
				continue
			}
			if out[d] = in[d] + pads[d] + pads[r+d]; out[d] < 1 {
				return x.unsupported("pads %v leave dimension %d of %v empty", pads, d, in)
			}
		}
	}
	attrs := []model.Attr{stringAttr("mode", mode), intsAttr("pads", pads)}
	if mode == "constant" && (value != 0 || math.Signbit(float64(value))) {
		attrs = append(attrs, floatAttr("value", value))
	}
	return x.emit(x.d.native, []string{x.in(0)}, attrs, out)
}
