package main

import (
	"strings"
	"testing"
)

func TestShapeFlags(t *testing.T) {
	s := []int64{1, 3, 224, 224}
	got, err := parseInt64s(joinInts(s))
	if err != nil || len(got) != 4 || got[2] != 224 {
		t.Errorf("round trip %v: %v, %v", s, got, err)
	}
	for _, bad := range []string{"", "1,,3", "1,0", "a"} {
		if _, err := parseInt64s(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFormatMemory(t *testing.T) {
	if got := formatMemory([]result{{Model: "x/resnet18/model.onnx"}}); got != "" {
		t.Errorf("no memory measured, got %q", got)
	}
	rs := []result{
		{Model: "x/resnet18/model.onnx", Threads: 1, ORTMemory: &ortMemory{EnvRSS: 30e6, PeakRSS: 198.4e6, Source: "VmHWM", Runs: 15}},
		{Model: "x/signs.onnx", Threads: 2, ORTMemory: &ortMemory{Runs: 15}},
	}
	out := formatMemory(rs)
	for _, want := range []string{"| resnet18 | 1 | 198.4 | 30.0 | VmHWM, 15 runs |", "| signs | 2 | n/a | n/a | n/a, 15 runs |"} {
		if !strings.Contains(out, want) {
			t.Errorf("memory table lacks %q:\n%s", want, out)
		}
	}
	cfg := &config{threads: []int{1}}
	if table := formatTable(cfg, rs); !strings.Contains(table, "ORT peak RSS MB") {
		t.Errorf("timing table does not carry the memory table:\n%s", table)
	}
}
