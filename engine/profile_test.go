package engine_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-go/signet/engine"
)

func TestRunProfile(t *testing.T) {
	e, err := engine.Load("../testdata/models/signs.sgn", engine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.NewSession()
	defer s.Close()
	n := 1
	for _, d := range e.InputShapes()[0] {
		n *= d
	}
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(i%17) / 17
	}
	want := make([]float32, 128)
	got := make([]float32, 128)
	if err := s.RunMulti([][]float32{in}, [][]float32{want}); err != nil {
		t.Fatal(err)
	}
	layers := e.Layers()
	times := make([]time.Duration, len(layers))
	if err := s.RunProfile([][]float32{in}, [][]float32{got}, times); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Error("RunProfile computed something else than RunMulti")
	}
	var total time.Duration
	for i, d := range times {
		if d < 0 {
			t.Errorf("layer %d: %v", i, d)
		}
		total += d
	}
	if total <= 0 {
		t.Error("no time measured")
	}
	// Times add up over calls, and a profiling run allocates nothing.
	allocs := testing.AllocsPerRun(5, func() {
		if err := s.RunProfile([][]float32{in}, [][]float32{got}, times); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("RunProfile allocates %v times per run", allocs)
	}
	var after time.Duration
	for _, d := range times {
		after += d
	}
	if after <= total {
		t.Errorf("times did not add up: %v then %v", total, after)
	}
	// The next plain run is not profiled.
	before := slices.Clone(times)
	if err := s.RunMulti([][]float32{in}, [][]float32{got}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, times) {
		t.Error("RunMulti after RunProfile still clocked layers")
	}
	if err := s.RunProfile([][]float32{in}, [][]float32{got}, times[1:]); !errors.Is(err, engine.ErrShape) {
		t.Errorf("short times: %v, want ErrShape", err)
	}
	// Bytes: every layer moves something, a conv at least its weights.
	for _, l := range layers {
		if l.Bytes <= 0 {
			t.Errorf("layer %s (%s): %d bytes", l.Name, l.Op, l.Bytes)
		}
	}
}
