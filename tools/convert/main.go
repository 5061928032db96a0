// Command convert converts an ONNX model into a signet model file.
//
//	go run ./tools/convert -o OUT.sgn [-name N] [-mean 0.485,0.456,0.406] \
//	    [-std 0.229,0.224,0.225] [-channels RGB|BGR] [-input-shape 1,3,64,64] \
//	    [-quantize int8 -calib DIR [-calib-n 64] [-calib-method minmax|percentile] \
//	    [-keep-fp32 NAMES] [-max-layer-error 1e-4]] \
//	    [-impostors DIR [-impostor-shots 3] [-mirror-loss 0.01]] IN.onnx
//
// With -quantize int8 it quantises the converted model after the
// conversion (package quant: post-training static quantisation, int8
// weights per output channel and int8 activations per tensor in ONNX's QDQ
// form) from the images under -calib, and prints a per-layer table: int8 or
// float32, the cost of the layer alone in int8, why it stays float32.
//
// With -impostors it measures the encoder's impostor calibration with the
// model as written (after quantisation, when asked): every image under
// DIR/<class>/ (at most 20,000) is embedded as enrolment embeds it, each
// class's prototype is the mean of its first -impostor-shots embeddings, and
// the thresholds at false-accept rates 0.1 … 0.0001 per class that the
// scores of every other class resolve are stored in the model's metadata
// (gallery.EncoderCalibrationKey), where `signet enroll` finds the default
// threshold of a new gallery. The classes must be designs no gallery will
// enrol. It prints the counts and the table. It also embeds each image
// mirrored left to right and stores the chirality check's margin
// (gallery.MirrorCalibration): a query whose mirror image matches the
// accepted class better than the query does, by more than the margin, is
// that class's mirrored twin; the margin turns away at most -mirror-loss
// of the genuine background queries (every image after a class's first
// -impostor-shots). `signet classify` applies it.
//
// It prints what the conversion did (operators before and after the graph
// passes, tensors, bytes written, the model fingerprint) and exits with
// status 1 and a one-line error when the model cannot be converted exactly.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "convert:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	out := fs.String("o", "", "output `file` (.sgn); required")
	name := fs.String("name", "", "model name (default: input file name without extension)")
	mean := fs.String("mean", "", "per-channel mean after scaling pixels to [0,1], e.g. 0.485,0.456,0.406")
	std := fs.String("std", "", "per-channel standard deviation, e.g. 0.229,0.224,0.225")
	channels := fs.String("channels", "RGB", "channel order the model expects: RGB or BGR")
	shape := fs.String("input-shape", "", "shape of the first input, filling its dynamic dimensions, e.g. 1,3,64,64")
	qf := addQuantFlags(fs)
	imp := addImpostorFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convert -o OUT.sgn [flags] IN.onnx")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("need exactly one input file and -o")
	}
	in := fs.Arg(0)
	if err := qf.check(); err != nil {
		return err
	}
	var impostors *impostorSet
	if imp.on() {
		var err error
		if impostors, err = imp.list(); err != nil {
			return fmt.Errorf("-impostors: %w", err)
		}
	}
	opts := onnx.Options{Name: *name, ChannelOrder: strings.ToUpper(*channels)}
	if opts.Name == "" {
		opts.Name = onnx.DefaultName(in)
	}
	var err error
	if opts.Mean, err = parseFloats(*mean); err != nil {
		return fmt.Errorf("-mean: %w", err)
	}
	if opts.Std, err = parseFloats(*std); err != nil {
		return fmt.Errorf("-std: %w", err)
	}
	if opts.InputShape, err = parseInts(*shape); err != nil {
		return fmt.Errorf("-input-shape: %w", err)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	m, rep, err := onnx.ConvertReport(data, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if qf.on() {
		if m, err = qf.quantize(m, stdout); err != nil {
			return fmt.Errorf("%s: -quantize: %w", in, err)
		}
	}
	if impostors != nil {
		if m, err = imp.calibrate(m, impostors, stdout); err != nil {
			return fmt.Errorf("%s: -impostors: %w", in, err)
		}
	}
	if err := model.WriteFile(*out, m); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	var params int64
	for i := range m.Graph.Initializers {
		params += m.Graph.Initializers[i].NumElements()
	}
	fmt.Fprintf(stdout, "%s → %s (%s, opset %d", in, *out, m.Meta.Name, rep.Opset)
	if rep.Producer != "" {
		fmt.Fprintf(stdout, ", from %s", rep.Producer)
	}
	fmt.Fprintln(stdout, ")")
	fmt.Fprintf(stdout, "  ops before: %3d  %s\n", rep.SourceNodes, opCounts(rep.OpsBefore))
	fmt.Fprintf(stdout, "  ops after:  %3d  %s\n", rep.Nodes, opCounts(rep.OpsAfter))
	fmt.Fprintf(stdout, "  passes: %d folded, %d BatchNorm folded, %d activations fused, %d SiLU, %d L2Normalize, %d GELU, %d LayerNorm, %d Pad folded, %d removed, %d dead\n",
		rep.Folded, rep.BatchNormFolded, rep.ActivationFused, rep.SiLU, rep.L2Normalize, rep.GELU, rep.LayerNorm, rep.PadFolded, rep.Removed, rep.Dead)
	for _, v := range m.Graph.Inputs {
		fmt.Fprintf(stdout, "  input  %s %v\n", v.Name, v.Shape)
	}
	for _, v := range m.Graph.Outputs {
		fmt.Fprintf(stdout, "  output %s %v\n", v.Name, v.Shape)
	}
	fmt.Fprintf(stdout, "  embedding: %s, %d values, L2-normalised: %v\n", m.Meta.OutputName, m.Meta.OutputSize, m.Meta.L2Normalized)
	fmt.Fprintf(stdout, "  tensors: %d (%d parameters), file: %d bytes\n", len(m.Graph.Initializers), params, st.Size())
	fmt.Fprintf(stdout, "  fingerprint: %s\n", m.FingerprintHex())
	return nil
}

func opCounts(m map[string]int) string {
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	for i, op := range ops {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s×%d", op, m[op])
	}
	return b.String()
}

func parseFloats(s string) ([]float32, error) {
	if s == "" {
		return nil, nil
	}
	var out []float32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil {
			return nil, err
		}
		out = append(out, float32(v))
	}
	return out, nil
}

func parseInts(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
