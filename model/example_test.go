package model_test

import (
	"fmt"

	"github.com/signet-go/signet/model"
)

// A model is built from metadata and a graph, encoded to the file format and
// decoded back; the fingerprint identifies what the model computes.
func Example() {
	meta := model.Metadata{
		Name:         "scale",
		InputLayout:  "NCHW",
		ChannelOrder: "RGB",
		Mean:         []float32{0.5, 0.5, 0.5},
		Std:          []float32{0.25, 0.25, 0.25},
		OutputName:   "y",
		OutputSize:   3 * 2 * 2,
	}
	g := model.Graph{
		Inputs:  []model.Value{{Name: "x", Shape: []int64{1, 3, 2, 2}}},
		Outputs: []model.Value{{Name: "y", Shape: []int64{1, 3, 2, 2}}},
		Initializers: []model.Tensor{
			model.NewFloat32Tensor("k", []int64{1}, []float32{2}),
		},
		Nodes: []model.Node{
			{Op: model.OpMul, Name: "double", Inputs: []string{"x", "k"}, Outputs: []string{"y"}},
		},
	}
	m, err := model.New(meta, g)
	if err != nil {
		fmt.Println(err)
		return
	}
	file, err := model.Encode(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := model.Decode(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	k, _ := loaded.Initializer("k")
	fmt.Println("file bytes:", len(file))
	fmt.Println("node:", loaded.Graph.Nodes[0].Op, loaded.Graph.Nodes[0].Inputs)
	fmt.Println("k:", k.Float32s())
	fmt.Println("same fingerprint:", loaded.Fingerprint() == m.Fingerprint())

	_, err = model.Decode(file[:len(file)-1])
	fmt.Println(err)
	// Output:
	// file bytes: 388
	// node: Mul [x k]
	// k: [2]
	// same fingerprint: true
	// model: truncated: header declares 388 bytes, file has 387
}
