package gallery

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model/modeltest"
)

// tinyEncoder is an EngineEncoder on the tiny test network run with o,
// closed when t ends.
func tinyEncoder(t *testing.T, o engine.Options) *EngineEncoder {
	t.Helper()
	e, err := engine.New(modeltest.Tiny(t), o)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewEngineEncoder(e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

// TestEngineEncoder runs the real engine on the tiny test network: crops in,
// enrolment, matching, and a file bound to the model's fingerprint.
func TestEngineEncoder(t *testing.T) {
	m := modeltest.Tiny(t)
	enc := tinyEncoder(t, engine.Options{Threads: 1})
	if enc.Dim() != modeltest.TinyDim || enc.Fingerprint() != m.Fingerprint() {
		t.Fatalf("dim %d, fingerprint %x", enc.Dim(), enc.Fingerprint())
	}
	g, err := New(enc.Dim(), enc.Fingerprint(), noHoldout())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(70, 1))
	img := signImage(0, rng)
	v, err := enc.Embed(img)
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if math.Abs(ss-1) > 1e-4 {
		t.Fatalf("embedding not unit length: %v", v)
	}
	again, _ := enc.Embed(img)
	if fmt.Sprint(v) != fmt.Sprint(again) {
		t.Fatal("embedding changed between runs")
	}
	ex, err := NewExemplar(enc, img, "crop.png", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddClass("sign0", nil, []Exemplar{ex}); err != nil {
		t.Fatal(err)
	}
	r := NewResult(1)
	if err := g.MatchImage(enc, img, r); err != nil || r.Candidates[0].Label != "sign0" || r.Score < 0.9999 {
		t.Fatalf("self match: %+v %v", r, err)
	}
	path := filepath.Join(t.TempDir(), "g.gal")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, m.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	// Re-embedding with the same network reproduces the embeddings.
	rep, err := g.Reembed(enc)
	if err != nil || rep.Moved != 0 {
		t.Fatalf("reembed: %+v %v", rep, err)
	}
	if _, err := NewExemplar(enc, nil, "nil", false); !errors.Is(err, ErrNilImage) {
		t.Fatalf("nil image: %v", err)
	}
}
