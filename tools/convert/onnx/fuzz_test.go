package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func isSentinel(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrOptions)
}

func FuzzParseModel(f *testing.F) {
	for _, e := range encodings {
		f.Add(convBNRelu(e))
	}
	f.Add(smallModel())
	f.Add(normalizeModel(true))
	f.Add(normalizeModel(false))
	// The ONNX node cases cover every supported operator and attribute.
	cases, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "onnx-node", "test_*", "model.onnx"))
	for _, c := range cases {
		if b, err := os.ReadFile(c); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Convert(data, Options{})
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(m.Graph.Nodes) == 0 && len(m.Graph.Outputs) == 0 {
			t.Fatal("model without outputs")
		}
	})
}

func FuzzReadTensor(f *testing.F) {
	for _, e := range encodings {
		f.Add(floatTensor("t", []int64{2, 3}, values(6, 1), e).b)
		f.Add(int64Tensor("i", []int64{3}, []int64{1, -2, 3}, e).b)
	}
	pbs, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "onnx-node", "test_*", "test_data_set_0", "input_0.pb"))
	for i, p := range pbs {
		if b, err := os.ReadFile(p); err == nil && i%8 == 0 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tn, err := ReadTensor(data)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		n, err := numElements(tn.Shape)
		if err != nil || n*tn.DType.Size() != len(tn.Data) {
			t.Fatalf("tensor of shape %v and type %v has %d bytes", tn.Shape, tn.DType, len(tn.Data))
		}
	})
}
