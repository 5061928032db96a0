package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/imagedec"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/quant"
)

// quantFlags are the flags of post-training quantisation.
type quantFlags struct {
	mode     *string
	calib    *string
	n        *int
	method   *string
	pct      *float64
	sym      *bool
	keep     *string
	bound    *float64
	maxBytes int64
}

func addQuantFlags(fs *flag.FlagSet) *quantFlags {
	return &quantFlags{
		mode:     fs.String("quantize", "", "quantise the model: int8 (needs -calib)"),
		calib:    fs.String("calib", "", "folder of calibration images (PNG or JPEG, searched recursively), preprocessed as at inference"),
		n:        fs.Int("calib-n", 64, "calibration images to use, spread evenly over the folder's sorted file list"),
		method:   fs.String("calib-method", "minmax", "activation ranges: minmax or percentile"),
		pct:      fs.Float64("calib-percentile", 0.9999, "share of values a percentile range keeps"),
		sym:      fs.Bool("calib-symmetric", false, "symmetric activations (zero point 0) instead of asymmetric"),
		keep:     fs.String("keep-fp32", "", "comma-separated layer names (node or output names) kept in float32"),
		bound:    fs.Float64("max-layer-error", quant.DefaultMaxLayerError, "a layer stays float32 when quantising it alone costs more than this (1 - mean output cosine); negative: no bound"),
		maxBytes: 64 << 20,
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
	calib, err := q.load(m)
	if err != nil {
		return nil, err
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

// load reads and preprocesses the calibration images.
func (q *quantFlags) load(m *model.Model) ([][][]float32, error) {
	var files []string
	err := filepath.WalkDir(*q.calib, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".png", ".jpg", ".jpeg":
			if d.Type().IsRegular() {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("-calib: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("-calib %s: no PNG or JPEG files", *q.calib)
	}
	slices.Sort(files)
	if len(m.Graph.Inputs) != 1 {
		return nil, fmt.Errorf("-calib: the model has %d inputs; calibration from images needs one", len(m.Graph.Inputs))
	}
	e, err := engine.New(m, engine.Options{})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	s := e.NewSession()
	defer s.Close()
	size := 1
	for _, d := range e.InputShapes()[0] {
		size *= d
	}
	n := min(*q.n, len(files))
	calib := make([][][]float32, 0, n)
	for i := range n {
		p := files[i*len(files)/n]
		img, err := readImage(p, q.maxBytes)
		if err != nil {
			return nil, fmt.Errorf("-calib: %w", err)
		}
		x := make([]float32, size)
		if err := s.Preprocess(img, x); err != nil {
			return nil, fmt.Errorf("-calib: %s: %w", p, err)
		}
		calib = append(calib, [][]float32{x})
	}
	return calib, nil
}

func readImage(p string, maxBytes int64) (image.Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if st.Size() > maxBytes {
		return nil, fmt.Errorf("%s: %d bytes, limit %d", p, st.Size(), maxBytes)
	}
	img, err := imagedec.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return img, nil
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
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", clean(l.Node), l.Op, l.Params, kept, e, l.Reason)
	}
	tw.Flush()
	fmt.Fprintf(w, "  int8 weights: %d of %d (%.1f%%); output cosine to float32 over %d inputs: mean %.6f, min %.6f\n",
		rep.Int8Params, rep.AllParams, 100*float64(rep.Int8Params)/float64(max(1, rep.AllParams)), rep.Images, rep.Cosine, rep.MinCosine)
}

// clean keeps a name from the model file printable: nothing from an
// untrusted file reaches the terminal raw.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return '?'
		}
		return r
	}, s)
}
