package model_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/shape"
	"github.com/signet-go/signet/internal/testalloc"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

// FuzzDecode feeds arbitrary bytes to Decode. Each input is tried as given
// and with its checksums repaired, so that mutations reach the parser and
// the validation instead of stopping at a CRC. Properties: no panic; every
// error wraps ErrCorrupt; anything that decodes re-encodes to exactly the
// same bytes (the encoding is canonical) and decodes again to the same
// fingerprint; and decoding, then planning and running the model under a
// small engine budget, allocates at most fuzzAllocBound — a hostile file
// cannot make the loader or the planner allocate past what it states.

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

	// A tiny valid file whose input declares 46340² pixels (8.6 GB of
	// arena): the budget, not the machine, must refuse it.
	meta, g = modeltest.TinyParts()
	g.Inputs[0].Shape = []int64{1, 3, 46340, 46340}
	if m, err := model.New(meta, g); err == nil {
		b, _ := model.Encode(m)
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
		check(t, fixCRCs(bytes.Clone(data)))
	})
}

// Budgets of the fuzz target: the engine may hold fuzzMemory bytes and do
// fuzzWork operations; decoding may allocate a few times the file.
const (
	fuzzMemory = 16 << 20
	fuzzWork   = 1 << 22
)

func fuzzAllocBound(n int) uint64 { return uint64(fuzzMemory) + 16*uint64(n) + 4<<20 }

// planAndRun plans m under the fuzz budgets and, when that succeeds, runs
// it once on zeros. It returns the bytes of the caller's own input and
// output slices, which are the caller's memory, not the engine's.
func planAndRun(t *testing.T, m *model.Model) (callerBytes uint64) {
	e, err := engine.New(m, engine.Options{MemoryLimit: fuzzMemory, MaxWork: fuzzWork})
	if err != nil {
		return 0
	}
	if got := e.MemoryBytes(); got > fuzzMemory {
		t.Fatalf("planned %d bytes under a %d budget", got, fuzzMemory)
	}
	s := e.NewSession()
	defer s.Close()
	var ins, outs [][]float32
	for _, sh := range e.InputShapes() {
		n := numel(t, sh)
		ins = append(ins, make([]float32, n))
		callerBytes += 4 * uint64(n)
	}
	for _, sh := range e.OutputShapes() {
		n := numel(t, sh)
		outs = append(outs, make([]float32, n))
		callerBytes += 4 * uint64(n)
	}
	if err := s.RunMulti(ins, outs); err != nil {
		t.Fatalf("planned model does not run: %v", err)
	}
	return callerBytes
}

// numel is the element count of a shape the engine planned; one whose
// float32 bytes overflow fails t, as the planner must not accept it.
func numel(t *testing.T, s []int) int {
	n, ok := shape.Prod(s, math.MaxInt/4)
	if !ok {
		t.Fatalf("planned shape %v has no representable size", s)
	}
	return n
}

func check(t *testing.T, data []byte) {
	var (
		m           *model.Model
		err         error
		callerBytes uint64
	)
	got := testalloc.Bytes(func() {
		m, err = model.Decode(data)
		if err == nil {
			callerBytes = planAndRun(t, m)
		}
	})
	if bound := fuzzAllocBound(len(data)) + callerBytes; got > bound {
		t.Fatalf("%d-byte file: decoding, planning and running allocated %d bytes, bound %d", len(data), got, bound)
	}
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
