package main

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/textsafe"
)

// embedRecord is the JSON form of one embedding: one per image, one per
// sample of a batched tensor (Index set).
type embedRecord struct {
	File   string    `json:"file"`
	Index  *int      `json:"index,omitempty"`
	Shape  []int     `json:"shape"`
	Output []float32 `json:"output"`
}

func cmdEmbed(e *env, args []string) error {
	fs := newFlagSet(e, "embed")
	modelPath := fs.String("model", "", "model file (.sgn), required")
	asJSON := fs.Bool("json", false, "print one JSON object per line: {file, index, shape, output}")
	threads := fs.Int("threads", 1, "threads per inference")
	first := fs.Int("values", 8, "number of leading output values in the human-readable output")
	files, err := parseFiles(fs, args, "no input files", "model")
	if err != nil {
		return err
	}
	if *threads < 1 {
		return usagef("-threads must be at least 1")
	}
	eng, err := engine.Load(*modelPath, engine.Options{Threads: *threads})
	if err != nil {
		return err
	}
	defer eng.Close()
	inShapes := eng.InputShapes()
	if len(inShapes) != 1 {
		return fmt.Errorf("%s: model has %d inputs; embed feeds single-input models", *modelPath, len(inShapes))
	}
	outShape := eng.OutputShapes()[0]
	sess := eng.NewSession()
	defer sess.Close()

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	if !*asJSON {
		fmt.Fprintln(tw, "FILE\tSHAPE\tNORM\tFIRST VALUES")
	}
	emit := func(file string, index *int, out []float32) error {
		if *asJSON {
			return printJSONLine(e.stdout, embedRecord{File: file, Index: index, Shape: outShape, Output: out})
		}
		name := textsafe.Cell(file)
		if index != nil {
			name = fmt.Sprintf("%s[%d]", file, *index)
		}
		_, err := fmt.Fprintf(tw, "%s\t%s\t%.4f\t%s\n", name, fmtShape(outShape), l2norm(out), fmtValues(out, *first))
		return err
	}

	prog := newProgress(e.stderr, "embed", len(files))
	defer prog.Done()
	failed := 0
	for _, file := range files {
		if err := embedFile(sess, inShapes[0], file, emit); err != nil {
			prog.Done()
			fmt.Fprintf(e.stderr, "signet embed: %s\n", textsafe.Escape(err.Error()))
			failed++
		}
		prog.Add(1)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d inputs failed", failed, len(files))
	}
	return nil
}

func embedFile(sess *engine.Session, inShape []int, file string, emit func(string, *int, []float32) error) error {
	in, err := readInput(file)
	if err != nil {
		return err
	}
	if !in.isTensor() {
		out, err := sess.Embed(in.img)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return emit(file, nil, out)
	}
	n, err := splitBatch(in.shape, inShape)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	per := product(inShape)
	for i := 0; i < n; i++ {
		out, err := sess.Run(in.data[i*per : (i+1)*per])
		if err != nil {
			return fmt.Errorf("%s: sample %d: %w", file, i, err)
		}
		idx := i
		if err := emit(file, &idx, out); err != nil {
			return err
		}
	}
	return nil
}

func l2norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func fmtValues(v []float32, n int) string {
	var b strings.Builder
	for i, x := range v {
		if i == n {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4f", x)
	}
	return b.String()
}
