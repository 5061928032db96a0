package model_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

// FuzzDecode feeds arbitrary bytes to Decode. Each input is tried as given
// and with its checksums repaired, so that mutations reach the parser and
// the validation instead of stopping at a CRC. Properties: no panic; every
// error wraps ErrCorrupt; anything that decodes re-encodes to exactly the
// same bytes (the encoding is canonical) and decodes again to the same
// fingerprint.
func FuzzDecode(f *testing.F) {
	valid, err := model.Encode(modeltest.Tiny(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(valid[:hdrSize])
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	dup := bytes.Clone(valid)
	replaceAll(f, dup, "graph", "fc.weight", "conv.bias")
	f.Add(fixCRCs(dup))
	kind := bytes.Clone(valid)
	sec := graphSection(f, kind)
	sec[find(f, sec, lp("group"), 0)+9] = 77
	f.Add(fixCRCs(kind))
	meta, g := modeltest.TinyParts()
	meta, g.Inputs[0].Shape[0] = model.Metadata{}, -1
	if m, err := model.New(meta, g); err == nil {
		b, _ := model.Encode(m)
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
		check(t, fixCRCs(bytes.Clone(data)))
	})
}

func check(t *testing.T, data []byte) {
	m, err := model.Decode(data)
	if err != nil {
		if !errors.Is(err, model.ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
		return
	}
	b, err := model.Encode(m)
	if err != nil {
		t.Fatalf("decoded model does not encode: %v", err)
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("re-encoding changed the file: %d bytes in, %d out", len(data), len(b))
	}
	m2, err := model.Decode(b)
	if err != nil {
		t.Fatalf("re-encoded model does not decode: %v", err)
	}
	if m2.Fingerprint() != m.Fingerprint() {
		t.Fatal("fingerprint changed across re-encoding")
	}
}
