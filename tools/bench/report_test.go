package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestReplaceSection(t *testing.T) {
	sec := beginMarker + "\nnew\n" + endMarker
	cases := []struct{ name, doc, want string }{
		{"new file", "", "# Benchmarks\n\n" + sec + "\n"},
		{"no markers", "# B\n\ntext\n", "# B\n\ntext\n\n" + sec + "\n"},
		{"replace", "# B\n" + beginMarker + "\nold\nrows\n" + endMarker + "\ntail\n", "# B\n" + sec + "\ntail\n"},
	}
	for _, c := range cases {
		got, err := replaceSection(c.doc, sec)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"x " + endMarker + " " + beginMarker,
		"x " + beginMarker + " no end",
		beginMarker + endMarker + beginMarker + endMarker,
	} {
		if _, err := replaceSection(bad, sec); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	d, ref, c, err := compare([]float32{1, 2, 3}, []float32{1, 2, 3.5})
	if err != nil || math.Abs(d-0.5) > 1e-9 || ref != 3.5 || !(c > 0.99 && c < 1) {
		t.Errorf("compare = %v %v %v %v", d, ref, c, err)
	}
	if _, _, _, err := compare([]float32{1}, []float32{1, 2}); err == nil {
		t.Error("length mismatch not reported")
	}
	if _, _, _, err := compare([]float32{float32(math.NaN())}, []float32{1}); err == nil {
		t.Error("NaN not reported")
	}
	if _, _, c, _ := compare([]float32{1, 0}, []float32{-1, 0}); c != -1 {
		t.Errorf("opposite vectors: cosine %v", c)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := summarize(ds)
	if s.Median != 50*time.Millisecond || s.P90 != 90*time.Millisecond || s.Min != time.Millisecond {
		t.Errorf("summarize = %+v", s)
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("summarize reordered its input")
	}
}

func TestFormatTableFlagsDisagreement(t *testing.T) {
	cfg := &config{threads: []int{1}}
	r := result{Model: "x/resnet18/model.onnx", InputShape: []int{1, 3, 224, 224}, Threads: 1, GFLOP: 3.6,
		Signet:     timing{Median: 40 * time.Millisecond, P90: 41 * time.Millisecond, Min: 39 * time.Millisecond},
		ORT:        timing{Median: 20 * time.Millisecond, P90: 21 * time.Millisecond, Min: 19 * time.Millisecond},
		MaxAbsDiff: 0.5, Cosine: 0.9, SignetTiers: map[string]int{"avx512": 3}}
	out := formatTable(cfg, []result{r})
	for _, want := range []string{"| resnet18 | 1×3×224×224 | 1 | 3.600 | 40.00 / 41.00 / 39.00 | 20.00 / 21.00 / 19.00 | 2.00× | 90.0 | 180.0 |", "**DISAGREE**", "avx512=3"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
