package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/dataset"
	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/quant"
)

// maxImpostorImages bounds the background -impostors reads: 20,000 images
// of a few hundred designs give millions of impostor scores, enough to
// resolve a false-accept rate of 0.0001, within the 8 Mi scores
// gallery.MeasureEncoderCalibration accepts.
const maxImpostorImages = 20000

// impostorFlags are the flags of the encoder's impostor calibration.
type impostorFlags struct {
	dir        *string
	shots      *int
	mirrorLoss *float64
	fs         *flag.FlagSet
}

func addImpostorFlags(fs *flag.FlagSet) *impostorFlags {
	return &impostorFlags{
		fs: fs,
		dir: fs.String("impostors", "", "folder of class folders of sign designs no gallery will enrol (PNG or JPEG): "+
			"measure the encoder's impostor calibration with the model written and store it in its metadata"),
		shots: fs.Int("impostor-shots", 3, "exemplars per background prototype in the impostor calibration"),
		mirrorLoss: fs.Float64("mirror-loss", 0.01, "with -impostors, also measure the chirality check's margin so that at most this share "+
			"of genuine background queries is turned away as a mirror image (0: no mirror check)"),
	}
}

func (f *impostorFlags) on() bool { return *f.dir != "" }

// mirrorLossSet reports whether -mirror-loss was given on the command line.
func (f *impostorFlags) mirrorLossSet() bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "mirror-loss" })
	return set
}

// impostorSet is the background, listed and checked before the conversion
// so a bad folder fails fast.
type impostorSet struct {
	classes []string   // class folder names, sorted
	files   [][]string // image paths per class
	skipped int        // class folders with fewer than shots images
	images  int
}

// list reads DIR/<class>/<image>: the top level holds only folders, a class
// folder only images (other files are skipped, hidden entries ignored).
func (f *impostorFlags) list() (*impostorSet, error) {
	if *f.shots < 1 {
		return nil, fmt.Errorf("-impostor-shots %d: need at least 1", *f.shots)
	}
	if !(*f.mirrorLoss >= 0 && *f.mirrorLoss < 1) {
		return nil, fmt.Errorf("-mirror-loss %v: want 0 (off) or a share in (0,1)", *f.mirrorLoss)
	}
	dir := *f.dir
	classes, err := dataset.Classes(dir, "background class")
	if err != nil {
		return nil, err
	}
	set := &impostorSet{}
	for _, c := range classes {
		files := imageFiles(c.Files)
		if len(files) < *f.shots {
			set.skipped++
			continue
		}
		set.images += len(files)
		if set.images > maxImpostorImages {
			return nil, fmt.Errorf("%s: more than %d images; use a smaller background", dir, maxImpostorImages)
		}
		set.classes = append(set.classes, c.Label)
		set.files = append(set.files, files)
	}
	if len(set.classes) < 2 {
		return nil, fmt.Errorf("%s: %d class folders with at least %d images (-impostor-shots), need at least 2", dir, len(set.classes), *f.shots)
	}
	return set, nil
}

// imageFiles keeps the PNG and JPEG files of a class folder's listing.
func imageFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		switch strings.ToLower(filepath.Ext(p)) {
		case ".png", ".jpg", ".jpeg":
			out = append(out, p)
		}
	}
	return out
}

// calibrate measures the impostor calibration of m exactly as written
// (encoded and decoded again, so an int8 model is measured in int8) and
// returns m with it in Extra[gallery.EncoderCalibrationKey]. It prints the
// counts and the table to w.
func (f *impostorFlags) calibrate(m *model.Model, set *impostorSet, w io.Writer) (*model.Model, error) {
	data, err := model.Encode(m)
	if err != nil {
		return nil, err
	}
	written, err := model.Decode(data)
	if err != nil {
		return nil, err
	}
	emb, mirrored, err := embedAll(written, set, *f.mirrorLoss > 0)
	if err != nil {
		return nil, err
	}
	source := fmt.Sprintf("%d designs, %d images from folder %s", len(set.classes), set.images, cleanName(filepath.Base(filepath.Clean(*f.dir))))
	cal, err := gallery.MeasureEncoderCalibration(emb, *f.shots, source)
	if err != nil {
		return nil, err
	}
	var mirrorSkipped error
	if mirrored != nil {
		if err := cal.MeasureMirror(emb, mirrored, *f.mirrorLoss); err != nil {
			if f.mirrorLossSet() {
				return nil, fmt.Errorf("mirror margin: %w", err)
			}
			// The default asked for it, the background cannot give it:
			// the model ships without the check, and says so below.
			cal.Mirror, mirrorSkipped = nil, err
		}
	}
	js, err := cal.Encode()
	if err != nil {
		return nil, err
	}
	meta := m.Meta
	meta.Extra = maps.Clone(m.Meta.Extra)
	if meta.Extra == nil {
		meta.Extra = map[string]string{}
	}
	meta.Extra[gallery.EncoderCalibrationKey] = js
	out, err := model.New(meta, m.Graph)
	if err != nil {
		return nil, err
	}
	if out.Fingerprint() != written.Fingerprint() {
		// Metadata outside the fingerprint cannot change what the model
		// computes; a difference here would mean the calibration was
		// measured on another model.
		return nil, errors.New("fingerprint changed while storing the calibration")
	}
	fmt.Fprintf(w, "impostor calibration: %d background classes, %d images, %d shots per prototype, %d impostor scores",
		cal.Classes, cal.Embeddings, cal.Shots, cal.Scores)
	if set.skipped > 0 {
		fmt.Fprintf(w, " (%d class folders with fewer than %d images skipped)", set.skipped, cal.Shots)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FAR per class\tthreshold")
	for _, p := range cal.Points {
		fmt.Fprintf(tw, "  %g\t%.4f\n", p.FAR, p.Threshold)
	}
	tw.Flush()
	switch mc := cal.Mirror; {
	case mc != nil:
		fmt.Fprintf(w, "mirror check: margin %.4f (at most %g of %d genuine background queries turned away as mirror images)\n", mc.Margin, mc.KnownLoss, mc.Queries)
	case mirrorSkipped != nil:
		fmt.Fprintf(w, "mirror check: not stored (%v): give more images per class or -mirror-loss 0\n", mirrorSkipped)
	}
	return out, nil
}

// embedAll embeds every background image as enrolment does (the bounded
// decoder, then gallery.EngineEncoder), one single-threaded session per
// worker so the result does not depend on the worker count; with mirror,
// each image mirrored too (nil otherwise).
func embedAll(m *model.Model, set *impostorSet, mirror bool) (emb, mirrored [][][]float32, err error) {
	e, err := engine.New(m, engine.Options{Threads: 1})
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	type job struct{ c, i int }
	jobs := make(chan job)
	out := make([][][]float32, len(set.files))
	var mir [][][]float32
	if mirror {
		mir = make([][][]float32, len(set.files))
	}
	for c, fs := range set.files {
		out[c] = make([][]float32, len(fs))
		if mirror {
			mir[c] = make([][]float32, len(fs))
		}
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	for range workers {
		enc, err := gallery.NewEngineEncoder(e)
		if err != nil {
			close(jobs)
			wg.Wait()
			return nil, nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer enc.Close()
			for j := range jobs {
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				if stop {
					continue // drain: one named failure is enough
				}
				p := set.files[j.c][j.i]
				img, err := quant.LoadImage(p)
				if err == nil {
					out[j.c][j.i], err = enc.Embed(img)
				}
				if err == nil && mirror {
					mir[j.c][j.i], err = enc.EmbedMirrored(img)
				}
				if err != nil {
					fail(fmt.Errorf("%s: %w", p, err))
				}
			}
		}()
	}
	for c, fs := range set.files {
		for i := range fs {
			jobs <- job{c, i}
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return nil, nil, first
	}
	return out, mir, nil
}

// cleanName keeps a folder name printable for the calibration's Source
// (textsafe's escapes) and short.
func cleanName(s string) string {
	s = textsafe.Escape(s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}
