package engine_test

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/engine/reference"
	"github.com/signet-go/signet/kernels"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
)

// TestQDQModels runs the QDQ-quantised ONNX files of testdata/qdq (made by
// tools/testdata-gen/gen_qdq.py with onnx.helper: per-channel and
// per-tensor int8 weights, int8 and uint8 activations, expected outputs
// in float64 numpy with ONNX's QDQ semantics) through the converter, the
// engine at every tier and thread count, and the reference. Every output
// is within one quantum of the output's scale (quantum.txt) of the
// expected one, the engine's bit-identical across tiers and threads, and
// every convolution and GEMM runs on the int8 kernels.
func TestQDQModels(t *testing.T) {
	root := filepath.Join("..", "testdata", "qdq")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		dir := filepath.Join(root, ent.Name())
		t.Run(ent.Name(), func(t *testing.T) {
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			m, err := onnx.Convert(read("model.onnx"), onnx.Options{})
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			tensor := func(name string) []float32 {
				tt, err := onnx.ReadTensor(read(name))
				if err != nil || tt.DType != model.Float32 {
					t.Fatalf("%s: %v (%s)", name, err, tt.DType)
				}
				return tt.Float32s()
			}
			in, want := tensor("input_0.pb"), tensor("output_0.pb")
			q, err := strconv.ParseFloat(strings.TrimSpace(string(read("quantum.txt"))), 64)
			if err != nil {
				t.Fatal(err)
			}
			within := func(who string, got []float32) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d outputs, want %d", who, len(got), len(want))
				}
				for i := range want {
					if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1.0001*q {
						t.Errorf("%s: output %d = %v, want %v (%.2f quanta off)", who, i, got[i], want[i], d/q)
					}
				}
			}
			ref, err := reference.Run(m, [][]float32{in})
			if err != nil {
				t.Fatalf("reference: %v", err)
			}
			within("reference", ref[0])
			var first []float32
			for _, tier := range kernels.Available() {
				for _, threads := range []int{1, 3} {
					e, err := engine.New(m, engine.Options{Tier: tier, ForceTier: true, Threads: threads})
					if err != nil {
						t.Fatalf("New: %v", err)
					}
					for _, l := range e.Layers() {
						if (l.Op == model.OpConv || l.Op == model.OpGemm || l.Op == model.OpMatMul) && !strings.HasPrefix(l.Kernel, "qs8-") {
							t.Errorf("%s %q runs on %s, not the int8 kernels", l.Op, l.Name, l.Kernel)
						}
					}
					s := e.NewSession()
					out, err := s.Run(in)
					if err != nil {
						t.Fatal(err)
					}
					within(tier.String(), out)
					if first == nil {
						first = append([]float32(nil), out...)
					}
					for i := range out {
						if math.Float32bits(out[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%s/%d threads: output %d = %v, %v on the first tier", tier, threads, i, out[i], first[i])
						}
					}
					s.Close()
				}
			}
		})
	}
}
