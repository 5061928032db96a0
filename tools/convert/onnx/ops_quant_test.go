package onnx

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/signet-go/signet/model"
)

// rawTensor writes a TensorProto of ONNX type dt with raw_data.
func rawTensor(name string, dims []int64, dt int64, data []byte) *pb {
	t := &pb{}
	t.ints(1, dims, false)
	t.varint(2, dt)
	t.str(8, name)
	t.bytes(9, data)
	return t
}

// qdqConv is input → Q → DQ → Conv(DQ(W per channel), DQ(int32 bias)) →
// Q → DQ, its activations of type act (int8 or uint8) with zero point z.
func qdqConv(act int64, z byte, wType int64, wZero []byte, extra ...attr) *mb {
	m := newModel(13, enc{})
	m.input("x", 1, 2, 4, 4)
	m.output("y", 1, 3, 4, 4)
	m.initF("xs", nil, []float32{0.02})
	zb := []byte{z}
	if act == 5 { // int16
		zb = append(zb, 0)
	}
	m.inits = append(m.inits, rawTensor("xz", nil, act, zb))
	m.node("QuantizeLinear", "q0", []string{"x", "xs", "xz"}, []string{"xq"}, extra...)
	m.node("DequantizeLinear", "dq0", []string{"xq", "xs", "xz"}, []string{"xd"})
	w := make([]byte, 3*2*3*3)
	for i := range w {
		w[i] = byte(i*37 + 11)
	}
	m.inits = append(m.inits, rawTensor("w", []int64{3, 2, 3, 3}, wType, w))
	m.initF("ws", []int64{3}, []float32{0.01, 0.02, 0.03})
	wIn := []string{"w", "ws"}
	if wZero != nil {
		m.inits = append(m.inits, rawTensor("wz", []int64{3}, wType, wZero))
		wIn = append(wIn, "wz")
	}
	m.node("DequantizeLinear", "dqw", wIn, []string{"wd"}, aInt("axis", 0))
	b := make([]byte, 12)
	for i := range 3 {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(100*i-50)))
	}
	m.inits = append(m.inits, rawTensor("b", []int64{3}, dtInt32, b))
	m.initF("bs", []int64{3}, []float32{0.02 * 0.01, 0.02 * 0.02, 0.02 * 0.03})
	m.node("DequantizeLinear", "dqb", []string{"b", "bs"}, []string{"bd"}, aInt("axis", 0))
	m.node("Conv", "conv", []string{"xd", "wd", "bd"}, []string{"c"}, aInts("pads", []int64{1, 1, 1, 1}, false))
	m.initF("ys", nil, []float32{0.05})
	m.inits = append(m.inits, rawTensor("yz", nil, act, zb))
	m.node("QuantizeLinear", "q1", []string{"c", "ys", "yz"}, []string{"yq"})
	m.node("DequantizeLinear", "dq1", []string{"yq", "ys", "yz"}, []string{"y"})
	return m
}

func TestConvertQDQ(t *testing.T) {
	for _, tc := range []struct {
		name         string
		m            *mb
		zero, wfirst int8 // native activation zero point, first weight
	}{
		{"int8", qdqConv(dtInt8, 0xfd, dtInt8, nil), -3, 11},
		{"uint8", qdqConv(dtUint8, 130, dtUint8, []byte{128, 128, 128}), 2, 11 - 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, _, _, err := convertGraph(tc.m.bytes(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, n := range g.Nodes {
				ops = append(ops, n.Op)
			}
			want := "QuantizeLinear DequantizeLinear DequantizeLinear DequantizeLinear Conv QuantizeLinear DequantizeLinear"
			if got := strings.Join(ops, " "); got != want {
				t.Fatalf("nodes %s, want %s", got, want)
			}
			init := map[string]model.Tensor{}
			for _, it := range g.Initializers {
				init[it.Name] = it
			}
			zp := init[g.Nodes[0].Inputs[2]]
			if zp.DType != model.Int8 || int8(zp.Data[0]) != tc.zero {
				t.Errorf("activation zero point %s %v, want int8 %d", zp.DType, zp.Data, tc.zero)
			}
			w := init[g.Nodes[2].Inputs[0]]
			if w.DType != model.Int8 || int8(w.Data[0]) != tc.wfirst {
				t.Errorf("weights %s starting %d, want int8 starting %d", w.DType, int8(w.Data[0]), tc.wfirst)
			}
			if a, ok := g.Nodes[2].Attr("axis"); !ok || a.Int != 0 {
				t.Errorf("weights' DequantizeLinear axis %v", g.Nodes[2].Attrs)
			}
			if b := init[g.Nodes[3].Inputs[0]]; b.DType != model.Int32 {
				t.Errorf("bias %s, want int32", b.DType)
			}
		})
	}
}

func TestConvertQDQRefusals(t *testing.T) {
	runtimeScale := qdqConv(dtInt8, 0, dtInt8, nil)
	runtimeScale.node("Abs", "abs", []string{"x"}, []string{"s"})
	runtimeScale.node("QuantizeLinear", "qs", []string{"x", "s", "xz"}, []string{"q2"})
	qlinear := newModel(13, enc{})
	qlinear.input("x", 1, 2, 4, 4)
	qlinear.output("y", 1, 2, 4, 4)
	qlinear.node("QLinearConv", "qc", []string{"x"}, []string{"y"})
	for _, tc := range []struct {
		name string
		m    *mb
		want string
	}{
		{"QLinearConv", qlinear, "operator-oriented quantisation; export QDQ"},
		{"block_size", qdqConv(dtInt8, 0, dtInt8, nil, aInt("block_size", 32)), "block quantisation"},
		{"int16", qdqConv(5, 0, dtInt8, nil), "quantised type int16"},
		{"int4-weights", qdqConv(dtInt8, 0, 22, nil), "element type"},
		{"runtime-scale", runtimeScale, "not a constant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := convertGraph(tc.m.bytes(), Options{})
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrUnsupported mentioning %q", err, tc.want)
			}
		})
	}
}
