package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/signet-go/signet/tools/convert/onnx"
)

// Convert a PyTorch export into a native model. The VGG-style encoder in the
// repository's test data ends in F.normalize, which becomes one L2Normalize
// node, and its BatchNormalization layers fold into the convolutions.
func ExampleConvert() {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "torchvision", "vgg_l2", "model.onnx"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := onnx.Convert(data, onnx.Options{
		Name: "vgg_l2",
		Mean: []float32{0.485, 0.456, 0.406},
		Std:  []float32{0.229, 0.224, 0.225},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := m.Graph.Nodes[len(m.Graph.Nodes)-1]
	fmt.Println(len(m.Graph.Nodes), "nodes, last:", last.Op)
	fmt.Println("embedding:", m.Meta.OutputSize, "values, normalised:", m.Meta.L2Normalized)
	// Output:
	// 16 nodes, last: L2Normalize
	// embedding: 128 values, normalised: true
}
