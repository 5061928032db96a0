package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/quant"
)

// quantFlags are the flags of post-training quantisation.
type quantFlags struct {
	mode   *string
	calib  *string
	n      *int
	method *string
	pct    *float64
	sym    *bool
	keep   *string
	bound  *float64
}

func addQuantFlags(fs *flag.FlagSet) *quantFlags {
	return &quantFlags{
		mode:   fs.String("quantize", "", "quantise the model: int8 (needs -calib)"),
		calib:  fs.String("calib", "", "folder of calibration images (PNG or JPEG, searched recursively), preprocessed as at inference"),
		n:      fs.Int("calib-n", 64, "calibration images to use, spread evenly over the folder's sorted file list"),
		method: fs.String("calib-method", "minmax", "activation ranges: minmax or percentile"),
		pct:    fs.Float64("calib-percentile", 0.9999, "share of values a percentile range keeps"),
		sym:    fs.Bool("calib-symmetric", false, "symmetric activations (zero point 0) instead of asymmetric"),
		keep:   fs.String("keep-fp32", "", "comma-separated layer names (node or output names) kept in float32"),
		bound:  fs.Float64("max-layer-error", quant.DefaultMaxLayerError, "a layer stays float32 when quantising it alone costs more than this (1 - mean output cosine); negative: no bound"),
	}
}

func (q *quantFlags) on() bool { return *q.mode != "" }

func (q *quantFlags) check() error {
	switch {
	case *q.mode == "":
		if *q.calib != "" {
			return errors.New("-calib needs -quantize int8")
		}
		return nil
	case *q.mode != "int8":
		return fmt.Errorf("-quantize %q: only int8 is supported", *q.mode)
	case *q.calib == "":
		return errors.New("-quantize int8 needs -calib DIR")
	case *q.n < 1:
		return fmt.Errorf("-calib-n %d: need at least 1", *q.n)
	}
	return nil
}

// quantize quantises m with the calibration images and prints the per-layer
// table to w.
func (q *quantFlags) quantize(m *model.Model, w io.Writer) (*model.Model, error) {
	calib, err := quant.Images(m, *q.calib, *q.n)
	if err != nil {
		return nil, fmt.Errorf("-calib: %w", err)
	}
	opts := quant.Options{
		Method:        quant.Method(*q.method),
		Percentile:    *q.pct,
		Symmetric:     *q.sym,
		MaxLayerError: *q.bound,
	}
	if *q.bound == 0 {
		opts.MaxLayerError = math.SmallestNonzeroFloat64 // 0 in Options is "the default"; here it means no cost at all
	}
	if *q.keep != "" {
		opts.KeepFP32 = strings.Split(*q.keep, ",")
	}
	out, rep, err := quant.Quantize(m, calib, opts)
	if err != nil {
		return nil, err
	}
	printQuantReport(w, rep)
	return out, nil
}

func printQuantReport(w io.Writer, rep *quant.Report) {
	fmt.Fprintf(w, "quantisation: %s\n", rep.Scheme)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  layer\top\tparams\tkept\terror\twhy")
	for _, l := range rep.Layers {
		kept, e := "fp32", "-"
		if l.Int8 {
			kept = "int8"
		}
		if !math.IsNaN(l.Error) {
			e = fmt.Sprintf("%.2e", l.Error)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", textsafe.Cell(l.Node), l.Op, l.Params, kept, e, l.Reason)
	}
	tw.Flush()
	fmt.Fprintf(w, "  int8 weights: %d of %d (%.1f%%); output cosine to float32 over %d inputs: mean %.6f, min %.6f\n",
		rep.Int8Params, rep.AllParams, 100*float64(rep.Int8Params)/float64(max(1, rep.AllParams)), rep.Images, rep.Cosine, rep.MinCosine)
}
