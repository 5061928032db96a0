// Package quant turns a float32 signet model into an int8 one by
// post-training static quantisation: it runs the model on calibration
// inputs, gives every activation that enters or leaves a quantisable layer
// an int8 range, rewrites those layers in ONNX's QDQ form
// (QuantizeLinear/DequantizeLinear around a float Conv, Gemm or MatMul,
// which the engine fuses into one int8 kernel at plan time) and keeps in
// float32 every layer whose int8 form costs more accuracy than a stated
// bound.
//
// The scheme is the one the int8 kernels execute: weights symmetric int8
// per output channel ([-127, 127], zero point 0), activations int8 per
// tensor (asymmetric with a zero point by default, symmetric on request),
// bias int32 with scale input scale × weight scale, requantisation in
// float32 per channel with round-half-to-even, as ONNX QuantizeLinear.
//
// A layer's cost is measured, not guessed: the model is run with that
// layer alone in int8 and its outputs are compared with the float32 ones
// on every calibration input (1 - cosine, averaged). Layers the kernels
// cannot run in int8 (depthwise and grouped convolutions, activations
// other than ReLU and Clip fused into them, weights that are not
// constants) stay float32 with the reason in the report.
package quant

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
)

// Op names of ONNX's QDQ pair, as the model format carries them.
const (
	opQuantize   = "QuantizeLinear"
	opDequantize = "DequantizeLinear"
)

// Method chooses how an activation's range comes from the calibration runs.
type Method string

const (
	// MinMax takes the smallest and largest value seen.
	MinMax Method = "minmax"
	// Percentile clips the tails: the range holds Options.Percentile of
	// the values seen on each side of zero (a histogram of 2048 bins per
	// tensor over its min-max range).
	Percentile Method = "percentile"
)

// Errors returned by Quantize wrap one of these.
var (
	// ErrOptions: an option out of its range, or no calibration input.
	ErrOptions = errors.New("quant: bad options")
	// ErrCalibration: the model did not run on a calibration input, or
	// gave a non-finite value.
	ErrCalibration = errors.New("quant: calibration failed")
)

// DefaultMaxLayerError is the default of Options.MaxLayerError: a layer
// stays int8 when quantising it alone keeps the model's outputs within
// cosine 0.9999 of float32 on average. The calibration set rarely spans
// every input the model will meet; on the sign encoder a looser 5e-4 let
// the embedding head (1.2e-4) go int8 and cost novel sign designs up to
// 0.035 of embedding cosine where their pooled features left the
// calibrated range; at 1e-4 the head stays float32 and the least cosine
// over the benchmark is 0.992.
const DefaultMaxLayerError = 1e-4

// Options configures Quantize.
type Options struct {
	// Method is MinMax (the default when empty) or Percentile.
	Method Method
	// Percentile is the share of values a Percentile range keeps
	// (0 means 0.9999); it must lie in (0.5, 1].
	Percentile float64
	// Symmetric gives activations a zero point of 0 and the range
	// [-max|x|, max|x|] instead of [min, max].
	Symmetric bool
	// KeepFP32 names layers (node names, or the name of their first
	// output) that stay float32 whatever they cost.
	KeepFP32 []string
	// MaxLayerError is the bound on a layer's cost (1 - mean cosine of the
	// outputs with that layer alone int8); 0 means DefaultMaxLayerError,
	// a negative value no bound.
	MaxLayerError float64
	// Engine runs the calibration and the measurements (threads, tier).
	Engine engine.Options
}

// Layer is one row of the report: a Conv, Gemm or MatMul of the model, or
// an Add, MaxPool or GlobalAveragePool that can pass int8 values on.
type Layer struct {
	Node  string // node name (its first output when it has none)
	Op    string
	Int8  bool    // quantised in the output model
	Error float64 // 1 - mean cosine with this layer alone int8 (for the
	// adds and pools: the cost of all of them together); NaN when not measured
	Reason string // why it stays float32, or "" when int8
	Params int    // weight elements
}

// Report says what Quantize did.
type Report struct {
	Scheme     string  // the scheme, as written to the metadata
	Images     int     // calibration inputs used
	Layers     []Layer // in graph order
	Cosine     float64 // mean cosine of the output model's outputs to float32's
	MinCosine  float64 // the smallest of them
	Int8Params int     // weight elements stored as int8
	AllParams  int     // weight elements of all layers in the table
}

// MetaKey is the metadata key (Metadata.Extra) that records the scheme.
const MetaKey = "quantization"

// Quantize returns m quantised with the calibration inputs calib (each
// one slice per graph input, in graph order, preprocessed as at
// inference) and what it did.
func Quantize(m *model.Model, calib [][][]float32, opts Options) (*model.Model, *Report, error) {
	if err := opts.check(len(calib)); err != nil {
		return nil, nil, err
	}
	cands, glues, rep := candidates(m, opts)
	var watch []string
	for _, c := range cands {
		watch = append(watch, c.x, c.y)
	}
	for _, g := range glues {
		if !g.same {
			watch = append(watch, g.out)
		}
	}
	ref, err := runAll(m, nil, calib, opts.Engine)
	if err != nil {
		return nil, nil, err
	}
	ranges, err := calibrate(m, dedupe(watch), calib, opts)
	if err != nil {
		return nil, nil, err
	}
	var keep []*cand
	for _, c := range cands {
		l := &rep.Layers[c.row]
		if c.keep {
			continue
		}
		q, err := rewrite(m, []*cand{c}, []string{c.x, c.y}, ranges)
		if err != nil {
			return nil, nil, err
		}
		cos, _, err := compare(q, ref, calib, opts.Engine)
		if err != nil {
			return nil, nil, err
		}
		l.Error = 1 - cos
		if opts.MaxLayerError >= 0 && l.Error > opts.MaxLayerError {
			l.Reason = fmt.Sprintf("costs %.2g > bound %.2g", l.Error, opts.MaxLayerError)
			continue
		}
		l.Int8 = true
		keep = append(keep, c)
	}
	codes := map[string]bool{}
	var list []string
	add := func(t string) {
		if !codes[t] {
			codes[t] = true
			list = append(list, t)
		}
	}
	for _, c := range keep {
		add(c.x)
		add(c.y)
	}
	q, err := rewrite(m, keep, list, ranges)
	if err != nil {
		return nil, nil, err
	}
	if rep.Cosine, rep.MinCosine, err = compare(q, ref, calib, opts.Engine); err != nil {
		return nil, nil, err
	}
	// Residual adds and pools whose inputs are all int8 keep their output
	// int8 too, so that consecutive int8 layers need no float round trip;
	// all of them together are held to the same bound, against the model
	// without them.
	var glued []*glue
	for _, g := range glues {
		l := &rep.Layers[g.row]
		if !g.all(codes) {
			l.Reason = "an input stays float32"
			continue
		}
		if codes[g.out] {
			// Its output is an int8 layer's input, coded already: the
			// engine runs it in int8 (a max pool only when both sides
			// share one encoding, as they do after a ReLU).
			if g.same && ranges[g.out] != ranges[g.ins[0]] {
				l.Reason = "output encoding differs from the input's"
			} else {
				l.Int8 = true
			}
			continue
		}
		if g.same {
			ranges[g.out] = ranges[g.ins[0]]
		}
		add(g.out)
		glued = append(glued, g)
	}
	if len(glued) > 0 {
		qg, err := rewrite(m, keep, list, ranges)
		if err != nil {
			return nil, nil, err
		}
		cos, least, err := compare(qg, ref, calib, opts.Engine)
		if err != nil {
			return nil, nil, err
		}
		cost := rep.Cosine - cos
		for _, g := range glued {
			l := &rep.Layers[g.row]
			l.Error = cost
			if opts.MaxLayerError >= 0 && cost > opts.MaxLayerError {
				l.Reason = fmt.Sprintf("together they cost %.2g > bound %.2g", cost, opts.MaxLayerError)
				continue
			}
			l.Int8 = true
		}
		if opts.MaxLayerError < 0 || cost <= opts.MaxLayerError {
			q, rep.Cosine, rep.MinCosine = qg, cos, least
		}
	}
	rep.Images = len(calib)
	int8s := 0
	for _, l := range rep.Layers {
		rep.AllParams += l.Params
		if l.Int8 {
			rep.Int8Params += l.Params
			int8s++
		}
	}
	rep.Scheme = opts.scheme(int8s, len(rep.Layers)-int8s, len(calib))
	// The metadata map is the input model's: copy it before writing.
	q.Meta.Extra = maps.Clone(q.Meta.Extra)
	if q.Meta.Extra == nil {
		q.Meta.Extra = map[string]string{}
	}
	q.Meta.Extra[MetaKey] = rep.Scheme
	out, err := model.New(q.Meta, q.Graph)
	if err != nil {
		return nil, nil, err
	}
	return out, rep, nil
}

func (o *Options) check(n int) error {
	switch {
	case n == 0:
		return fmt.Errorf("%w: no calibration input", ErrOptions)
	case o.Method == "":
		o.Method = MinMax
	case o.Method != MinMax && o.Method != Percentile:
		return fmt.Errorf("%w: method %q (want %s or %s)", ErrOptions, o.Method, MinMax, Percentile)
	}
	if o.Percentile == 0 {
		o.Percentile = 0.9999
	}
	if !(o.Percentile > 0.5 && o.Percentile <= 1) {
		return fmt.Errorf("%w: percentile %v outside (0.5, 1]", ErrOptions, o.Percentile)
	}
	if o.MaxLayerError == 0 {
		o.MaxLayerError = DefaultMaxLayerError
	}
	return nil
}

func (o *Options) scheme(int8s, fp32s, images int) string {
	act := "asymmetric per tensor (zero point)"
	if o.Symmetric {
		act = "symmetric per tensor"
	}
	rng := string(o.Method)
	if o.Method == Percentile {
		rng = fmt.Sprintf("percentile %g", o.Percentile)
	}
	return fmt.Sprintf("int8 static QDQ: weights symmetric per output channel, activations %s, %s over %d calibration inputs; bias int32; %d layers int8, %d float32 (bound %.2g)",
		act, rng, images, int8s, fp32s, o.MaxLayerError)
}

// cand is one quantisable layer.
type cand struct {
	row  int // index in Report.Layers
	node int // index in the graph
	x, y string
	w, b string // initializer names; b may be ""
	axis int    // output-channel axis of w
	keep bool   // stays float32 (KeepFP32)
}

// glue is an Add, MaxPool or GlobalAveragePool that can keep int8 values
// int8: its output (or that of a Relu or Clip that alone reads it) is
// coded when all its inputs are.
type glue struct {
	row  int
	ins  []string
	out  string
	same bool // MaxPool: the output has the input's encoding
}

func (g *glue) all(codes map[string]bool) bool {
	for _, x := range g.ins {
		if !codes[x] {
			return false
		}
	}
	return true
}

// candidates lists every Conv, Gemm and MatMul, and every Add, MaxPool and
// GlobalAveragePool, in the report and returns those the int8 kernels can
// run.
func candidates(m *model.Model, opts Options) ([]*cand, []*glue, *Report) {
	rep := &Report{}
	var out []*cand
	var glues []*glue
	readers := map[string][]int{}
	for i, n := range m.Graph.Nodes {
		for _, x := range n.Inputs {
			readers[x] = append(readers[x], i)
		}
	}
	outputs := map[string]bool{}
	for _, o := range m.Graph.Outputs {
		outputs[o.Name] = true
	}
	for i := range m.Graph.Nodes {
		n := &m.Graph.Nodes[i]
		name := n.Name
		if name == "" && len(n.Outputs) > 0 {
			name = n.Outputs[0]
		}
		switch n.Op {
		case model.OpAdd, model.OpMaxPool, model.OpGlobalAveragePool:
			if len(n.Outputs) == 0 {
				continue
			}
			g := &glue{row: len(rep.Layers), out: n.Outputs[0], same: n.Op == model.OpMaxPool}
			l := Layer{Node: name, Op: n.Op, Error: math.NaN()}
			for _, x := range n.Inputs {
				if _, c := m.Initializer(x); !c && x != "" {
					g.ins = append(g.ins, x)
				}
			}
			if r := readers[g.out]; n.Op != model.OpMaxPool && len(r) == 1 && !outputs[g.out] {
				if next := &m.Graph.Nodes[r[0]]; (next.Op == model.OpRelu || next.Op == model.OpClip) && len(next.Outputs) == 1 {
					g.out = next.Outputs[0]
				}
			}
			if n.Op == model.OpAdd && len(g.ins) != 2 || len(n.Outputs) > 1 && n.Outputs[1] != "" {
				l.Reason = "not an add of two activations"
			} else {
				glues = append(glues, g)
			}
			rep.Layers = append(rep.Layers, l)
			continue
		case model.OpConv, model.OpGemm, model.OpMatMul:
		default:
			continue
		}
		l := Layer{Node: name, Op: n.Op, Error: math.NaN()}
		c, why := eligible(m, n)
		if c != nil {
			if t, ok := m.Initializer(c.w); ok {
				l.Params = int(t.NumElements())
			}
		}
		switch {
		case why != "":
			l.Reason = why
		case slices.Contains(opts.KeepFP32, name) || slices.Contains(opts.KeepFP32, n.Outputs[0]):
			l.Reason = "kept float32 (-keep-fp32)"
			c.keep = true
		}
		if c != nil && why == "" {
			c.row, c.node = len(rep.Layers), i
			out = append(out, c)
		}
		rep.Layers = append(rep.Layers, l)
	}
	return out, glues, rep
}

// eligible returns the layer's cand, or why it cannot be int8.
func eligible(m *model.Model, n *model.Node) (*cand, string) {
	if len(n.Inputs) < 2 || len(n.Outputs) != 1 {
		return nil, "unexpected inputs or outputs"
	}
	w, ok := m.Initializer(n.Inputs[1])
	if !ok || w.DType != model.Float32 {
		return nil, "weights are not a float32 constant"
	}
	if a, ok := n.Attr("activation"); ok && a.String != "Relu" && a.String != "Clip" {
		return nil, fmt.Sprintf("fused %s runs in float32", a.String)
	}
	if _, c := m.Initializer(n.Inputs[0]); c {
		return nil, "input is a constant"
	}
	c := &cand{x: n.Inputs[0], y: n.Outputs[0], w: w.Name}
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		b, ok := m.Initializer(n.Inputs[2])
		if !ok || b.DType != model.Float32 {
			return nil, "bias is not a float32 constant"
		}
		c.b = b.Name
	}
	switch n.Op {
	case model.OpConv:
		if g, ok := n.Attr("group"); ok && g.Int != 1 {
			if len(w.Shape) == 4 && w.Shape[1] == 1 {
				return nil, "depthwise: float32 (no int8 depthwise kernel)"
			}
			return nil, fmt.Sprintf("grouped (%d groups): float32", g.Int)
		}
		if len(w.Shape) != 4 {
			return nil, "weights are not 4-D"
		}
	case model.OpGemm:
		if len(w.Shape) != 2 {
			return nil, "weights are not 2-D"
		}
		for _, a := range n.Attrs {
			switch {
			case a.Name == "transA" && a.Int != 0, (a.Name == "alpha" || a.Name == "beta") && a.Float != 1:
				return nil, fmt.Sprintf("%s=%v: float32", a.Name, attrValue(a))
			}
		}
		c.axis = 1
		if a, ok := n.Attr("transB"); ok && a.Int == 1 {
			c.axis = 0
		}
		if c.b != "" {
			if b, _ := m.Initializer(c.b); b.NumElements() != w.Shape[c.axis] {
				return nil, "bias is not one value per output"
			}
		}
	case model.OpMatMul:
		if len(w.Shape) != 2 || len(n.Inputs) != 2 {
			return nil, "right operand is not a 2-D constant"
		}
		c.axis = 1
	}
	return c, ""
}

func attrValue(a model.Attr) any {
	if a.Kind == model.AttrFloat {
		return a.Float
	}
	return a.Int
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// qrange is one activation's int8 encoding.
type qrange struct {
	scale float32
	zero  int8
}

// rangeOf turns [lo, hi] into a scale and zero point. The range always
// holds 0, so that zero padding and ReLU's zeros are exact.
func rangeOf(lo, hi float64, symmetric bool) qrange {
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if symmetric {
		a := math.Max(-lo, hi)
		if a == 0 {
			return qrange{scale: 1}
		}
		return qrange{scale: float32(a / 127)}
	}
	if hi == lo {
		return qrange{scale: 1}
	}
	s := float32((hi - lo) / 255)
	z := math.RoundToEven(-128 - lo/float64(s))
	return qrange{scale: s, zero: int8(max(-128, min(127, z)))}
}

// sessionFor plans g (with the graph outputs replaced by outs when not
// nil) and returns a session with its output buffers.
func sessionFor(meta model.Metadata, g model.Graph, outs []string, eo engine.Options) (*engine.Session, [][]float32, func(), error) {
	if outs != nil {
		meta.OutputName, meta.OutputSize, meta.L2Normalized = "", 0, false
		g.Outputs = nil
		for _, o := range outs {
			g.Outputs = append(g.Outputs, model.Value{Name: o})
		}
	}
	m, err := model.New(meta, g)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := engine.New(m, eo)
	if err != nil {
		return nil, nil, nil, err
	}
	s := e.NewSession()
	var bufs [][]float32
	for _, sh := range e.OutputShapes() {
		n := 1
		for _, d := range sh {
			n *= d
		}
		bufs = append(bufs, make([]float32, n))
	}
	return s, bufs, func() { s.Close(); e.Close() }, nil
}

// runAll runs the model (outputs outs, or its own) on every input and
// returns copies of the outputs, one concatenated slice per input.
func runAll(m *model.Model, outs []string, calib [][][]float32, eo engine.Options) ([][]float32, error) {
	var res [][]float32
	err := each(m.Meta, m.Graph, outs, calib, eo, func(_ int, o [][]float32) error {
		res = append(res, slices.Concat(o...))
		return nil
	})
	return res, err
}

// each runs g on every calibration input and hands the outputs to f.
func each(meta model.Metadata, g model.Graph, outs []string, calib [][][]float32, eo engine.Options, f func(int, [][]float32) error) error {
	s, bufs, done, err := sessionFor(meta, g, outs, eo)
	if err != nil {
		return err
	}
	defer done()
	for i, in := range calib {
		if err := s.RunMulti(in, bufs); err != nil {
			return fmt.Errorf("%w: input %d: %w", ErrCalibration, i, err)
		}
		for _, b := range bufs {
			for _, v := range b {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("%w: input %d gives a non-finite value", ErrCalibration, i)
				}
			}
		}
		if err := f(i, bufs); err != nil {
			return err
		}
	}
	return nil
}

// calibrate returns the int8 encoding of every watched tensor.
func calibrate(m *model.Model, watch []string, calib [][][]float32, opts Options) (map[string]qrange, error) {
	lo := make([]float64, len(watch))
	hi := make([]float64, len(watch))
	for i := range watch {
		lo[i], hi[i] = math.Inf(1), math.Inf(-1)
	}
	err := each(m.Meta, m.Graph, watch, calib, opts.Engine, func(_ int, o [][]float32) error {
		for i, b := range o {
			for _, v := range b {
				lo[i], hi[i] = math.Min(lo[i], float64(v)), math.Max(hi[i], float64(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if opts.Method == Percentile {
		if err := percentiles(m, watch, calib, opts, lo, hi); err != nil {
			return nil, err
		}
	}
	r := make(map[string]qrange, len(watch))
	for i, w := range watch {
		r[w] = rangeOf(lo[i], hi[i], opts.Symmetric)
	}
	return r, nil
}

const bins = 2048

// percentiles narrows [lo, hi] of each tensor to the range that holds
// opts.Percentile of its negative and of its positive values, from a
// histogram over the min-max range (a second pass over the inputs).
func percentiles(m *model.Model, watch []string, calib [][][]float32, opts Options, lo, hi []float64) error {
	hist := make([][]int64, len(watch))
	for i := range hist {
		hist[i] = make([]int64, 2*bins)
	}
	err := each(m.Meta, m.Graph, watch, calib, opts.Engine, func(_ int, o [][]float32) error {
		for i, b := range o {
			h := hist[i]
			for _, v := range b {
				switch x := float64(v); {
				case x < 0:
					h[bins-1-min(bins-1, int(x/lo[i]*bins))]++
				case x > 0:
					h[bins+min(bins-1, int(x/hi[i]*bins))]++
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, h := range hist {
		neg, pos := h[:bins], h[bins:]
		if k := tail(pos, opts.Percentile); k >= 0 {
			hi[i] *= float64(k+1) / bins
		}
		slices.Reverse(neg)
		if k := tail(neg, opts.Percentile); k >= 0 {
			lo[i] *= float64(k+1) / bins
		}
	}
	return nil
}

// tail is the first bin at which the cumulative count reaches share p of
// the total (-1 for an empty histogram).
func tail(h []int64, p float64) int {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return -1
	}
	want := int64(math.Ceil(p * float64(n)))
	var acc int64
	for k, c := range h {
		if acc += c; acc >= want {
			return k
		}
	}
	return len(h) - 1
}

// compare runs q on every input and returns the mean and smallest cosine
// of its outputs to ref.
func compare(q *model.Model, ref [][]float32, calib [][][]float32, eo engine.Options) (mean, least float64, err error) {
	got, err := runAll(q, nil, calib, eo)
	if err != nil {
		return 0, 0, err
	}
	least = 1
	for i := range got {
		c := cosine(got[i], ref[i])
		mean += c
		least = math.Min(least, c)
	}
	return mean / float64(len(got)), least, nil
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		if aa == bb {
			return 1
		}
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
