package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/quant"
)

// writeBackground writes classes folders of per 48×48 PNGs: each class a
// colour and a shape, each image shifted, so classes differ and images of
// one class still vary.
func writeBackground(t *testing.T, dir string, classes, per int) {
	t.Helper()
	for c := range classes {
		cdir := filepath.Join(dir, fmt.Sprintf("design-%02d", c))
		if err := os.MkdirAll(cdir, 0o755); err != nil {
			t.Fatal(err)
		}
		fg := color.RGBA{uint8(40 + 25*c), uint8(200 - 20*c), uint8(90 + 37*c%160), 255}
		for i := range per {
			img := image.NewRGBA(image.Rect(0, 0, 48, 48))
			for y := range 48 {
				for x := range 48 {
					img.Set(x, y, color.RGBA{230, 230, 230, 255})
					dx, dy := x-24-i, y-24+i
					if (c%2 == 0 && dx*dx+dy*dy < 150+20*c) || (c%2 == 1 && abs(dx)+abs(dy) < 10+c) {
						img.Set(x, y, fg)
					}
				}
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cdir, fmt.Sprintf("%02d.png", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func abs(v int) int { return max(v, -v) }

// TestRunImpostors converts the sign encoder with an impostor calibration,
// in float32 and in int8, and checks the stored table is the one the
// written model measures.
func TestRunImpostors(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	in := filepath.Join(root, "models", "signs.onnx")
	bg := filepath.Join(t.TempDir(), "background")
	writeBackground(t, bg, 8, 3) // 24 images · 7 other classes = 168 scores
	if err := os.MkdirAll(filepath.Join(bg, "too-few"), 0o755); err != nil {
		t.Fatal(err)
	}
	norm := []string{"-mean", "0.452,0.471,0.424", "-std", "0.285,0.263,0.281"}
	for _, tc := range []struct {
		name   string
		extra  []string
		mirror float64 // the -mirror-loss that resolves; 0: the default, which 8 queries do not
	}{
		{"fp32", nil, 0},
		{"int8", []string{"-quantize", "int8", "-calib", filepath.Join(root, "signs-calib"), "-calib-n", "4", "-keep-fp32", "/fc/Gemm"}, 0},
		{"fp32-mirror", []string{"-mirror-loss", "0.2"}, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signs.sgn")
			args := append(append(append([]string{"-o", out}, norm...), tc.extra...), "-impostors", bg, "-impostor-shots", "2", in)
			var buf bytes.Buffer
			if err := run(args, &buf); err != nil {
				t.Fatal(err)
			}
			s := buf.String()
			mirrorLine := "mirror check: not stored (gallery: invalid options: 8 genuine queries do not resolve a known loss of 0.01 (need 100))"
			if tc.mirror > 0 {
				mirrorLine = "mirror check: margin "
			}
			for _, want := range []string{"impostor calibration: 8 background classes, 24 images, 2 shots per prototype, 168 impostor scores",
				"(1 class folders with fewer than 2 images skipped)", "FAR per class", "0.01 ", mirrorLine} {
				if !strings.Contains(s, want) {
					t.Errorf("output lacks %q:\n%s", want, s)
				}
			}
			m, err := model.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			e, err := engine.New(m, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			enc, err := gallery.NewEngineEncoder(e)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			cal, err := enc.Calibration()
			if err != nil || cal == nil {
				t.Fatalf("calibration %v, %v", cal, err)
			}
			if cal.Classes != 8 || cal.Shots != 2 || cal.Scores != 168 || len(cal.Points) != 4 || !strings.Contains(cal.Source, "folder background") {
				t.Errorf("calibration %s", cal)
			}
			// The oracle: the written file's encoder on the same images.
			shots, loss := 2, 0.0
			set, err := (&impostorFlags{dir: &bg, shots: &shots, mirrorLoss: &loss}).list()
			if err != nil {
				t.Fatal(err)
			}
			var classes, mirrored [][][]float32
			for _, files := range set.files {
				var es, ms [][]float32
				for _, p := range files {
					img, err := quant.LoadImage(p)
					if err != nil {
						t.Fatal(err)
					}
					v, err := enc.Embed(img)
					if err != nil {
						t.Fatal(err)
					}
					mv, err := enc.EmbedMirrored(img)
					if err != nil {
						t.Fatal(err)
					}
					es, ms = append(es, v), append(ms, mv)
				}
				classes, mirrored = append(classes, es), append(mirrored, ms)
			}
			want, err := gallery.MeasureEncoderCalibration(classes, 2, cal.Source)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mirror > 0 {
				if err := want.MeasureMirror(classes, mirrored, tc.mirror); err != nil {
					t.Fatal(err)
				}
			}
			if want.String() != cal.String() {
				t.Errorf("stored %s\nmeasured with the written model %s", cal, want)
			}
			if tc.name == "int8" && !strings.HasPrefix(m.Meta.Extra["quantization"], "int8") {
				t.Error("int8 model lost its quantization metadata")
			}
		})
	}
}

func TestRunImpostorsRefused(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "models", "signs.onnx")
	dir := t.TempDir()
	mixed := filepath.Join(dir, "mixed")
	writeBackground(t, mixed, 3, 2)
	if err := os.WriteFile(filepath.Join(mixed, "stray.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(dir, "nested")
	writeBackground(t, nested, 3, 2)
	if err := os.MkdirAll(filepath.Join(nested, "design-00", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	writeBackground(t, broken, 3, 4)
	bad := filepath.Join(broken, "design-01", "02.png")
	if err := os.WriteFile(bad, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(dir, "tiny")
	writeBackground(t, tiny, 2, 3) // 6 scores
	one := filepath.Join(dir, "one")
	writeBackground(t, one, 1, 4)
	small := filepath.Join(dir, "small")
	writeBackground(t, small, 8, 3) // 8 genuine queries: no 1% known loss
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-impostors", mixed}, "found file stray.png"},
		{[]string{"-impostors", nested}, "found folder sub"},
		{[]string{"-impostors", broken}, "02.png"},
		{[]string{"-impostors", one}, "need at least 2"},
		{[]string{"-impostors", broken, "-impostor-shots", "0"}, "-impostor-shots 0"},
		{[]string{"-impostors", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"-impostors", tiny}, "resolve no false-accept rate"},
		{[]string{"-impostors", broken, "-mirror-loss", "1"}, "-mirror-loss 1"},
		{[]string{"-impostors", small, "-impostor-shots", "2", "-mirror-loss", "0.01"}, "mirror margin: gallery: invalid options: 8 genuine queries do not resolve"},
	} {
		o := filepath.Join(dir, "x.sgn")
		var buf bytes.Buffer
		err := run(append(append([]string{"-o", o}, tc.args...), in), &buf)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(o); err == nil {
			t.Errorf("%v: output written despite the error", tc.args)
		}
	}
}
