package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-go/signet/model"
)

// classColours are the base colours of the synthetic dataset: each class is
// a colour, each image that colour with a different gradient on top, so the
// tiny encoder separates classes while images of a class still differ.
var classColours = map[string][3]float64{
	"red":    {220, 40, 30},
	"blue":   {30, 60, 210},
	"green":  {40, 190, 60},
	"yellow": {230, 210, 40},
	"purple": {140, 40, 170},
}

// writeDataset writes n images per class under dir/<class>/.
func writeDataset(t *testing.T, dir string, n int, classes ...string) {
	t.Helper()
	for _, c := range classes {
		base := classColours[c]
		cdir := filepath.Join(dir, c)
		must(t, os.MkdirAll(cdir, 0o755))
		for i := 0; i < n; i++ {
			img := image.NewRGBA(image.Rect(0, 0, 16, 16))
			for y := 0; y < 16; y++ {
				for x := 0; x < 16; x++ {
					var px [3]uint8
					for ch := range px {
						v := base[ch] + 12*math.Sin(float64(x*(i+1)+y*(ch+2))*0.3)
						px[ch] = uint8(math.Max(0, math.Min(255, v)))
					}
					img.Set(x, y, color.RGBA{px[0], px[1], px[2], 255})
				}
			}
			var b bytes.Buffer
			must(t, png.Encode(&b, img))
			must(t, os.WriteFile(filepath.Join(cdir, fmt.Sprintf("%02d.png", i)), b.Bytes(), 0o644))
		}
	}
}

// otherEncoder is the tiny encoder with different weights: a model update.
func otherEncoder(t *testing.T) *model.Model {
	t.Helper()
	m := tinyEncoder(t)
	g := m.Graph
	w, _ := m.Initializer("fc.w")
	v := w.Float32s()
	for i := range v {
		v[i] = -v[i] + 0.1*float32(i%5)
	}
	for i := range g.Initializers {
		if g.Initializers[i].Name == "fc.w" {
			g.Initializers[i] = model.NewFloat32Tensor("fc.w", w.Shape, v)
		}
	}
	m2, err := model.New(m.Meta, g)
	must(t, err)
	return m2
}

type galleryFixture struct {
	dir, model, model2, gal, data string
}

func newGalleryFixture(t *testing.T) *galleryFixture {
	t.Helper()
	dir := t.TempDir()
	f := &galleryFixture{dir: dir, model: filepath.Join(dir, "tiny.sgn"), model2: filepath.Join(dir, "tiny2.sgn"),
		gal: filepath.Join(dir, "signs.gal"), data: filepath.Join(dir, "data")}
	must(t, model.WriteFile(f.model, tinyEncoder(t)))
	must(t, model.WriteFile(f.model2, otherEncoder(t)))
	writeDataset(t, f.data, 6, "red", "blue", "green", "yellow", "purple")
	return f
}

// enrolRed enrols the red class from its whole folder: the gallery most
// tests start from.
func (f *galleryFixture) enrolRed(t *testing.T) {
	t.Helper()
	code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "red", filepath.Join(f.data, "red"))
	wantCode(t, code, exitOK, errs)
}

func (f *galleryFixture) img(class string, i int) string {
	return filepath.Join(f.data, class, fmt.Sprintf("%02d.png", i))
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}

func listLabels(t *testing.T, f *galleryFixture) []string {
	t.Helper()
	l := runJSON[listResult](t, "list", "-gallery", f.gal, "-json")
	labels := []string{}
	for _, c := range l.Classes {
		labels = append(labels, c.Label)
	}
	return labels
}

func TestGalleryWorkflow(t *testing.T) {
	f := newGalleryFixture(t)

	// enroll creates the gallery.
	er := runJSON[enrollResult](t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "red", "-json",
		f.img("red", 0), f.img("red", 1), f.img("red", 2), f.img("red", 3), f.img("red", 4))
	if !er.Created || !er.Committed || er.ClassID != 1 || er.Report == nil || er.Report.NewExemplars != 5 {
		t.Fatalf("first enrolment: %+v", er)
	}
	if er.Report.NewValidation != 1 {
		t.Errorf("5 exemplars at the default validation share hold out %d, want 1", er.Report.NewValidation)
	}

	// A folder argument enrols every image in it; the human output is the
	// risk report.
	blue := t.TempDir()
	for i := 0; i < 5; i++ {
		must(t, os.WriteFile(filepath.Join(blue, fmt.Sprintf("%d.png", i)), readBytes(t, f.img("blue", i)), 0o644))
	}
	code, out, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "blue", blue)
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "Enrolment plan")
	wantContains(t, out, "negative flip rate")
	wantContains(t, out, `enrolled "blue" as class 2`)
	wantEqual(t, listLabels(t, f), []string{"red", "blue"}, "labels")

	// classify: held-out images of each class.
	out = runOK(t, "classify", "-model", f.model, "-gallery", f.gal, "-json", f.img("red", 5), f.img("blue", 5))
	raw := decodeLines[map[string]any](t, out)
	if len(raw) != 2 {
		t.Fatalf("%d records:\n%s", len(raw), out)
	}
	for _, key := range []string{"file", "label", "id", "score", "margin", "unknown", "top"} {
		if _, ok := raw[0][key]; !ok {
			t.Errorf("classify JSON lacks %q: %v", key, raw[0])
		}
	}
	recs := decodeLines[classifyRecord](t, out)
	for i, want := range []string{"red", "blue"} {
		r := recs[i]
		if r.Unknown || r.Label != want || len(r.Top) != 2 || r.Top[0].Label != want || r.Score != r.Top[0].Score {
			t.Errorf("classify %s: %+v", r.File, r)
		}
	}
	out = runOK(t, "classify", "-model", f.model, "-gallery", f.gal, f.img("red", 5))
	wantContains(t, out, "DECISION")

	// report leaves the file alone.
	before := readBytes(t, f.gal)
	out = runOK(t, "report", "-model", f.model, "-gallery", f.gal, "-label", "green", filepath.Join(f.data, "green"))
	wantContains(t, out, "not committed")
	wantContains(t, out, "Nearest existing classes")
	wantEqual(t, readBytes(t, f.gal), before, "gallery bytes after report")

	// rename, calibrate, remove, rollback.
	runOK(t, "rename", "-gallery", f.gal, "-label", "blue", "-to", "navy")
	wantEqual(t, listLabels(t, f), []string{"red", "navy"}, "labels after rename")

	out = runOK(t, "calibrate", "-gallery", f.gal, "-far", "0.1", "-json")
	var cal struct {
		Saved       bool `json:"saved"`
		Calibration struct {
			TargetFAR float64 `json:"target_far"`
			Classes   []struct {
				Label     string `json:"label"`
				Impostors int    `json:"impostors"`
			} `json:"classes"`
		} `json:"calibration"`
	}
	must(t, json.Unmarshal([]byte(out), &cal))
	if !cal.Saved || cal.Calibration.TargetFAR != 0.1 || len(cal.Calibration.Classes) != 2 || cal.Calibration.Classes[0].Impostors == 0 {
		t.Errorf("calibrate: %+v", cal)
	}
	out = runOK(t, "list", "-gallery", f.gal)
	wantContains(t, out, "navy")
	wantContains(t, out, "GAR")

	runOK(t, "remove", "-gallery", f.gal, "-id", "1")
	wantEqual(t, listLabels(t, f), []string{"navy"}, "labels after remove")
	code, _, errs = runCLI(t, "remove", "-gallery", f.gal, "-label", "red")
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "unknown class")

	out = runOK(t, "rollback", "-gallery", f.gal)
	wantContains(t, out, "restored")
	wantEqual(t, listLabels(t, f), []string{"red", "navy"}, "labels after rollback")

	// reembed moves the gallery to a new model; the old model is refused.
	out = runOK(t, "reembed", "-model", f.model2, "-gallery", f.gal)
	wantContains(t, out, "re-embedded 10 exemplars")
	code, _, errs = runCLI(t, "classify", "-model", f.model, "-gallery", f.gal, f.img("red", 5))
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "encoder mismatch")
	out = runOK(t, "classify", "-model", f.model2, "-gallery", f.gal, "-json", f.img("red", 5))
	if r := decodeLines[classifyRecord](t, out); len(r) != 1 || r[0].Top[0].Label != "red" {
		t.Errorf("after reembed: %+v", r)
	}
}

// flippingFixture is a gallery with red enrolled and a folder val/red of
// validation images of red: enrolled again under another label, each
// matches the newcomer with cosine 1 and so flips away from red. It returns
// the fixture, the validation folder and the gallery's bytes.
func flippingFixture(t *testing.T) (*galleryFixture, string, []byte) {
	t.Helper()
	f := newGalleryFixture(t)
	f.enrolRed(t)
	val := filepath.Join(f.dir, "val")
	writeDataset(t, val, 3, "red")
	return f, val, readBytes(t, f.gal)
}

func TestEnrollFlipBudget(t *testing.T) {
	f, val, before := flippingFixture(t)
	args := []string{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "crimson", "-val", val, filepath.Join(val, "red")}
	code, out, errs := runCLI(t, args...)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "negative flip rate over budget")
	wantContains(t, out, "OVER BUDGET")
	wantEqual(t, readBytes(t, f.gal), before, "gallery bytes after a refused enrolment")

	er := runJSON[enrollResult](t, append(args, "-force", "-json")...)
	if !er.Committed || !er.Forced || er.Report.NegativeFlips == 0 {
		t.Errorf("forced enrolment: %+v", er)
	}
	wantEqual(t, listLabels(t, f), []string{"red", "crimson"}, "labels")
}

func TestGalleryBadInput(t *testing.T) {
	f := newGalleryFixture(t)
	f.enrolRed(t)
	good := readBytes(t, f.gal)

	empty := filepath.Join(f.dir, "empty")
	must(t, os.Mkdir(empty, 0o755))
	notImage := filepath.Join(f.dir, "readme.txt")
	must(t, os.WriteFile(notImage, []byte("hello"), 0o644))
	mixed := filepath.Join(f.dir, "mixed")
	must(t, os.Mkdir(mixed, 0o755))
	must(t, os.WriteFile(filepath.Join(mixed, "a.png"), readBytes(t, f.img("green", 0)), 0o644))
	must(t, os.WriteFile(filepath.Join(mixed, "b.txt"), []byte("hello"), 0o644))

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"empty folder", []string{empty}, "contains no images"},
		{"non-image file", []string{f.img("green", 0), notImage}, "not a PNG or JPEG image"},
		{"non-image in folder", []string{mixed}, "b.txt"},
		{"missing file", []string{filepath.Join(f.dir, "gone.png")}, "no such file"},
		{"validation folder without classes", []string{"-val", empty, f.img("green", 0)}, "no class folders"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "green"}, c.args...)
			code, _, errs := runCLI(t, args...)
			wantCode(t, code, exitRuntime, errs)
			wantContains(t, errs, c.want)
			wantEqual(t, readBytes(t, f.gal), good, "gallery bytes")
		})
	}

	// A gallery from another encoder is refused and left as it is.
	code, _, errs := runCLI(t, "enroll", "-model", f.model2, "-gallery", f.gal, "-label", "green", f.img("green", 0))
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "encoder mismatch")
	wantEqual(t, readBytes(t, f.gal), good, "gallery bytes")

	// A corrupt gallery is an error for every command, and never replaced.
	bad := filepath.Join(f.dir, "bad.gal")
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xff
	must(t, os.WriteFile(bad, corrupt, 0o644))
	for _, args := range [][]string{
		{"enroll", "-model", f.model, "-gallery", bad, "-label", "green", f.img("green", 0)},
		{"classify", "-model", f.model, "-gallery", bad, f.img("green", 0)},
		{"list", "-gallery", bad},
		{"remove", "-gallery", bad, "-id", "1"},
		{"rename", "-gallery", bad, "-id", "1", "-to", "x"},
		{"calibrate", "-gallery", bad},
		{"reembed", "-model", f.model2, "-gallery", bad},
	} {
		code, _, errs := runCLI(t, args...)
		wantCode(t, code, exitRuntime, errs)
		wantContains(t, errs, "corrupt")
		wantEqual(t, readBytes(t, bad), corrupt, "corrupt gallery bytes after "+args[0])
	}
	trunc := filepath.Join(f.dir, "trunc.gal")
	must(t, os.WriteFile(trunc, good[:10], 0o644))
	code, _, errs = runCLI(t, "list", "-gallery", trunc)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "truncated")

	// Usage errors.
	for _, args := range [][]string{
		{"enroll", "-model", f.model, "-gallery", f.gal, f.img("green", 0)},
		{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "x"},
		{"enroll", "-gallery", f.gal, "-label", "x", f.img("green", 0)},
		{"classify", "-model", f.model, f.img("green", 0)},
		{"remove", "-gallery", f.gal},
		{"rename", "-gallery", f.gal, "-id", "1"},
		{"calibrate", "-gallery", f.gal, "-far", "2"},
		{"calibrate", "-gallery", f.gal, "-background", f.data},
		{"rollback", "-gallery", f.gal, "-n", "0"},
		{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "x", "-mode", "median", f.img("green", 0)},
	} {
		code, _, errs := runCLI(t, args...)
		wantCode(t, code, exitUsage, errs)
	}
	wantEqual(t, readBytes(t, f.gal), good, "gallery bytes after usage errors")

	// Rolling back further than the kept versions is an error.
	code, _, errs = runCLI(t, "rollback", "-gallery", f.gal, "-n", "3")
	wantCode(t, code, exitRuntime, errs)
}

func TestEval(t *testing.T) {
	f := newGalleryFixture(t)
	code, out, errs := runCLI(t, "eval", "-model", f.model, "-data", f.data, "-ways", "2", "-shots", "2", "-queries", "2",
		"-episodes", "30", "-seed", "7", "-open", "-json")
	wantCode(t, code, exitOK, errs)
	var r evalResult
	must(t, json.Unmarshal([]byte(out), &r))
	if r.Classes != 5 || r.Images != 30 || r.Episodes != 30 || r.Ways != 2 || r.UnknownWays != 2 {
		t.Errorf("eval: %+v", r)
	}
	if !(r.Accuracy >= 0.5 && r.Accuracy <= 1) || !(r.AUROC > 0 && r.AUROC <= 1) || r.Accuracy95 < 0 {
		t.Errorf("eval numbers out of range: %+v", r)
	}
	// Same seed, same result.
	code, out2, errs := runCLI(t, "eval", "-model", f.model, "-data", f.data, "-ways", "2", "-shots", "2", "-queries", "2",
		"-episodes", "30", "-seed", "7", "-open", "-json")
	wantCode(t, code, exitOK, errs)
	wantEqual(t, out2, out, "second run")

	out = runOK(t, "eval", "-model", f.model, "-data", f.data, "-ways", "3", "-shots", "1", "-episodes", "10")
	wantContains(t, out, "3-way 1-shot")
	wantContains(t, out, "accuracy")

	// Bad datasets.
	flat := filepath.Join(f.dir, "flat")
	must(t, os.Mkdir(flat, 0o755))
	must(t, os.WriteFile(filepath.Join(flat, "x.png"), readBytes(t, f.img("red", 0)), 0o644))
	emptyClass := filepath.Join(f.dir, "emptyclass")
	must(t, os.MkdirAll(filepath.Join(emptyClass, "a"), 0o755))
	junk := filepath.Join(f.dir, "junk")
	writeDataset(t, junk, 3, "red", "blue")
	must(t, os.WriteFile(filepath.Join(junk, "red", "notes.txt"), []byte("x"), 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", flat}, "expected one folder per class"},
		{[]string{"-data", emptyClass}, "contains no images"},
		{[]string{"-data", filepath.Join(f.dir, "none")}, "no such file"},
		{[]string{"-data", f.data, "-ways", "6"}, "6-way episodes need 6"},
		{[]string{"-data", f.data, "-ways", "5", "-open"}, "open-set episodes need"},
		{[]string{"-data", junk, "-ways", "2", "-shots", "1", "-queries", "1"}, "notes.txt"},
	} {
		code, _, errs := runCLI(t, append([]string{"eval", "-model", f.model}, c.args...)...)
		wantCode(t, code, exitRuntime, errs)
		wantContains(t, errs, c.want)
	}
	code, _, errs = runCLI(t, "eval", "-model", f.model)
	wantCode(t, code, exitUsage, errs)
	code, _, errs = runCLI(t, "eval", "-model", f.model, "-data", f.data, "-unknown-ways", "2")
	wantCode(t, code, exitUsage, errs)
}
