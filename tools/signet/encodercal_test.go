package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/model"
)

// testCalibration is a stored encoder calibration whose thresholds lie far
// above the tiny encoder's impostor scores, so a fallback to it shows.
const testCalibration = `{"version":1,"shots":3,"classes":11,"embeddings":100,"scores":1000,"source":"test",` +
	`"points":[{"far":0.1,"threshold":0.3},{"far":0.01,"threshold":0.5},{"far":0.001,"threshold":0.95}]}`

// calibratedModel writes the fixture's tiny encoder with testCalibration in
// its metadata; the fingerprint, and so every gallery, is shared with
// f.model.
func calibratedModel(t *testing.T, f *galleryFixture) string {
	t.Helper()
	m := tinyEncoder(t)
	meta := m.Meta
	meta.Extra = map[string]string{gallery.EncoderCalibrationKey: testCalibration}
	m2, err := model.New(meta, m.Graph)
	must(t, err)
	p := filepath.Join(f.dir, "calibrated.sgn")
	must(t, model.WriteFile(p, m2))
	return p
}

func TestEnrollEncoderCalibration(t *testing.T) {
	f := newGalleryFixture(t)
	cm := calibratedModel(t, f)
	out := runOK(t, "enroll", "-model", cm, "-gallery", f.gal, "-label", "red", filepath.Join(f.data, "red"))
	wantContains(t, out, "default threshold 0.9500 from the encoder's impostor calibration at FAR 0.001 per class (1000 scores, 11 background classes)")
	wantEqual(t, runJSON[listResult](t, "list", "-gallery", f.gal, "-json").Threshold, float32(0.95), "default threshold")

	// An existing gallery keeps its threshold, whatever -default-far says.
	out = runOK(t, "enroll", "-model", cm, "-gallery", f.gal, "-label", "blue", "-default-far", "0.0001", filepath.Join(f.data, "blue"))
	if strings.Contains(out, "default threshold") {
		t.Errorf("enroll into an existing gallery talks of its default:\n%s", out)
	}
	wantEqual(t, runJSON[listResult](t, "list", "-gallery", f.gal, "-json").Threshold, float32(0.95), "default threshold after a second enroll")

	// -json, and a rate between tabulated ones takes the next lower one.
	gal2 := filepath.Join(f.dir, "b.gal")
	res := runJSON[enrollResult](t, "enroll", "-model", cm, "-gallery", gal2, "-label", "red", "-default-far", "0.05", "-json", filepath.Join(f.data, "red"))
	d := res.Default
	if d == nil || !d.Calibrated || d.Threshold != 0.5 || d.FAR != 0.01 || d.RequestedFAR != 0.05 || d.Scores != 1000 || d.Classes != 11 {
		t.Fatalf("default_threshold %+v", d)
	}

	// A rate the calibration does not resolve refuses to create a gallery.
	gal3 := filepath.Join(f.dir, "c.gal")
	code, _, errs := runCLI(t, "enroll", "-model", cm, "-gallery", gal3, "-label", "red", "-default-far", "0.0005", filepath.Join(f.data, "red"))
	if code == exitOK || !strings.Contains(errs, "below 0.001") {
		t.Fatalf("unresolved -default-far: status %d, stderr %s", code, errs)
	}
	if _, err := os.Stat(gal3); err == nil {
		t.Error("gallery created despite the error")
	}
	for _, v := range []string{"0", "1", "-0.1"} {
		code, _, errs := runCLI(t, "enroll", "-model", cm, "-gallery", gal3, "-label", "red", "-default-far", v, filepath.Join(f.data, "red"))
		if code != exitUsage || !strings.Contains(errs, "-default-far") {
			t.Errorf("-default-far %s: status %d, stderr %s", v, code, errs)
		}
	}
}

func TestEnrollUncalibrated(t *testing.T) {
	f := newGalleryFixture(t)
	out := runOK(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "red", filepath.Join(f.data, "red"))
	wantContains(t, out, "default threshold 0.5 is uncalibrated")
	wantEqual(t, runJSON[listResult](t, "list", "-gallery", f.gal, "-json").Threshold, float32(0.5), "default threshold")
	res := runJSON[enrollResult](t, "enroll", "-model", f.model, "-gallery", filepath.Join(f.dir, "b.gal"), "-label", "red", "-json", filepath.Join(f.data, "red"))
	if res.Default == nil || res.Default.Calibrated || res.Default.Threshold != 0.5 {
		t.Fatalf("default_threshold %+v", res.Default)
	}
}

// calibrateJSON is the part of calibrate -json these tests read.
type calibrateJSON struct {
	Saved       bool                 `json:"saved"`
	Calibration gallery.Calibration  `json:"calibration"`
	Fallback    *calibrationFallback `json:"encoder_fallback"`
}

// TestCalibrateEncoderFallback: a few classes cannot resolve FAR 0.001, so
// the gallery default falls back to the encoder calibration's, which is
// tighter; per-class thresholds stay the gallery's own.
func TestCalibrateEncoderFallback(t *testing.T) {
	f := newGalleryFixture(t)
	cm := calibratedModel(t, f)
	for _, c := range []string{"red", "blue", "green"} {
		runOK(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", c, filepath.Join(f.data, c))
	}
	dry := runJSON[calibrateJSON](t, "calibrate", "-model", cm, "-gallery", f.gal, "-far", "0.001", "-dry-run", "-json")
	if dry.Fallback == nil || !dry.Fallback.Applied || dry.Fallback.Threshold != 0.95 {
		t.Fatalf("dry run fallback %+v", dry.Fallback)
	}
	wantEqual(t, runJSON[listResult](t, "list", "-gallery", f.gal, "-json").Threshold, float32(0.5), "default after a dry run")

	out := runOK(t, "calibrate", "-model", cm, "-gallery", f.gal, "-far", "0.001")
	wantContains(t, out, "the encoder's impostor calibration gives 0.9500 at FAR 0.001 per class (1000 scores)")
	l := runJSON[listResult](t, "list", "-gallery", f.gal, "-json")
	wantEqual(t, l.Threshold, float32(0.95), "default after calibrate")
	for _, c := range l.Classes {
		if c.Threshold == 0.95 {
			t.Errorf("class %s took the encoder's threshold", c.Label)
		}
	}

	// Without the model's calibration the rule cannot apply, and says why.
	out = runOK(t, "calibrate", "-model", f.model, "-gallery", f.gal, "-far", "0.001", "-dry-run")
	wantContains(t, out, "the model carries no impostor calibration")
	out = runOK(t, "calibrate", "-gallery", f.gal, "-far", "0.001", "-dry-run")
	wantContains(t, out, "pass -model")
}

func TestCalibrateBackgroundFolders(t *testing.T) {
	f := newGalleryFixture(t)
	f.enrolRed(t)
	bg := filepath.Join(f.dir, "bg")
	writeDataset(t, bg, 4, "blue", "green", "yellow")
	res := runJSON[calibrateJSON](t, "calibrate", "-model", f.model, "-gallery", f.gal, "-background", bg, "-dry-run", "-json")
	if got := res.Calibration.Classes[0].Impostors; got != 12 {
		t.Errorf("class folders: %d impostors, want 12", got)
	}
	res = runJSON[calibrateJSON](t, "calibrate", "-model", f.model, "-gallery", f.gal, "-background", filepath.Join(bg, "blue"), "-dry-run", "-json")
	if got := res.Calibration.Classes[0].Impostors; got != 4 {
		t.Errorf("flat folder: %d impostors, want 4", got)
	}

	must(t, os.WriteFile(filepath.Join(bg, "stray.png"), readBytes(t, filepath.Join(bg, "blue", "00.png")), 0o644))
	code, _, errs := runCLI(t, "calibrate", "-model", f.model, "-gallery", f.gal, "-background", bg, "-dry-run")
	if code == exitOK || !strings.Contains(errs, "mixes files (stray.png) and folders (blue)") {
		t.Errorf("mixed folder: status %d, stderr %s", code, errs)
	}
	must(t, os.Remove(filepath.Join(bg, "stray.png")))
	must(t, os.MkdirAll(filepath.Join(bg, "green", "nested"), 0o755))
	code, _, errs = runCLI(t, "calibrate", "-model", f.model, "-gallery", f.gal, "-background", bg, "-dry-run")
	if code == exitOK || !strings.Contains(errs, "found folder nested") {
		t.Errorf("nested folder: status %d, stderr %s", code, errs)
	}
	empty := filepath.Join(f.dir, "empty")
	must(t, os.MkdirAll(filepath.Join(empty, "a"), 0o755))
	code, _, errs = runCLI(t, "calibrate", "-model", f.model, "-gallery", f.gal, "-background", empty, "-dry-run")
	if code == exitOK || !strings.Contains(errs, "contains no images") {
		t.Errorf("empty class folder: status %d, stderr %s", code, errs)
	}
}
