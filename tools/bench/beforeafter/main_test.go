package main

import (
	"archive/tar"
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedianAndRatios(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd median %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even median %v", m)
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(minOf(nil)) || !math.IsNaN(maxOf(nil)) {
		t.Error("empty input must give NaN")
	}
	before := []sample{{MedianMS: 10}, {MedianMS: 20}, {MedianMS: 0}}
	after := []sample{{MedianMS: 11}, {MedianMS: 18}, {MedianMS: 5}}
	r := roundRatios(before, after, func(s sample) float64 { return s.MedianMS })
	if len(r) != 2 || math.Abs(r[0]-1.1) > 1e-12 || math.Abs(r[1]-0.9) > 1e-12 {
		t.Errorf("ratios %v, want [1.1 0.9] (a zero before-median is skipped)", r)
	}
}

func TestFormatTable(t *testing.T) {
	peak := int64(50e6)
	mem := &struct {
		FileBytes    int64  `json:"file_bytes"`
		EngineBytes  int64  `json:"engine_bytes"`
		SessionBytes int64  `json:"session_bytes"`
		PeakRSSBytes *int64 `json:"peak_rss_bytes"`
	}{PeakRSSBytes: &peak}
	cfg := &config{models: []string{"testdata/torchvision-full/resnet18/model.onnx"}, threads: []int{2}}
	samples := [][][2][]sample{{{
		{{MedianMS: 10, MinMS: 9, maxRSS: 100e6}, {MedianMS: 12, MinMS: 8, maxRSS: 120e6}, {MedianMS: 11, MinMS: 9.5, maxRSS: 110e6}},
		{{MedianMS: 10, MinMS: 9, Memory: mem}, {MedianMS: 13.2, MinMS: 7, Memory: mem}, {MedianMS: 12.1, MinMS: 9, Memory: mem}},
	}}}
	out := formatTable(cfg, samples)
	// Minima ratios per round: 1, 7/8, 9/9.5; their median is 0.947.
	want := "| resnet18 | 2 | 11.000 / 8.000 | 12.100 / 7.000 | 1.100× | 1.000 – 1.100 | 0.947× | 110.0 | 50.0 |"
	if !strings.Contains(out, want) {
		t.Errorf("table lacks\n%s\ngot\n%s", want, out)
	}
	mem.FileBytes, mem.SessionBytes, mem.EngineBytes = 30e6, 10e6, 70e6
	want = "| resnet18 | 2 | after | 30.0 | 70.0 | 10.0 | 50.0 | 1.25 |"
	if m := formatMemory(cfg, samples); !strings.Contains(m, want) || strings.Contains(m, "before") {
		t.Errorf("memory table lacks\n%s\nor has a row for the build without a report:\n%s", want, m)
	}
	if got := rssMB([]sample{{MedianMS: 1}}); got != "n/a" {
		t.Errorf("rssMB without figures = %q", got)
	}
}

func TestParseConfig(t *testing.T) {
	root := t.TempDir()
	must(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/signet-go/signet\n"), 0o644))
	cfg, err := parseConfig([]string{"-root", root, "-threads", "1,2", "-rounds", "3", "a.sgn", "b/model.onnx"}, io.Discard)
	must(t, err)
	if cfg.rounds != 3 || len(cfg.threads) != 2 || cfg.threads[1] != 2 || len(cfg.models) != 2 || cfg.rev != "HEAD" {
		t.Errorf("config %+v", cfg)
	}
	for _, bad := range [][]string{
		{"-root", root},                             // no model
		{"-root", root, "model.pt"},                 // unknown extension
		{"-root", root, "-threads", "0", "a.sgn"},   // bad thread count
		{"-root", root, "-rounds", "0", "a.sgn"},    // no rounds
		{"-root", root, "-n", "0", "a.sgn"},         // no runs
		{"-root", root, "-warmup", "-1", "a.sgn"},   // negative warm-up
		{"-root", root, "-threads", "x,1", "a.sgn"}, // not a number
	} {
		if _, err := parseConfig(bad, io.Discard); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestUntar(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		must(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(body))
		must(t, err)
	}
	add(&tar.Header{Typeflag: tar.TypeDir, Name: "tools/", Mode: 0o755}, "")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "tools/run.sh", Mode: 0o755}, "#!/bin/sh\n")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "go.mod", Mode: 0o644}, "module x\n")
	must(t, tw.Close())
	dir := t.TempDir()
	must(t, untar(bytes.NewReader(buf.Bytes()), dir))
	b, err := os.ReadFile(filepath.Join(dir, "tools", "run.sh"))
	must(t, err)
	if string(b) != "#!/bin/sh\n" {
		t.Errorf("run.sh = %q", b)
	}
	if st, err := os.Stat(filepath.Join(dir, "tools", "run.sh")); err != nil || st.Mode()&0o100 == 0 {
		t.Errorf("run.sh lost its mode: %v %v", st, err)
	}

	buf.Reset()
	tw = tar.NewWriter(&buf)
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Mode: 0o644}, "x")
	must(t, tw.Close())
	if err := untar(bytes.NewReader(buf.Bytes()), t.TempDir()); err == nil {
		t.Error("an entry leaving the tree was extracted")
	}
}

func TestModelName(t *testing.T) {
	for in, want := range map[string]string{
		"testdata/torchvision-full/resnet18/model.onnx": "resnet18",
		"testdata/models/signs.sgn":                     "signs",
		"x/model.sgn":                                   "x",
	} {
		if got := modelName(in); got != want {
			t.Errorf("modelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
