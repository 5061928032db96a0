package engine_test

import (
	"fmt"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
)

// Build a one-layer model (a 1×1 convolution that swaps two channels and
// applies ReLU), plan it, and run it.
func Example() {
	g := model.Graph{
		Inputs:  []model.Value{{Name: "x", Shape: []int64{1, 2, 1, 2}}},
		Outputs: []model.Value{{Name: "y"}},
		Nodes: []model.Node{{
			Op: model.OpConv, Name: "swap", Inputs: []string{"x", "w"}, Outputs: []string{"y"},
			Attrs: []model.Attr{{Name: "activation", Kind: model.AttrString, String: model.ActRelu}},
		}},
		Initializers: []model.Tensor{
			model.NewFloat32Tensor("w", []int64{2, 2, 1, 1}, []float32{0, 1, 1, 0}),
		},
	}
	m, err := model.New(model.Metadata{Name: "swap", InputLayout: "NCHW", ChannelOrder: "RGB"}, g)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := engine.New(m, engine.Options{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := e.NewSession()
	defer s.Close()
	// NCHW input: channel 0 = [1, -2], channel 1 = [3, 4].
	out, err := s.Run([]float32{1, -2, 3, 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.OutputShapes()[0], out)
	// Output: [1 2 1 2] [3 4 1 0]
}
