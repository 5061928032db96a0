// Package modeltest builds small, valid models for the tests of packages that
// load, run or transform models, so that they need no model files on disk.
package modeltest

import (
	"math"
	"testing"

	"github.com/signet-go/signet/model"
)

// Tiny model dimensions: an NCHW RGB image of TinySize×TinySize pixels in,
// an L2-normalised embedding of TinyDim floats out.
const (
	TinySize = 8
	TinyDim  = 4
)

// TinyParts returns the metadata and graph of a small embedding network,
// freshly allocated on every call so callers may alter them (for example to
// build invalid variants):
//
//	image [1,3,8,8] → Conv 3×3 pad 1 (4 filters) → Relu → GlobalAveragePool
//	→ Reshape [1,4] → Gemm (transB) → L2Normalize(axis 1) → embedding [1,4]
//
// Weights are fixed values from a sine, so every call returns the same
// model and the same fingerprint.
func TinyParts() (model.Metadata, model.Graph) {
	const c = 3
	meta := model.Metadata{
		Name:             "tiny",
		InputLayout:      "NCHW",
		ChannelOrder:     "RGB",
		Mean:             []float32{0.485, 0.456, 0.406},
		Std:              []float32{0.229, 0.224, 0.225},
		OutputName:       "embedding",
		OutputSize:       TinyDim,
		L2Normalized:     true,
		ConverterVersion: "modeltest",
		Extra:            map[string]string{"license": "CC0-1.0", "purpose": "tests"},
	}
	for i := range meta.SourceSHA256 {
		meta.SourceSHA256[i] = byte(i)
	}
	g := model.Graph{
		Inputs:  []model.Value{{Name: "image", Shape: []int64{1, c, TinySize, TinySize}}},
		Outputs: []model.Value{{Name: "embedding", Shape: []int64{1, TinyDim}}},
		Initializers: []model.Tensor{
			model.NewFloat32Tensor("conv.weight", []int64{TinyDim, c, 3, 3}, wave(TinyDim*c*9, 0.3)),
			model.NewFloat32Tensor("conv.bias", []int64{TinyDim}, wave(TinyDim, 0.05)),
			model.NewInt64Tensor("flat.shape", []int64{2}, []int64{1, TinyDim}),
			model.NewFloat32Tensor("fc.weight", []int64{TinyDim, TinyDim}, wave(TinyDim*TinyDim, 0.5)),
			model.NewFloat32Tensor("fc.bias", []int64{TinyDim}, wave(TinyDim, 0.1)),
		},
		Nodes: []model.Node{
			{Op: model.OpConv, Name: "conv", Inputs: []string{"image", "conv.weight", "conv.bias"}, Outputs: []string{"conv.out"},
				Attrs: []model.Attr{
					{Name: "kernel_shape", Kind: model.AttrInts, Ints: []int64{3, 3}},
					{Name: "pads", Kind: model.AttrInts, Ints: []int64{1, 1, 1, 1}},
					{Name: "strides", Kind: model.AttrInts, Ints: []int64{1, 1}},
					{Name: "dilations", Kind: model.AttrInts, Ints: []int64{1, 1}},
					{Name: "group", Kind: model.AttrInt, Int: 1},
					{Name: "auto_pad", Kind: model.AttrString, String: "NOTSET"},
				}},
			{Op: model.OpRelu, Name: "relu", Inputs: []string{"conv.out"}, Outputs: []string{"relu.out"}},
			{Op: model.OpGlobalAveragePool, Name: "pool", Inputs: []string{"relu.out"}, Outputs: []string{"pool.out"}},
			{Op: model.OpReshape, Name: "flat", Inputs: []string{"pool.out", "flat.shape"}, Outputs: []string{"flat.out"}},
			{Op: model.OpGemm, Name: "fc", Inputs: []string{"flat.out", "fc.weight", "fc.bias"}, Outputs: []string{"fc.out"},
				Attrs: []model.Attr{
					{Name: "alpha", Kind: model.AttrFloat, Float: 1},
					{Name: "beta", Kind: model.AttrFloat, Float: 1},
					{Name: "transB", Kind: model.AttrInt, Int: 1},
				}},
			{Op: model.OpL2Normalize, Name: "norm", Inputs: []string{"fc.out"}, Outputs: []string{"embedding"},
				Attrs: []model.Attr{
					{Name: "axis", Kind: model.AttrInt, Int: 1},
					{Name: "epsilon", Kind: model.AttrFloat, Float: 1e-12},
				}},
		},
	}
	return meta, g
}

// Tiny returns the model of TinyParts, built with model.New.
func Tiny(tb testing.TB) *model.Model {
	tb.Helper()
	m, err := model.New(TinyParts())
	if err != nil {
		tb.Fatalf("modeltest: building the tiny model: %v", err)
	}
	return m
}

func wave(n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * float32(math.Sin(float64(i)*0.7+0.3))
	}
	return v
}
