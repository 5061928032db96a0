package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-go/signet/model"
)

func TestRun(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "torchvision", "vgg_l2", "model.onnx")
	if _, err := os.Stat(in); err != nil {
		t.Skip("testdata/torchvision/vgg_l2 missing")
	}
	out := filepath.Join(t.TempDir(), "vgg.sgn")
	var buf bytes.Buffer
	err := run([]string{"-o", out, "-mean", "0.485,0.456,0.406", "-std", "0.229,0.224,0.225", "-channels", "bgr", in}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"L2Normalize×1", "8 BatchNorm folded", "fingerprint: ", "L2-normalised: true"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, buf.String())
		}
	}
	m, err := model.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Meta.Name != "model" || m.Meta.ChannelOrder != "BGR" || len(m.Meta.Mean) != 3 || !strings.Contains(buf.String(), m.FingerprintHex()) {
		t.Fatalf("metadata %+v", m.Meta)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, []byte{0x0b, 0x00}, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.sgn")
	for _, args := range [][]string{
		{bad},                          // no -o
		{"-o", out},                    // no input
		{"-o", out, bad},               // malformed
		{"-o", out, "-mean", "x", bad}, // bad flag value
		{"-o", out, filepath.Join(dir, "missing.onnx")},
	} {
		var buf bytes.Buffer
		if err := run(args, &buf); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written despite errors")
	}
}

// TestRunQuantize is the documented command that makes
// testdata/models/signs-int8.sgn, on fewer calibration images.
func TestRunQuantize(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	out := filepath.Join(t.TempDir(), "signs-int8.sgn")
	var buf bytes.Buffer
	err := run([]string{"-o", out, "-mean", "0.452,0.471,0.424", "-std", "0.285,0.263,0.281",
		"-quantize", "int8", "-calib", filepath.Join(root, "signs-calib"), "-calib-n", "8",
		"-keep-fp32", "/fc/Gemm", filepath.Join(root, "models", "signs.onnx")}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"quantisation: int8 static QDQ", "minmax over 8 calibration inputs",
		"kept float32 (-keep-fp32)", "output cosine to float32 over 8 inputs"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	m, err := model.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.HasPrefix(m.Meta.Extra["quantization"], "int8 static QDQ") {
		t.Errorf("metadata %q", m.Meta.Extra["quantization"])
	}
	dir := t.TempDir()
	in := filepath.Join(root, "models", "signs.onnx")
	for _, args := range [][]string{
		{"-quantize", "int4", "-calib", dir},
		{"-quantize", "int8"},                // no -calib
		{"-calib", dir},                      // no -quantize
		{"-quantize", "int8", "-calib", dir}, // no images
		{"-quantize", "int8", "-calib", filepath.Join(root, "signs-calib"), "-calib-method", "entropy"},
		{"-quantize", "int8", "-calib", filepath.Join(root, "signs-calib"), "-calib-n", "0"},
	} {
		var buf bytes.Buffer
		o := filepath.Join(dir, "x.sgn")
		if err := run(append(append([]string{"-o", o}, args...), in), &buf); err == nil {
			t.Errorf("%v: no error", args)
		}
		if _, err := os.Stat(o); err == nil {
			t.Errorf("%v: output written despite the error", args)
		}
	}
}
