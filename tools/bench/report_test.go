package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/signet-go/signet/tools/convert/quant"
)

func TestReplaceSection(t *testing.T) {
	sec := beginMarker + "\nnew\n" + endMarker
	cases := []struct{ name, doc, want string }{
		{"new file", "", "# Benchmarks\n\n" + sec + "\n"},
		{"no markers", "# B\n\ntext\n", "# B\n\ntext\n\n" + sec + "\n"},
		{"replace", "# B\n" + beginMarker + "\nold\nrows\n" + endMarker + "\ntail\n", "# B\n" + sec + "\ntail\n"},
	}
	for _, c := range cases {
		got, err := replaceSection(c.doc, sec, beginMarker, endMarker)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"x " + endMarker + " " + beginMarker,
		"x " + beginMarker + " no end",
		beginMarker + endMarker + beginMarker + endMarker,
	} {
		if _, err := replaceSection(bad, sec, beginMarker, endMarker); err == nil {
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

func TestInt8SectionLeavesTheFloatOne(t *testing.T) {
	doc := "# B\n" + beginMarker + "\nfp32\n" + endMarker + "\n"
	sec := int8BeginMarker + "\nint8\n" + int8EndMarker
	got, err := replaceSection(doc, sec, int8BeginMarker, int8EndMarker)
	if err != nil || got != doc+"\n"+sec+"\n" {
		t.Fatalf("first int8 section: got %q, %v", got, err)
	}
	sec2 := int8BeginMarker + "\nint8 again\n" + int8EndMarker
	again, err := replaceSection(got, sec2, int8BeginMarker, int8EndMarker)
	if err != nil || again != doc+"\n"+sec2+"\n" {
		t.Errorf("second int8 section: got %q, %v", again, err)
	}
}

func TestFormatInt8(t *testing.T) {
	cfg := &config{threads: []int{1}, root: "/r", calib: "/r/testdata/signs-calib", calibN: 32, int8: true}
	rep := &quant.Report{Images: 32, Cosine: 0.9995, MinCosine: 0.999, Int8Params: 90, AllParams: 100, Layers: []quant.Layer{
		{Op: "Conv", Int8: true, Params: 90},
		{Op: "Conv", Reason: "depthwise: float32 (no int8 depthwise kernel)"},
		{Op: "Conv", Reason: "depthwise: float32 (no int8 depthwise kernel)"},
		{Op: "Gemm", Reason: "costs 0.0012 > bound 0.0005", Params: 10},
	}}
	r := result{Model: "x/mobilenet_v2/model.onnx", Threads: 1,
		Signet: timing{Median: 10 * time.Millisecond}, ORT: timing{Median: 8 * time.Millisecond},
		Int8: &int8Result{int8Model: &int8Model{fp32Size: 14e6, int8Size: 4.2e6, report: rep, norm: "ImageNet mean/std"},
			Timing: timing{Median: 4 * time.Millisecond, P90: 5 * time.Millisecond, Min: 3 * time.Millisecond}, CosineFP32: 0.999, CosineORT: 0.998, Int8FLOPs: 0.5},
		ORTMemory: &ortMemory{PeakRSS: 90e6, EnvRSS: 31e6, Source: "VmHWM", Runs: 15}}
	out := formatTable(cfg, []result{r})
	for _, want := range []string{
		"| mobilenet_v2 | 1 | 4.00 / 5.00 / 3.00 | 10.00 | 8.00 | 0.50× | 0.40× | 50.0% | 14.00 → 4.20 (0.30×) | 0.999000 / 0.998000 | 0.00 / 0.00 |",
		"1 of 4 layers int8, 90.0% of the weights",
		"2× Conv: depthwise: float32 (no int8 depthwise kernel); 1× Gemm: cost over the error bound",
		"32 images of testdata/signs-calib",
		"| mobilenet_v2 | 1 | 90.0 | 31.0 | VmHWM, 15 runs |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if sec := formatSection(cfg, "env", out); !strings.HasPrefix(sec, int8BeginMarker) || !strings.HasSuffix(sec, int8EndMarker) {
		t.Errorf("int8 section has the wrong markers:\n%s", sec)
	}
}
