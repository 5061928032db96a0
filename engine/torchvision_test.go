package engine_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/cputime"
	"github.com/signet-go/signet/internal/npy"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/tools/convert/onnx"
)

// Whole torchvision networks, exported from PyTorch with random weights and
// random BatchNorm statistics by tools/testdata-gen/export_torchvision.py,
// against PyTorch's own outputs. testdata/torchvision holds small variants
// (committed); testdata/torchvision-full the 224x224 ImageNet networks
// (regenerated with --full, not committed), run when present.
const (
	// Max |got - want| over an output, relative to max |want|.
	torchvisionRelTol = 1e-4
	// Minimum cosine similarity between got and want per output.
	torchvisionMinCos = 0.99999
	torchvisionInputs = 3
)

var (
	torchvisionSmall = filepath.Join("..", "testdata", "torchvision")
	torchvisionFull  = filepath.Join("..", "testdata", "torchvision-full")
)

// torchvisionModels lists the model directories under root, sorted.
func torchvisionModels(tb testing.TB, root string) []string {
	tb.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "model.onnx")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// loadTorchvision converts dir/model.onnx and plans it with opts.
func loadTorchvision(tb testing.TB, dir string, opts engine.Options) *engine.Engine {
	tb.Helper()
	m, err := onnx.ConvertFile(filepath.Join(dir, "model.onnx"), onnx.Options{Name: filepath.Base(dir)})
	if err != nil {
		tb.Fatalf("convert: %v", err)
	}
	e, err := engine.New(m, opts)
	if err != nil {
		tb.Fatalf("engine.New: %v", err)
	}
	return e
}

func TestTorchvision(t *testing.T) {
	names := torchvisionModels(t, torchvisionSmall)
	if len(names) == 0 {
		t.Fatalf("no models under %s", torchvisionSmall)
	}
	for _, name := range names {
		dir := filepath.Join(torchvisionSmall, name)
		// Every tier this machine runs (on amd64 with AVX-512: generic, avx2
		// and avx512), each forced for every layer.
		for _, tier := range kernels.Available() {
			t.Run(name+"/"+tier.String(), func(t *testing.T) {
				checkTorchvision(t, dir, engine.Options{Tier: tier, ForceTier: true})
			})
		}
		// The worker pool splits layers across threads; its result must
		// match PyTorch as well as the single-threaded one does.
		t.Run(name+"/threads2", func(t *testing.T) { checkTorchvision(t, dir, engine.Options{Threads: 2}) })
	}
}

func TestTorchvisionFull(t *testing.T) {
	names := torchvisionModels(t, torchvisionFull)
	if len(names) == 0 {
		t.Skipf("%s not present: run tools/testdata-gen/export_torchvision.py --full to create it", torchvisionFull)
	}
	if testing.Short() {
		t.Skip("full-size networks skipped in -short mode")
	}
	for _, name := range names {
		for _, tier := range kernels.Available() {
			t.Run(name+"/"+tier.String(), func(t *testing.T) {
				checkTorchvision(t, filepath.Join(torchvisionFull, name), engine.Options{Tier: tier, ForceTier: true})
			})
		}
	}
}

func checkTorchvision(t *testing.T, dir string, opts engine.Options) {
	e := loadTorchvision(t, dir, opts)
	defer e.Close()
	s := e.NewSession()
	defer s.Close()

	outShapes := e.OutputShapes()
	outs := make([][]float32, len(outShapes))
	for i, sh := range outShapes {
		n := 1
		for _, d := range sh {
			n *= d
		}
		outs[i] = make([]float32, n)
	}
	worstRel, worstCos := 0.0, 1.0
	var first []float32
	for k := 0; k < torchvisionInputs; k++ {
		_, in, err := npy.ReadFile(filepath.Join(dir, fmt.Sprintf("input_%d.npy", k)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RunMulti([][]float32{in}, outs); err != nil {
			t.Fatalf("input %d: %v", k, err)
		}
		if k == 0 {
			first = append([]float32(nil), outs[0]...)
		}
		for j := range outs {
			file := fmt.Sprintf("output_%d.npy", k)
			if len(outs) > 1 {
				file = fmt.Sprintf("output_%d_%d.npy", k, j)
			}
			_, want, err := npy.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != len(outs[j]) {
				t.Fatalf("%s: engine output has %d values (shape %v), reference %d", file, len(outs[j]), outShapes[j], len(want))
			}
			maxDiff, maxRef, cos := compareOutputs(outs[j], want)
			rel := maxDiff / maxRef
			worstRel = math.Max(worstRel, rel)
			worstCos = math.Min(worstCos, cos)
			if !(maxDiff <= torchvisionRelTol*maxRef) || !(cos >= torchvisionMinCos) {
				t.Errorf("%s: max|diff| %.3g = %.3g of max|ref| %.3g (limit %g), cosine %.7f (limit %g)",
					file, maxDiff, rel, maxRef, torchvisionRelTol, cos, torchvisionMinCos)
			}
		}
	}
	// A session reused for other inputs must give the first input's output
	// again, bit for bit: nothing may carry over between runs.
	_, in, err := npy.ReadFile(filepath.Join(dir, "input_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunMulti([][]float32{in}, outs); err != nil {
		t.Fatal(err)
	}
	for i := range first {
		if math.Float32bits(first[i]) != math.Float32bits(outs[0][i]) {
			t.Fatalf("input_0 run again after other inputs: element %d is %g, was %g", i, outs[0][i], first[i])
		}
	}
	t.Logf("%s (tier %v, %d threads): max|diff|/max|ref| %.3g, 1-cosine %.3g (worst of %d inputs)",
		filepath.Base(dir), e.Tier(), max(opts.Threads, 1), worstRel, 1-worstCos, torchvisionInputs)
}

// compareOutputs returns max |got-want|, max |want| and the cosine
// similarity, all in float64. NaN anywhere makes the cosine NaN.
func compareOutputs(got, want []float32) (maxDiff, maxRef, cos float64) {
	var dot, ng, nw float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		maxDiff = math.Max(maxDiff, math.Abs(g-w))
		if math.IsNaN(g) {
			maxDiff = math.NaN()
		}
		maxRef = math.Max(maxRef, math.Abs(w))
		dot += g * w
		ng += g * g
		nw += w * w
	}
	return maxDiff, maxRef, dot / math.Sqrt(ng*nw)
}

func BenchmarkTorchvision(b *testing.B) {
	type bench struct{ name, dir string }
	var list []bench
	for _, n := range torchvisionModels(b, torchvisionSmall) {
		list = append(list, bench{n, filepath.Join(torchvisionSmall, n)})
	}
	for _, n := range torchvisionModels(b, torchvisionFull) {
		list = append(list, bench{"full-" + n, filepath.Join(torchvisionFull, n)})
	}
	if len(list) == 0 {
		b.Skip("no torchvision test data")
	}
	for _, bm := range list {
		b.Run(bm.name, func(b *testing.B) {
			e := loadTorchvision(b, bm.dir, engine.Options{})
			defer e.Close()
			s := e.NewSession()
			defer s.Close()
			_, in, err := npy.ReadFile(filepath.Join(bm.dir, "input_0.npy"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Run(in); err != nil {
				b.Fatal(err)
			}
			var flops int64
			for _, l := range e.Layers() {
				flops += l.FLOPs
			}
			// One thread runs on the benchmark goroutine: pinned to its OS
			// thread, that thread's CPU time is the inference's.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Thread()
			for i := 0; i < b.N; i++ {
				if _, err := s.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cputime.Thread() - cpu0
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
			if cpu > 0 {
				b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(flops)*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
			}
		})
	}
}
