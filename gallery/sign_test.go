package gallery

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signet-go/signet/model/sign"
	"github.com/signet-go/signet/model/sign/signtest"
)

func wantSigErr(t *testing.T, err error, sub string) {
	t.Helper()
	signtest.WantRefused(t, err, ErrSignature, ErrCorrupt, sub)
}

// saveSigned writes g to dir/name and signs it with k.
func saveSigned(t *testing.T, g *Gallery, dir, name string, k ed25519.PrivateKey) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, g.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	resign(t, p, k)
	return p
}

func resign(t *testing.T, path string, k ed25519.PrivateKey) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sign(data, k, signtest.Time)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(sign.Path(path)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenVerified(t *testing.T) {
	k := signtest.Key(1)
	g := richGallery(t, MultiPrototype)
	p := saveSigned(t, g, t.TempDir(), "g.gal", k)
	h, s, err := OpenVerified(p, fp(1), signtest.Public(signtest.Key(2), k))
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != sign.ID(signtest.Public(k)[0]) || s.Kind != sign.KindGallery || s.Fingerprint != fp(1) {
		t.Fatalf("signature %+v does not describe the gallery", s)
	}
	if !reflect.DeepEqual(g.List(), h.List()) || !bytes.Equal(g.Encode(), h.Encode()) {
		t.Fatal("verified gallery differs from the one signed")
	}
	// Verified, but for another encoder: the encoder check still applies.
	_, _, err = OpenVerified(p, fp(2), signtest.Public(k))
	if !errors.Is(err, ErrEncoderMismatch) {
		t.Fatalf("got %v, want ErrEncoderMismatch", err)
	}
}

// Every byte of the file is covered, and in particular the edits that
// change what the gallery answers while leaving a valid file: a label, the
// default threshold, a class threshold, an exemplar, the prototype mode.
func TestSignedGalleryAnyChange(t *testing.T) {
	k := signtest.Key(1)
	g := richGallery(t, MeanPrototype)
	data := g.Encode()
	s, err := Sign(data, k, signtest.Time)
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Marshal()
	for i := range data {
		d := bytes.Clone(data)
		d[i] ^= 0x04
		_, _, err := VerifySignature(d, rec, signtest.Public(k))
		wantSigErr(t, err, "content does not match")
	}
	edits := map[string]func(h *Gallery) error{
		"label":           func(h *Gallery) error { return h.Rename(1, "label0-forged") },
		"threshold":       func(h *Gallery) error { return h.SetThreshold(0.01) },
		"class threshold": func(h *Gallery) error { return h.SetClassThreshold(2, 0.99) },
		"mode":            func(h *Gallery) error { return h.SetMode(KNN, 1) },
		"exemplar": func(h *Gallery) error {
			return h.AddExemplars(1, newClusters(5, 12, 1).exemplars(0, 1, 0.1, "x"))
		},
	}
	for name, edit := range edits {
		h, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := edit(h); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := h.Encode()
		if _, err := Decode(d); err != nil {
			t.Fatalf("%s: edited gallery should be valid: %v", name, err)
		}
		_, _, err = VerifySignature(d, rec, signtest.Public(k))
		wantSigErr(t, err, "content does not match")
	}
}

// A Save is a legitimate edit: it invalidates the signature until the
// file is signed again.
func TestSignedGalleryResignAfterSave(t *testing.T) {
	k := signtest.Key(1)
	dir := t.TempDir()
	g := richGallery(t, MeanPrototype)
	p := saveSigned(t, g, dir, "g.gal", k)
	if _, err := g.Enrol("label-new", newClusters(9, 12, 1).exemplars(0, 3, 0.2, "new")); err != nil {
		t.Fatal(err)
	}
	if err := g.Save(p); err != nil {
		t.Fatal(err)
	}
	_, _, err := OpenVerified(p, fp(1), signtest.Public(k))
	wantSigErr(t, err, "content does not match")
	resign(t, p, k)
	h, _, err := OpenVerified(p, fp(1), signtest.Public(k))
	if err != nil {
		t.Fatalf("re-signed gallery refused: %v", err)
	}
	if _, err := h.Lookup("label-new"); err != nil {
		t.Fatal(err)
	}
}

func TestSignedGalleryRefusals(t *testing.T) {
	k := signtest.Key(1)
	dir := t.TempDir()
	g := richGallery(t, MeanPrototype)
	p := saveSigned(t, g, dir, "g.gal", k)
	rec, err := os.ReadFile(sign.Path(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("wrong key", func(t *testing.T) {
		_, _, err := OpenVerified(p, fp(1), signtest.Public(signtest.Key(2)))
		wantSigErr(t, err, "which is not trusted")
	})
	t.Run("nil keys", func(t *testing.T) {
		_, _, err := OpenVerified(p, fp(1), nil)
		wantSigErr(t, err, "no trusted keys")
	})
	t.Run("truncated signature", func(t *testing.T) {
		q := saveSigned(t, g, dir, "t.gal", k)
		if err := os.WriteFile(sign.Path(q), rec[:len(rec)-1], 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := OpenVerified(q, fp(1), signtest.Public(k))
		wantSigErr(t, err, "167 bytes")
	})
	t.Run("unsigned", func(t *testing.T) {
		q := filepath.Join(dir, "u.gal")
		if err := g.Save(q); err != nil {
			t.Fatal(err)
		}
		_, _, err := OpenVerified(q, fp(1), signtest.Public(k))
		wantSigErr(t, err, "unsigned")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v does not wrap fs.ErrNotExist", err)
		}
	})
	t.Run("signature moved from another gallery", func(t *testing.T) {
		other := richGallery(t, KNN)
		q := saveSigned(t, other, dir, "o.gal", k)
		if err := os.WriteFile(sign.Path(q), rec, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := OpenVerified(q, fp(1), signtest.Public(k))
		wantSigErr(t, err, "the signature of another file")
	})
	// Records signed by a trusted key over the gallery's very bytes, but
	// stating another kind or encoder.
	for _, c := range []struct {
		name string
		kind sign.Kind
		fp   [32]byte
		want string
	}{
		{"model signature on a gallery", sign.KindModel, fp(1), "this is a model signature, not a gallery signature"},
		{"signed encoder disagrees", sign.KindGallery, fp(2), "states encoder fingerprint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := g.Encode()
			s, err := sign.Sign(c.kind, k, c.fp, data, signtest.Time)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = VerifySignature(data, s.Marshal(), signtest.Public(k))
			wantSigErr(t, err, c.want)
		})
	}
	t.Run("corrupt file is not signed", func(t *testing.T) {
		data := g.Encode()
		data[len(data)/2] ^= 1
		if _, err := Sign(data, k, signtest.Time); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Sign of a corrupt gallery: %v, want ErrCorrupt", err)
		}
	})
}
