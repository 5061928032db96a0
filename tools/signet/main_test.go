package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/npy"
	"github.com/signet-go/signet/model"
)

// runCLI runs one signet invocation in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// runJSON runs one signet invocation that must succeed and decodes what it
// prints, one JSON value, into a T.
func runJSON[T any](t *testing.T, args ...string) T {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	wantCode(t, code, exitOK, errs)
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("signet %s: %v; output:\n%s", args[0], err, out)
	}
	return v
}

// tinyEncoder builds a small embedding model: a 3×3 conv (3→8 channels) with
// ReLU, global average pooling, a linear layer to 6 values and L2
// normalisation; input 1×3×16×16. The conv's centre taps are colour-direction
// detectors (±R, ±G, ±B, yellow, purple) and the linear layer subtracts the
// channel mean, so images of different colours embed far apart, as a trained
// encoder's classes would.
func tinyEncoder(t *testing.T) *model.Model {
	t.Helper()
	dirs := [8][3]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, 0, 0}, {0, -1, 0}, {0, 0, -1}, {0.7, 0.7, 0}, {0.7, 0, 0.7}}
	w := make([]float32, 8*3*3*3)
	b := make([]float32, 8)
	for o, d := range dirs {
		for c := 0; c < 3; c++ {
			w[((o*3+c)*3+1)*3+1] = d[c] // centre tap of the 3×3 kernel
			// A faint off-centre tap, so the spatial part of the kernel is
			// exercised too.
			w[((o*3+c)*3+0)*3+0] = 0.05 * d[c]
		}
		b[o] = -0.3
	}
	fw := make([]float32, 6*8)
	for r := 0; r < 6; r++ {
		for o := 0; o < 8; o++ {
			fw[r*8+o] = -0.125
			if r == o {
				fw[r*8+o] += 1
			}
		}
	}
	fw[0*8+6], fw[1*8+6] = fw[0*8+6]+0.5, fw[1*8+6]+0.5
	fw[0*8+7], fw[2*8+7] = fw[0*8+7]+0.5, fw[2*8+7]+0.5
	g := model.Graph{
		Inputs:  []model.Value{{Name: "input", Shape: []int64{1, 3, 16, 16}}},
		Outputs: []model.Value{{Name: "embedding", Shape: []int64{1, 6}}},
		Nodes: []model.Node{
			{Op: model.OpConv, Name: "conv", Inputs: []string{"input", "conv.w", "conv.b"}, Outputs: []string{"c"},
				Attrs: []model.Attr{
					{Name: "kernel_shape", Kind: model.AttrInts, Ints: []int64{3, 3}},
					{Name: "pads", Kind: model.AttrInts, Ints: []int64{1, 1, 1, 1}},
				}},
			{Op: model.OpRelu, Name: "relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
			{Op: model.OpGlobalAveragePool, Name: "gap", Inputs: []string{"r"}, Outputs: []string{"p"}},
			{Op: model.OpFlatten, Name: "flat", Inputs: []string{"p"}, Outputs: []string{"f"},
				Attrs: []model.Attr{{Name: "axis", Kind: model.AttrInt, Int: 1}}},
			{Op: model.OpGemm, Name: "fc", Inputs: []string{"f", "fc.w"}, Outputs: []string{"e"},
				Attrs: []model.Attr{{Name: "transB", Kind: model.AttrInt, Int: 1}}},
			{Op: model.OpL2Normalize, Name: "norm", Inputs: []string{"e"}, Outputs: []string{"embedding"},
				Attrs: []model.Attr{
					{Name: "axis", Kind: model.AttrInt, Int: 1},
					{Name: "epsilon", Kind: model.AttrFloat, Float: 1e-12},
				}},
		},
		Initializers: []model.Tensor{
			model.NewFloat32Tensor("conv.w", []int64{8, 3, 3, 3}, w),
			model.NewFloat32Tensor("conv.b", []int64{8}, b),
			model.NewFloat32Tensor("fc.w", []int64{6, 8}, fw),
		},
	}
	m, err := model.New(model.Metadata{
		Name: "tiny", InputLayout: "NCHW", ChannelOrder: "RGB",
		Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25},
		OutputName: "embedding", OutputSize: 6, L2Normalized: true,
	}, g)
	must(t, err)
	return m
}

// fixture writes the tiny model, two images, a batch-2 tensor and some bad
// inputs into a temporary directory.
type fixture struct {
	dir, model, imgA, imgB, batch, wrongShape, text string
	batchData                                       []float32
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir}
	f.model = filepath.Join(dir, "tiny.sgn")
	must(t, model.WriteFile(f.model, tinyEncoder(t)))
	f.imgA = writePNG(t, dir, "a.png", 20, 12, 0)
	f.imgB = writePNG(t, dir, "b.png", 16, 16, 90)
	f.batchData = make([]float32, 2*3*16*16)
	for i := range f.batchData {
		f.batchData[i] = float32(math.Sin(float64(i) * 0.01))
	}
	f.batch = filepath.Join(dir, "batch.npy")
	must(t, npy.WriteFile(f.batch, []int{2, 3, 16, 16}, f.batchData))
	f.wrongShape = filepath.Join(dir, "wrong.npy")
	must(t, npy.WriteFile(f.wrongShape, []int{1, 3, 8, 8}, make([]float32, 3*8*8)))
	f.text = filepath.Join(dir, "notes.txt")
	must(t, os.WriteFile(f.text, []byte("not an image\n"), 0o644))
	return f
}

func writePNG(t *testing.T, dir, name string, w, h int, phase int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x*13 + phase), uint8(y*7 + 2*phase), uint8((x + y + phase) * 5), 255})
		}
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

func decodeLines[T any](t *testing.T, s string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

func TestUsage(t *testing.T) {
	code, out, errs := runCLI(t, "help")
	wantCode(t, code, exitOK, errs)
	for _, c := range commands {
		wantContains(t, out, c.name)
	}

	code, _, errs = runCLI(t)
	wantCode(t, code, exitUsage, errs)
	wantContains(t, errs, "Usage:")

	code, _, errs = runCLI(t, "frobnicate")
	wantCode(t, code, exitUsage, errs)
	wantContains(t, errs, `unknown command "frobnicate"`)

	for _, c := range commands {
		if c.run == nil {
			continue
		}
		code, _, errs = runCLI(t, c.name, "-h")
		wantCode(t, code, exitOK, errs)
		if n := strings.Count(errs, "Usage: signet "+c.name); n != 1 {
			t.Errorf("%s -h printed the usage %d times:\n%s", c.name, n, errs)
		}
		code, _, errs = runCLI(t, "help", c.name)
		wantCode(t, code, exitOK, errs)
		wantContains(t, errs, "Usage: signet "+c.name)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"embed", "x.png"}, "-model is required"},
		{[]string{"embed", "-model", "m.sgn", "-nosuchflag", "x.png"}, "nosuchflag"},
		{[]string{"embed", "-model", "m.sgn"}, "no input files"},
		{[]string{"help", "frobnicate"}, "unknown command"},
	} {
		code, _, errs = runCLI(t, c.args...)
		wantCode(t, code, exitUsage, errs)
		wantContains(t, errs, c.want)
	}
}

func TestEmbedJSON(t *testing.T) {
	f := newFixture(t)
	// Flags after the inputs are accepted too.
	code, out, errs := runCLI(t, "embed", "-model", f.model, f.imgA, f.batch, f.imgB, "-json")
	wantCode(t, code, exitOK, errs)
	recs := decodeLines[map[string]any](t, out)
	if len(recs) != 4 {
		t.Fatalf("%d JSON records, want 4:\n%s", len(recs), out)
	}
	wantFiles := []string{f.imgA, f.batch, f.batch, f.imgB}
	for i, r := range recs {
		wantEqual(t, r["file"], wantFiles[i], "file")
		wantEqual(t, r["shape"], []any{1.0, 6.0}, "shape")
		vals, _ := r["output"].([]any)
		if len(vals) != 6 {
			t.Fatalf("record %d: output has %d values, want 6", i, len(vals))
		}
		var n float64
		for _, v := range vals {
			n += v.(float64) * v.(float64)
		}
		if math.Abs(math.Sqrt(n)-1) > 1e-5 {
			t.Errorf("record %d: norm %v, want 1 (the model L2-normalises its output)", i, math.Sqrt(n))
		}
	}
	if _, ok := recs[0]["index"]; ok {
		t.Error("an image record carries a sample index")
	}
	wantEqual(t, recs[1]["index"], 0.0, "index of the first sample")
	wantEqual(t, recs[2]["index"], 1.0, "index of the second sample")
	if reflect.DeepEqual(recs[0]["output"], recs[3]["output"]) {
		t.Error("two different images embed identically")
	}

	// The tensor path must give exactly what the engine gives.
	eng, err := engine.Load(f.model, engine.Options{})
	must(t, err)
	defer eng.Close()
	sess := eng.NewSession()
	defer sess.Close()
	typed := decodeLines[embedRecord](t, out)
	per := 3 * 16 * 16
	for s := 0; s < 2; s++ {
		want, err := sess.Run(f.batchData[s*per : (s+1)*per])
		must(t, err)
		wantEqual(t, typed[1+s].Output, want, "output of sample "+strconv.Itoa(s))
	}
}

func TestEmbedHuman(t *testing.T) {
	f := newFixture(t)
	img, err := loadImage(f.imgB)
	must(t, err)
	var jb bytes.Buffer
	must(t, jpeg.Encode(&jb, img, &jpeg.Options{Quality: 95}))
	jpg := filepath.Join(f.dir, "b.jpg")
	must(t, os.WriteFile(jpg, jb.Bytes(), 0o644))

	code, out, errs := runCLI(t, "embed", "-model", f.model, f.imgA, f.batch, jpg)
	wantCode(t, code, exitOK, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 { // header, one image, two samples, the JPEG
		t.Fatalf("%d lines, want 5:\n%s", len(lines), out)
	}
	wantContains(t, lines[4], "b.jpg")
	wantContains(t, lines[0], "NORM")
	wantContains(t, lines[1], "a.png")
	wantContains(t, lines[1], "[1 6]")
	wantContains(t, lines[1], "1.0000")
	wantContains(t, lines[3], "batch.npy[1]")
}

func TestEmbedBadInputs(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, input, want string
	}{
		{"missing", filepath.Join(f.dir, "nope.png"), "no such file"},
		{"not an image", f.text, "not a PNG or JPEG image"},
		{"wrong shape", f.wrongShape, "does not match the model input"},
		{"directory", f.dir, "is a directory"},
		{"truncated png", truncated(t, f.imgA), "cannot decode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "embed", "-json", "-model", f.model, f.imgB, c.input)
			wantCode(t, code, exitRuntime, errs)
			wantContains(t, errs, c.want)
			wantContains(t, errs, "1 of 2 inputs failed")
			if n := len(decodeLines[embedRecord](t, out)); n != 1 {
				t.Errorf("%d records, want the good input's one", n)
			}
		})
	}

	code, _, errs := runCLI(t, "embed", "-model", filepath.Join(f.dir, "missing.sgn"), f.imgA)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "missing.sgn")

	code, _, errs = runCLI(t, "embed", "-model", f.text, f.imgA)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "signet embed:")
}

func truncated(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	out := path + ".truncated.png"
	must(t, os.WriteFile(out, b[:len(b)/2], 0o644))
	return out
}

func TestBenchJSON(t *testing.T) {
	f := newFixture(t)
	r := runJSON[benchReport](t, "bench", "-model", f.model, "-n", "20", "-warmup", "2", "-json")
	wantEqual(t, r.Runs, 20, "runs")
	wantEqual(t, r.Threads, 1, "threads")
	if !(r.MinMS > 0 && r.MinMS <= r.MedianMS && r.MedianMS <= r.P90MS && r.P90MS <= r.P99MS) {
		t.Errorf("latencies not ordered: min %v median %v p90 %v p99 %v", r.MinMS, r.MedianMS, r.P90MS, r.P99MS)
	}
	if !(r.LoadMS > 0 && r.StartupMS > r.LoadMS) {
		t.Errorf("load %v ms, start-up %v ms", r.LoadMS, r.StartupMS)
	}
	if r.GFLOP <= 0 || len(r.Fingerprint) != 64 {
		t.Errorf("gflop %v, fingerprint %q", r.GFLOP, r.Fingerprint)
	}
	// Zero allocations per inference is the engine's contract; the bench
	// command is how a user checks it, so check the number it reports.
	wantEqual(t, r.AllocsPerRun, 0.0, "allocations per inference")
	ops := map[string]bool{}
	for _, l := range r.Layers {
		ops[l.Op] = true
		if l.Kernel == "" {
			t.Errorf("layer %s has no kernel name", l.Name)
		}
	}
	if !ops["Conv"] {
		t.Errorf("no Conv layer reported: %+v", r.Layers)
	}
	if r.Layers[0].MedianUS != nil {
		t.Error("per-layer times without -layers")
	}
}

func TestBenchLayers(t *testing.T) {
	f := newFixture(t)
	r := runJSON[benchReport](t, "bench", "-model", f.model, "-n", "10", "-warmup", "1", "-layers", "-json")
	var share float64
	for _, l := range r.Layers {
		if l.MedianUS == nil || l.Share == nil || *l.MedianUS < 0 || l.Bytes <= 0 {
			t.Fatalf("layer %s: median %v share %v bytes %d", l.Name, l.MedianUS, l.Share, l.Bytes)
		}
		share += *l.Share
	}
	if math.Abs(share-1) > 1e-9 {
		t.Errorf("shares sum to %v", share)
	}
	code, out, errs := runCLI(t, "bench", "-model", f.model, "-n", "5", "-warmup", "0", "-layers")
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "MEDIAN µs")
	wantContains(t, out, "GB/s")
}

func TestBenchTier(t *testing.T) {
	f := newFixture(t)
	r := runJSON[benchReport](t, "bench", "-model", f.model, "-n", "3", "-tier", "generic", "-json")
	wantEqual(t, r.RequestedTier, "generic", "requested tier")
	for _, l := range r.Layers {
		wantEqual(t, l.Tier, "generic", "tier of layer "+l.Name)
	}

	code, out, errs := runCLI(t, "bench", "-model", f.model, "-n", "3")
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "median")
	wantContains(t, out, "allocations")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-tier", "sse9"}, "unknown tier"},
		{[]string{"-n", "0"}, "-n must be at least 1"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		code, _, errs = runCLI(t, append([]string{"bench", "-model", f.model}, c.args...)...)
		wantCode(t, code, exitUsage, errs)
		wantContains(t, errs, c.want)
	}
}
