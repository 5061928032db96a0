package onnx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/signet-go/signet/model"
)

// nodeCasesUnsupported are ONNX backend node cases in testdata/onnx-node the
// converter refuses on purpose, with the reason.
var nodeCasesUnsupported = map[string]string{
	"test_averagepool_1d_default":          "1-D pooling",
	"test_maxpool_1d_default":              "1-D pooling",
	"test_batchnorm_epsilon_training_mode": "training-mode BatchNormalization",
	"test_batchnorm_example_training_mode": "training-mode BatchNormalization",
	"test_reshape_allowzero_reordered":     "empty tensors",
	"test_split_zero_size_splits":          "empty tensors",
	"test_slice_start_out_of_bounds":       "empty tensors",
}

// TestNodeCases converts every ONNX backend node case in the repository.
// Graph inputs after the first are bound to their test values with
// Options.Constants when the plain conversion refuses a computed operand
// (ONNX tests feed Conv weights, Gemm B, Clip bounds as inputs).
func TestNodeCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "onnx-node", "test_*"))
	if err != nil || len(dirs) == 0 {
		t.Skip("no ONNX node cases in testdata/onnx-node")
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		name := filepath.Base(d)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(d, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Convert(data, Options{})
			if errors.Is(err, ErrUnsupported) {
				_, err = Convert(data, Options{Constants: bindInputs(t, d, data)})
			}
			why, refused := nodeCasesUnsupported[name]
			switch {
			case refused && err == nil:
				t.Fatalf("converted, but expected to refuse it (%s)", why)
			case refused && !errors.Is(err, ErrUnsupported):
				t.Fatalf("error %v, want ErrUnsupported (%s)", err, why)
			case !refused && err != nil:
				t.Fatal(err)
			}
		})
	}
}

// bindInputs reads the case's input_1.pb, input_2.pb, ... as constants for
// graph inputs 1, 2, ...
func bindInputs(t *testing.T, dir string, data []byte) map[string]model.Tensor {
	mp, err := parseModel(data)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]model.Tensor{}
	for i := 1; i < len(mp.graph.inputs); i++ {
		b, err := os.ReadFile(filepath.Join(dir, "test_data_set_0", "input_"+strconv.Itoa(i)+".pb"))
		if err != nil {
			break // an omitted optional input
		}
		tn, err := ReadTensor(b)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		consts[mp.graph.inputs[i].name] = tn
	}
	return consts
}

// TestTorchvisionModels converts the small torchvision exports in testdata
// and checks what the passes must have done to each.
func TestTorchvisionModels(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "torchvision", "*", "model.onnx"))
	if err != nil || len(dirs) == 0 {
		t.Skip("no torchvision exports in testdata/torchvision")
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, rep, err := ConvertReport(data, Options{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range []string{"Identity", "Dropout", "Shape", "Gather", "Constant"} {
				if rep.OpsAfter[op] != 0 {
					t.Errorf("%d %s nodes left", rep.OpsAfter[op], op)
				}
			}
			// An activation may stay only where no Conv/Gemm/MatMul feeds it
			// alone (ResNet's Relu after the residual Add).
			prod, uses := map[string]string{}, map[string]int{}
			for _, n := range m.Graph.Nodes {
				for _, o := range n.Outputs {
					prod[o] = n.Op
				}
				for _, in := range n.Inputs {
					uses[in]++
				}
			}
			for _, n := range m.Graph.Nodes {
				switch n.Op {
				case "BatchNormalization":
					// It stays only where no Conv feeds it alone (DenseNet's
					// BatchNormalization of a Concat).
					if p := prod[n.Inputs[0]]; p == "Conv" && uses[n.Inputs[0]] == 1 {
						t.Errorf("%s %q not folded into its Conv", n.Op, n.Name)
					}
				case "Relu", "Clip", "Sigmoid", "HardSwish", "HardSigmoid", "LeakyRelu", "SiLU":
					if p := prod[n.Inputs[0]]; (p == "Conv" || p == "Gemm" || p == "MatMul") && uses[n.Inputs[0]] == 1 {
						t.Errorf("%s %q not fused into its %s", n.Op, n.Name, p)
					}
				}
			}
			if rep.OpsBefore["Conv"] != rep.OpsAfter["Conv"] {
				t.Errorf("Conv count changed: %d → %d", rep.OpsBefore["Conv"], rep.OpsAfter["Conv"])
			}
			if m.Meta.L2Normalized != (name == "vgg_l2") {
				t.Errorf("L2Normalized = %v", m.Meta.L2Normalized)
			}
			if s := m.Graph.Inputs[0].Shape; len(s) != 4 || s[0] != 1 {
				t.Errorf("input shape %v", s)
			}
			if m.Meta.OutputSize <= 0 {
				t.Errorf("output size %d", m.Meta.OutputSize)
			}
			// Conversion is deterministic to the byte.
			again, err := Convert(data, Options{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			b1, err1 := model.Encode(m)
			b2, err2 := model.Encode(again)
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
				t.Errorf("two conversions differ (%v, %v)", err1, err2)
			}
		})
	}
}
