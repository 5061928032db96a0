package main

import (
	"fmt"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
)

// ortRunner runs one ONNX model through ONNX Runtime's CPU execution
// provider. Input and output tensors are created once and bound to the
// session, so a timed Run does no Go-side allocation or copying, the same
// conditions signet's Session.Run works under.
type ortRunner struct {
	sess   *ort.AdvancedSession
	input  *ort.Tensor[float32]
	output *ort.Tensor[float32]
}

// initORT loads the shared library; it must be called once before newORT.
func initORT(libPath string) (version string, err error) {
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return "", err
	}
	return ort.GetVersion(), nil
}

// ortShapes reads the first input's and first output's shapes, with dynamic
// dimensions (batch) set to 1.
func ortShapes(onnxData []byte) (inName, outName string, inShape, outShape []int64, err error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(onnxData)
	if err != nil {
		return "", "", nil, nil, err
	}
	if len(ins) != 1 || len(outs) < 1 {
		return "", "", nil, nil, fmt.Errorf("model has %d inputs and %d outputs; the harness runs single-input models", len(ins), len(outs))
	}
	fix := func(s ort.Shape) []int64 {
		d := slices.Clone([]int64(s))
		for i := range d {
			if d[i] < 1 {
				d[i] = 1
			}
		}
		return d
	}
	return ins[0].Name, outs[0].Name, fix(ins[0].Dimensions), fix(outs[0].Dimensions), nil
}

func newORT(src ortSource, threads int, spin bool, input []float32) (*ortRunner, error) {
	inName, outName, inShape, outShape, err := ortShapes(src.data)
	if err != nil {
		return nil, err
	}
	return newORTSession(src, threads, spin, input, inName, outName, inShape, outShape)
}

// newORTSession makes a session with the harness's options (intra-op
// threads, one inter-op thread, sequential execution, all graph
// optimisations, spinning as asked) and binds its input and output tensors.
func newORTSession(src ortSource, threads int, spin bool, input []float32, inName, outName string, inShape, outShape []int64) (*ortRunner, error) {
	if n := product64(inShape); n != int64(len(input)) {
		return nil, fmt.Errorf("ONNX input %q has shape %v (%d elements), the harness input has %d", inName, inShape, n, len(input))
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	if err := opts.SetExecutionMode(ort.ExecutionModeSequential); err != nil {
		return nil, err
	}
	if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll); err != nil {
		return nil, err
	}
	spinValue := "0"
	if spin {
		spinValue = "1"
	}
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", spinValue); err != nil {
		return nil, err
	}
	r := &ortRunner{}
	if r.input, err = ort.NewTensor(ort.NewShape(inShape...), slices.Clone(input)); err != nil {
		return nil, err
	}
	if r.output, err = ort.NewEmptyTensor[float32](ort.NewShape(outShape...)); err != nil {
		r.Close()
		return nil, err
	}
	if r.sess, err = src.newSession(inName, outName, r.input, r.output, opts); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *ortRunner) Run() error { return r.sess.Run() }

func (r *ortRunner) Output() []float32 { return r.output.GetData() }

func (r *ortRunner) Close() {
	if r.sess != nil {
		r.sess.Destroy()
	}
	if r.output != nil {
		r.output.Destroy()
	}
	if r.input != nil {
		r.input.Destroy()
	}
}

func product64(s []int64) int64 {
	n := int64(1)
	for _, d := range s {
		n *= d
	}
	return n
}
