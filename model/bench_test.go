package model_test

import (
	"path/filepath"
	"testing"

	"github.com/signet-go/signet/model"
)

// benchModel has about the weight volume of ResNet-18 (11.7 M floats) in a
// few tensors, to measure what Decode and Open cost per byte: two passes
// over the data (CRC-32C, SHA-256), no copies.
func benchModel(b *testing.B) (*model.Model, []byte) {
	g := model.Graph{Inputs: []model.Value{{Name: "x", Shape: []int64{1, 512}}}}
	prev := "x"
	for i, n := range []int{2_359_296, 2_359_296, 2_359_296, 2_359_296, 2_269_696} {
		w := make([]float32, n)
		for j := range w {
			w[j] = float32(j%251) * 0.001
		}
		name := "w" + string(rune('0'+i))
		g.Initializers = append(g.Initializers, model.NewFloat32Tensor(name, []int64{int64(n)}, w))
		out := "y" + string(rune('0'+i))
		g.Nodes = append(g.Nodes, model.Node{Op: model.OpMul, Inputs: []string{prev, name}, Outputs: []string{out}})
		prev = out
	}
	g.Outputs = []model.Value{{Name: prev}}
	return newEncoded(b, model.Metadata{}, g)
}

// benchCodec times step on benchModel's model and bytes, reporting the
// throughput in file bytes.
func benchCodec(b *testing.B, step func(m *model.Model, data []byte) error) {
	m, data := benchModel(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := step(m, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	benchCodec(b, func(_ *model.Model, data []byte) error {
		_, err := model.Decode(data)
		return err
	})
}

func BenchmarkOpen(b *testing.B) {
	m, _ := benchModel(b)
	path := filepath.Join(b.TempDir(), "m.sgn")
	if err := model.WriteFile(path, m); err != nil {
		b.Fatal(err)
	}
	for name, open := range map[string]func(string) (*model.Model, error){"mmap": model.Open, "read": model.OpenRead} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				m, err := open(path)
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	benchCodec(b, func(m *model.Model, _ []byte) error {
		_, err := model.Encode(m)
		return err
	})
}
