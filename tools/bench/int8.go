package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/tools/convert/onnx"
	"github.com/signet-go/signet/tools/convert/quant"
)

// int8Model is one ONNX model converted and quantised by signet, once for
// all thread counts.
type int8Model struct {
	model    *model.Model // decoded from its encoding, as a file would be loaded
	fp32Size int          // bytes of the float32 .sgn encoding
	int8Size int          // bytes of the int8 .sgn encoding
	report   *quant.Report
	norm     string // the preprocessing the calibration images went through
}

// int8Result is the int8 side of one (model, thread count) measurement.
type int8Result struct {
	*int8Model
	Timing     timing
	CosineFP32 float64 // of signet int8's output to signet float32's, on the harness input
	CosineORT  float64 // of signet int8's output to ONNX Runtime float32's
	AllocsInt8 float64 // heap allocations per inference
	AllocsFP32 float64
	Int8FLOPs  float64 // share of the FLOPs in int8 kernels
}

// imagenetNorm is torchvision's input normalisation, the preprocessing of
// models that carry none of their own.
var imagenetNorm = model.Metadata{ChannelOrder: "RGB", Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}

// inputNorm returns the preprocessing of the ONNX model at path: that of
// the signet model of the same name beside it (signs.sgn next to
// signs.onnx) when there is one, else ImageNet's.
func inputNorm(path string) (model.Metadata, string) {
	sgn := strings.TrimSuffix(path, filepath.Ext(path)) + ".sgn"
	if data, err := os.ReadFile(sgn); err == nil {
		if m, err := model.Decode(data); err == nil && len(m.Meta.Mean) > 0 {
			return m.Meta, "mean/std of " + filepath.Base(sgn)
		}
	}
	return imagenetNorm, "ImageNet mean/std"
}

// quantizeModel converts the ONNX model with its input normalisation and
// quantises it with quant.Quantize on the calibration images, preprocessed
// by the engine as at inference (what `convert -quantize int8 -calib`
// does).
func quantizeModel(cfg *config, path string) (*int8Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	norm, normFrom := inputNorm(path)
	m, err := onnx.Convert(data, onnx.Options{Name: displayName(cfg.root, path), Mean: norm.Mean, Std: norm.Std, ChannelOrder: norm.ChannelOrder})
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	calib, err := quant.Images(m, cfg.calib, cfg.calibN)
	if err != nil {
		return nil, err
	}
	q, rep, err := quant.Quantize(m, calib, quant.Options{Engine: engine.Options{Threads: slices.Max(cfg.threads)}})
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	fp32, err := model.Encode(m)
	if err != nil {
		return nil, err
	}
	qdata, err := model.Encode(q)
	if err != nil {
		return nil, err
	}
	if q, err = model.Decode(qdata); err != nil {
		return nil, fmt.Errorf("decoding the int8 model: %w", err)
	}
	return &int8Model{model: q, fp32Size: len(fp32), int8Size: len(qdata), report: rep,
		norm: fmt.Sprintf("%s, %d calibration images", normFrom, rep.Images)}, nil
}

// activationRanges returns the int8 encoding (scale, zero point) of every
// tensor the quantised model carries as int8, under the tensor's name in
// the float32 graph: what an ONNX QDQ file of the same quantisation needs
// besides the weights, which follow from the scheme.
func (q *int8Model) activationRanges() (map[string][2]float64, error) {
	out := map[string][2]float64{}
	for _, n := range q.model.Graph.Nodes {
		if n.Op != "QuantizeLinear" || len(n.Inputs) != 3 {
			continue
		}
		s, ok1 := q.model.Initializer(n.Inputs[1])
		z, ok2 := q.model.Initializer(n.Inputs[2])
		if !ok1 || !ok2 || s.NumElements() != 1 || len(z.Data) != 1 || z.DType != model.Int8 {
			return nil, fmt.Errorf("QuantizeLinear %q: not a per-tensor int8 encoding", n.Name)
		}
		out[strings.TrimSuffix(n.Inputs[0], "::f")] = [2]float64{float64(s.Float32s()[0]), float64(int8(z.Data[0]))}
	}
	return out, nil
}

// writeRanges writes the activation ranges of q as JSON to
// dir/<model>.ranges.json.
func writeRanges(dir, modelPath string, q *int8Model) error {
	r, err := q.activationRanges()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, shortName(modelPath)+".ranges.json"), append(b, '\n'), 0o644)
}
