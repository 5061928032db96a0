package model_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

var update = flag.Bool("update", false, "rewrite testdata/tiny.sgn from modeltest.Tiny")

func sameModel(t *testing.T, want, got *model.Model) {
	t.Helper()
	if !reflect.DeepEqual(want.Meta, got.Meta) {
		t.Errorf("metadata differs:\nwant %+v\n got %+v", want.Meta, got.Meta)
	}
	if !reflect.DeepEqual(want.Graph, got.Graph) {
		t.Errorf("graph differs:\nwant %+v\n got %+v", want.Graph, got.Graph)
	}
	if want.Fingerprint() != got.Fingerprint() {
		t.Errorf("fingerprint %s, want %s", got.FingerprintHex(), want.FingerprintHex())
	}
}

// roundTrip encodes m, decodes the bytes and checks that the result is the
// same model; it returns the bytes and the decoded model.
func roundTrip(t *testing.T, m *model.Model) ([]byte, *model.Model) {
	t.Helper()
	b, err := model.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, m, got)
	return b, got
}

func TestRoundTrip(t *testing.T) {
	m := modeltest.Tiny(t)
	b, got := roundTrip(t, m)
	again, err := model.Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Error("re-encoding a decoded model changed its bytes")
	}
	var buf bytes.Buffer
	if err := model.Write(&buf, m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Error("Write and Encode disagree")
	}
	if fresh := modeltest.Tiny(t); fresh.Fingerprint() != m.Fingerprint() {
		t.Error("fingerprint differs between two builds of the same model")
	}
	if len(m.FingerprintHex()) != 64 {
		t.Errorf("FingerprintHex %q", m.FingerprintHex())
	}
}

// TestGolden pins the byte format: a change to the encoding that would make
// existing files unreadable, or change their fingerprints, fails here.
func TestGolden(t *testing.T) {
	b := tinyBytes(t)
	path := filepath.Join("testdata", "tiny.sgn")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding of the tiny model differs from %s (run with -update only for a deliberate format change)", path)
	}
	m, err := model.Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, modeltest.Tiny(t), m)
}

func TestTensorsAligned(t *testing.T) {
	b := tinyBytes(t)
	m, err := model.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	base := uintptr(unsafe.Pointer(&b[0]))
	for _, ts := range m.Graph.Initializers {
		p := uintptr(unsafe.Pointer(&ts.Data[0]))
		if p < base || p >= base+uintptr(len(b)) {
			t.Errorf("tensor %q does not alias the input", ts.Name)
		}
		if (p-base)%model.Alignment != 0 {
			t.Errorf("tensor %q at file offset %d, not %d-aligned", ts.Name, p-base, model.Alignment)
		}
		if cap(ts.Data) != len(ts.Data) {
			t.Errorf("tensor %q: cap %d > len %d lets appends overwrite the file", ts.Name, cap(ts.Data), len(ts.Data))
		}
	}
}

func TestOpen(t *testing.T) {
	want := modeltest.Tiny(t)
	path := filepath.Join(t.TempDir(), "tiny.sgn")
	if err := model.WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*model.Model, error){
		"Open":     model.Open,
		"OpenRead": model.OpenRead,
	} {
		t.Run(name, func(t *testing.T) {
			m, err := open(path)
			if err != nil {
				t.Fatal(err)
			}
			sameModel(t, want, m)
			for _, ts := range m.Graph.Initializers {
				// Both paths promise in-memory alignment: mappings are
				// page-aligned, the read buffer is aligned by hand.
				if p := uintptr(unsafe.Pointer(&ts.Data[0])); p%model.Alignment != 0 {
					t.Errorf("tensor %q at address %#x, not %d-aligned", ts.Name, p, model.Alignment)
				}
			}
			w, ok := m.Initializer("conv.weight")
			if !ok || w.NumElements() != 4*3*3*3 {
				t.Fatalf("Initializer(conv.weight) = %v, %v", w, ok)
			}
			if _, ok := m.Initializer("nope"); ok {
				t.Error("Initializer found a missing name")
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := model.Open(filepath.Join(dir, "missing.sgn")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.sgn")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.sgn")
	b := tinyBytes(t)
	if err := os.WriteFile(bad, b[:len(b)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*model.Model, error){model.Open, model.OpenRead} {
		for _, p := range []string{empty, bad} {
			if _, err := open(p); !errors.Is(err, model.ErrTruncated) {
				t.Errorf("%s: got %v, want ErrTruncated", filepath.Base(p), err)
			}
		}
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.sgn")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := modeltest.Tiny(t)
	if err := model.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tinyBytes(t)) {
		t.Error("file content differs from Encode")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after WriteFile, want 1 (temporary file left behind?)", len(entries))
	}
	if err := model.WriteFile(filepath.Join(dir, "no-such-dir", "m.sgn"), m); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func TestUnbuiltModel(t *testing.T) {
	var m model.Model
	if _, err := model.Encode(&m); !errors.Is(err, model.ErrInvalidGraph) {
		t.Errorf("Encode(zero Model): %v", err)
	}
	if _, err := model.Encode(nil); !errors.Is(err, model.ErrInvalidGraph) {
		t.Errorf("Encode(nil): %v", err)
	}
}

// TestFingerprintCoverage checks the documented coverage: descriptive
// metadata leaves the fingerprint alone, anything that changes what the
// model computes changes it.
func TestFingerprintCoverage(t *testing.T) {
	base := modeltest.Tiny(t).Fingerprint()
	type mut func(*model.Metadata, *model.Graph)
	same := map[string]mut{
		"name":              func(m *model.Metadata, _ *model.Graph) { m.Name = "other" },
		"extra":             func(m *model.Metadata, _ *model.Graph) { m.Extra["k"] = "v" },
		"converter version": func(m *model.Metadata, _ *model.Graph) { m.ConverterVersion = "x" },
		"source sha":        func(m *model.Metadata, _ *model.Graph) { m.SourceSHA256[0] ^= 1 },
		"output size":       func(m *model.Metadata, _ *model.Graph) { m.OutputSize = 0 },
		"l2 flag":           func(m *model.Metadata, _ *model.Graph) { m.L2Normalized = false },
	}
	differ := map[string]mut{
		"mean":          func(m *model.Metadata, _ *model.Graph) { m.Mean[1] += 0.001 },
		"std":           func(m *model.Metadata, _ *model.Graph) { m.Std[2] *= 2 },
		"no mean":       func(m *model.Metadata, _ *model.Graph) { m.Mean = nil },
		"channel order": func(m *model.Metadata, _ *model.Graph) { m.ChannelOrder = "BGR" },
		"layout":        func(m *model.Metadata, _ *model.Graph) { m.InputLayout = "" },
		"output name":   func(m *model.Metadata, _ *model.Graph) { m.OutputName = "" },
		"weight byte":   func(_ *model.Metadata, g *model.Graph) { g.Initializers[0].Data[5] ^= 1 },
		"attribute":     func(_ *model.Metadata, g *model.Graph) { g.Nodes[0].Attrs[0].Ints[0] = 5 },
		"node order": func(_ *model.Metadata, g *model.Graph) {
			g.Nodes = append(g.Nodes, model.Node{Op: model.OpRelu, Inputs: []string{"image"}, Outputs: []string{"spare"}})
		},
		"input shape": func(_ *model.Metadata, g *model.Graph) { g.Inputs[0].Shape[0] = -1 },
	}
	for want, cases := range map[bool]map[string]mut{true: same, false: differ} {
		for name, f := range cases {
			meta, g := modeltest.TinyParts()
			f(&meta, &g)
			m, err := model.New(meta, g)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if (m.Fingerprint() == base) != want {
				t.Errorf("%s: fingerprint equal = %v, want %v", name, m.Fingerprint() == base, want)
			}
		}
	}
}

type failingWriter struct{ left int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errDiskFull
	}
	w.left -= len(p)
	return len(p), nil
}

// TestWriteError checks that a failing writer's error comes back from
// Write wherever it fails: in the header, a section, or tensor data larger
// than Write's buffer.
func TestWriteError(t *testing.T) {
	meta, g := modeltest.TinyParts()
	big := make([]float32, 40000)
	g.Initializers = append(g.Initializers, model.NewFloat32Tensor("big", []int64{int64(len(big))}, big))
	m, full := newEncoded(t, meta, g)
	size := len(full)
	for _, n := range []int{0, 10, 200, 70000, 100000, size - 1} {
		if err := model.Write(&failingWriter{left: n}, m); !errors.Is(err, errDiskFull) {
			t.Errorf("writer failing after %d of %d bytes: got %v", n, size, err)
		}
	}
	if err := model.Write(&failingWriter{left: size}, m); err != nil {
		t.Errorf("writer with exactly enough room: %v", err)
	}
}
