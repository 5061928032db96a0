package onnx

import (
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/model"
)

// Convolution and pooling: 2-D windows over NCHW.

var convOps = opTable{
	"Conv": {
		versions: []int64{1, 11},
		native:   model.OpConv,
		attrs: []attrSpec{
			optString("auto_pad", "NOTSET"),
			optInts("dilations", "1 per spatial axis"),
			optInt("group", 1),
			optInts("kernel_shape", "the weights' spatial shape"),
			optInts("pads", "0 per side"),
			optInts("strides", "1 per spatial axis"),
		},
		inputs: arity{2, 3}, outputs: exactlyOne,
		translate: (*nctx).conv,
	},
	"MaxPool": {
		versions: []int64{1, 8, 10, 11, 12},
		native:   model.OpMaxPool,
		attrs: []attrSpec{
			optString("auto_pad", "NOTSET"),
			optInt("ceil_mode", 0),
			optInts("dilations", "1 per spatial axis"),
			optInts("kernel_shape", "required"),
			optInts("pads", "0 per side"),
			optInt("storage_order", 0),
			optInts("strides", "1 per spatial axis"),
		},
		// The second output, the indices of the maxima, is not computed.
		inputs: exactlyOne, outputs: arity{1, 2},
		translate: (*nctx).pool,
	},
	"AveragePool": {
		versions: []int64{1, 7, 10, 11},
		native:   model.OpAveragePool,
		attrs: []attrSpec{
			optString("auto_pad", "NOTSET"),
			optInt("ceil_mode", 0),
			optInt("count_include_pad", 0),
			optInts("kernel_shape", "required"),
			optInts("pads", "0 per side"),
			optInts("strides", "1 per spatial axis"),
		},
		inputs: exactlyOne, outputs: exactlyOne,
		translate: (*nctx).pool,
	},
	"GlobalAveragePool": {
		versions: []int64{1},
		native:   model.OpGlobalAveragePool,
		inputs:   exactlyOne, outputs: exactlyOne,
		translate: (*nctx).globalAveragePool,
	},
}

// window holds the attributes Conv and the pools share, for a 2-D window.
type window struct {
	kernel, strides, dilations, pads []int64
	autoPad                          string // "" once resolved into pads
}

// window reads the window attributes, resolving auto_pad SAME_* into
// explicit pads where the input's spatial size in is known. Dilations are
// read when the operator declares them (AveragePool has none before opset 19).
func (x *nctx) window(kernel []int64, in []int64) (window, error) {
	w := window{kernel: kernel}
	var err error
	get := func(name string, n int, def, min int64) ([]int64, error) {
		v, ok, err := x.getInts(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			v = make([]int64, n)
			for i := range v {
				v[i] = def
			}
			return v, nil
		}
		if len(v) != n {
			return nil, x.malformed("attribute %q has %d values, want %d", name, len(v), n)
		}
		for _, e := range v {
			if e < min || e > 1<<20 {
				return nil, x.malformed("attribute %q value %d out of range", name, e)
			}
		}
		return append([]int64{}, v...), nil
	}
	if w.strides, err = get("strides", 2, 1, 1); err != nil {
		return w, err
	}
	w.dilations = []int64{1, 1}
	if x.d.attr("dilations") != nil {
		if w.dilations, err = get("dilations", 2, 1, 1); err != nil {
			return w, err
		}
	}
	if w.pads, err = get("pads", 4, 0, 0); err != nil {
		return w, err
	}
	mode, err := x.getString("auto_pad")
	if err != nil {
		return w, err
	}
	switch mode {
	case "NOTSET", "":
	case "VALID":
		w.pads = []int64{0, 0, 0, 0}
	case "SAME_UPPER", "SAME_LOWER":
		if in == nil || in[0] < 0 || in[1] < 0 {
			w.autoPad = mode
			break
		}
		for k := 0; k < 2; k++ {
			w.pads[k], w.pads[k+2] = shape.SamePad(in[k], w.kernel[k], w.strides[k], w.dilations[k], mode == "SAME_LOWER")
		}
	default:
		return w, x.unsupported("auto_pad %q", mode)
	}
	return w, nil
}

func (w window) attrs() []model.Attr {
	a := []model.Attr{
		intsAttr("kernel_shape", w.kernel),
		intsAttr("strides", w.strides),
		intsAttr("pads", w.pads),
		intsAttr("dilations", w.dilations),
	}
	if w.autoPad != "" {
		a = append(a, stringAttr("auto_pad", w.autoPad))
	}
	return a
}

// outSize computes one spatial output size; -1 when unknown.
func (x *nctx) outSize(w window, k int, in int64, ceil bool) (int64, error) {
	if in < 0 {
		return -1, nil
	}
	if w.autoPad != "" {
		return (in + w.strides[k] - 1) / w.strides[k], nil
	}
	out, ok := shape.PoolOut(in, w.kernel[k], w.strides[k], w.dilations[k], w.pads[k], w.pads[k+2], ceil)
	if !ok {
		// The window attributes are in range (see window), so the only
		// refusal is a dilated window larger than the padded input.
		return 0, x.malformed("window %d (dilated) larger than padded input %d", (w.kernel[k]-1)*w.dilations[k]+1, in+w.pads[k]+w.pads[k+2])
	}
	return out, nil
}

func (x *nctx) conv() error {
	W := x.cin(1)
	if W == nil {
		return x.unsupported("weights %q are not a constant (bind them with Options.Constants)", x.in(1))
	}
	if !W.isFloat() {
		return x.unsupported("weights of type %s", typeName(W.onnxType))
	}
	if len(W.shape) != 4 {
		return x.unsupported("weights of rank %d: only 2-D convolution is supported", len(W.shape))
	}
	for _, d := range W.shape {
		if d == 0 {
			return x.unsupported("empty weights of shape %v", W.shape)
		}
	}
	if x.cin(0) != nil {
		return x.unsupported("constant data input")
	}
	in, known := x.shape(x.in(0))
	if known && len(in) != 4 {
		return x.malformed("input of rank %d, weights of rank 4", len(in))
	}
	group, err := x.getInt("group")
	if err != nil {
		return err
	}
	cout, cin := W.shape[0], W.shape[1]
	if group < 1 || cout%group != 0 {
		return x.malformed("group %d does not divide %d output channels", group, cout)
	}
	if known && in[1] >= 0 && in[1] != cin*group {
		return x.malformed("input has %d channels, weights expect %d×%d", in[1], cin, group)
	}
	inputs := []string{x.in(0), x.in(1)}
	if b := x.in(2); b != "" {
		B := x.cin(2)
		if B == nil {
			return x.unsupported("bias %q is not a constant", b)
		}
		if !B.isFloat() || len(B.shape) != 1 || B.shape[0] != cout {
			return x.malformed("bias of shape %v, want [%d]", B.shape, cout)
		}
		inputs = append(inputs, b)
	}
	kernel := W.shape[2:]
	if ks, ok, err := x.getInts("kernel_shape"); err != nil {
		return err
	} else if ok && (len(ks) != 2 || ks[0] != kernel[0] || ks[1] != kernel[1]) {
		return x.malformed("kernel_shape %v does not match weights %v", ks, W.shape)
	}
	var spatial []int64
	if known {
		spatial = in[2:]
	}
	w, err := x.window(kernel, spatial)
	if err != nil {
		return err
	}
	var out []int64
	if known {
		out = []int64{in[0], cout, 0, 0}
		for k := 0; k < 2; k++ {
			if out[2+k], err = x.outSize(w, k, in[2+k], false); err != nil {
				return err
			}
		}
	}
	attrs := append(w.attrs(), intAttr("group", group))
	return x.emit(x.d.native, inputs, attrs, out)
}

// pool translates MaxPool and AveragePool; it reads the attributes the
// operator declares (storage_order, count_include_pad, dilations).
func (x *nctx) pool() error {
	if x.d.attr("storage_order") != nil {
		if v, err := x.getInt("storage_order"); err != nil {
			return err
		} else if v != 0 {
			return x.unsupported("storage_order %d (column-major indices)", v)
		}
	}
	ks, ok, err := x.getInts("kernel_shape")
	if err != nil {
		return err
	}
	if !ok {
		return x.malformed("missing kernel_shape")
	}
	if len(ks) != 2 {
		return x.unsupported("%d-D pooling: only 2-D is supported", len(ks))
	}
	for _, k := range ks {
		if k < 1 || k > 1<<20 {
			return x.malformed("kernel_shape %v", ks)
		}
	}
	in, known := x.shape(x.in(0))
	if known && len(in) != 4 {
		return x.unsupported("input of rank %d: only 2-D pooling is supported", len(in))
	}
	var spatial []int64
	if known {
		spatial = in[2:]
	}
	w, err := x.window(append([]int64{}, ks...), spatial)
	if err != nil {
		return err
	}
	ceil, err := x.getFlag("ceil_mode")
	if err != nil {
		return err
	}
	attrs := append(w.attrs(), intAttr("ceil_mode", ceil))
	if x.d.attr("count_include_pad") != nil {
		cip, err := x.getFlag("count_include_pad")
		if err != nil {
			return err
		}
		attrs = append(attrs, intAttr("count_include_pad", cip))
	}
	var out []int64
	if known {
		out = []int64{in[0], in[1], 0, 0}
		for k := 0; k < 2; k++ {
			if out[2+k], err = x.outSize(w, k, in[2+k], ceil == 1); err != nil {
				return err
			}
		}
	}
	return x.emit(x.d.native, []string{x.in(0)}, attrs, out)
}

func (x *nctx) globalAveragePool() error {
	var out []int64
	if s, ok := x.shape(x.in(0)); ok {
		if len(s) < 3 {
			return x.malformed("input of rank %d", len(s))
		}
		out = append([]int64{}, s...)
		for k := 2; k < len(out); k++ {
			out[k] = 1
		}
	}
	return x.emit(x.d.native, []string{x.in(0)}, nil, out)
}
