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
