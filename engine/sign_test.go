package engine_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
	"github.com/signet-go/signet/model/sign"
)

func signedTiny(t *testing.T, k ed25519.PrivateKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny.sgn")
	if err := model.WriteFile(p, modeltest.Tiny(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := model.Sign(data, k, time.Unix(1_770_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(sign.Path(p)); err != nil {
		t.Fatal(err)
	}
	return p
}

func key(seed byte) (ed25519.PrivateKey, ed25519.PublicKey) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return k, k.Public().(ed25519.PublicKey)
}

func TestLoadTrustedKeys(t *testing.T) {
	k, pub := key(1)
	_, other := key(2)
	p := signedTiny(t, k)

	e, err := engine.Load(p, engine.Options{TrustedKeys: []ed25519.PublicKey{other, pub}})
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Signature(); s == nil || s.KeyID != sign.ID(pub) {
		t.Fatalf("Signature() = %+v, want one by %s", s, sign.ID(pub))
	}
	e.Close()

	for name, keys := range map[string][]ed25519.PublicKey{"wrong key": {other}, "empty set": {}} {
		// MemoryLimit 1 would refuse the plan: the signature is checked
		// first, so the error must be about it.
		_, err := engine.Load(p, engine.Options{TrustedKeys: keys, MemoryLimit: 1})
		if !errors.Is(err, engine.ErrSignature) || errors.Is(err, engine.ErrBudget) {
			t.Errorf("%s: got %v, want ErrSignature before planning", name, err)
		}
	}

	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = engine.Load(p, engine.Options{TrustedKeys: []ed25519.PublicKey{pub}})
	if !errors.Is(err, engine.ErrSignature) || errors.Is(err, model.ErrCorrupt) {
		t.Fatalf("tampered model: got %v, want ErrSignature (not a decode error)", err)
	}
	// Without TrustedKeys nothing is checked, as before (the CRC catches
	// this particular change).
	if _, err := engine.Load(p, engine.Options{}); !errors.Is(err, model.ErrChecksum) {
		t.Fatalf("unchecked load: got %v, want ErrChecksum", err)
	}
}

func TestLoadTrustedKeysUnsigned(t *testing.T) {
	_, pub := key(1)
	p := filepath.Join(t.TempDir(), "tiny.sgn")
	if err := model.WriteFile(p, modeltest.Tiny(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Load(p, engine.Options{TrustedKeys: []ed25519.PublicKey{pub}}); !errors.Is(err, engine.ErrSignature) {
		t.Fatalf("unsigned model: got %v, want ErrSignature", err)
	}
	e, err := engine.Load(p, engine.Options{})
	if err != nil {
		t.Fatalf("unsigned model without TrustedKeys: %v", err)
	}
	if e.Signature() != nil {
		t.Fatal("Signature() of an unchecked engine is not nil")
	}
	e.Close()
}

// New gets a model, not a file: asked to check a signature it refuses
// rather than pretend.
func TestNewRefusesTrustedKeys(t *testing.T) {
	_, pub := key(1)
	_, err := engine.New(modeltest.Tiny(t), engine.Options{TrustedKeys: []ed25519.PublicKey{pub}})
	if !errors.Is(err, engine.ErrSignature) {
		t.Fatalf("got %v, want ErrSignature", err)
	}
}
