package model_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
	"github.com/signet-go/signet/model/sign"
	"github.com/signet-go/signet/model/sign/signtest"
)

func wantSignature(t *testing.T, err error, sub string) {
	t.Helper()
	signtest.WantRefused(t, err, model.ErrSignature, model.ErrCorrupt, sub)
}

// writeSigned writes the model and its signature by k into dir.
func writeSigned(t *testing.T, dir, name string, data []byte, k ed25519.PrivateKey) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := model.Sign(data, k, signtest.Time)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(sign.Path(p)); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenSigned(t *testing.T) {
	k := signtest.Key(1)
	p := writeSigned(t, t.TempDir(), "tiny.sgn", tinyBytes(t), k)
	m, s, err := model.OpenSigned(p, signtest.Public(signtest.Key(2), k))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if s.KeyID != sign.ID(signtest.Public(k)[0]) || s.Kind != sign.KindModel || s.Fingerprint != m.Fingerprint() {
		t.Fatalf("signature %+v does not describe the model", s)
	}
	sameModel(t, modeltest.Tiny(t), m)
	m2, err := model.OpenSignedRead(p, signtest.Public(k))
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, m, m2)
}

// Changing any byte of a signed model file is refused as a signature
// failure, before the decoder sees the bytes (so not as ErrCorrupt, not
// even where the CRCs would catch it), for every byte of the file.
func TestSignedModelAnyByteChanged(t *testing.T) {
	k := signtest.Key(1)
	data := tinyBytes(t)
	s, err := model.Sign(data, k, signtest.Time)
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Marshal()
	for i := range data {
		d := bytes.Clone(data)
		d[i] ^= 0x01
		_, _, err := model.VerifySignature(d, rec, signtest.Public(k))
		wantSignature(t, err, "content does not match")
	}
	// The same through the file path, on both opening paths, with a change
	// whose CRCs are repaired so that only the signature can catch it.
	dir := t.TempDir()
	p := writeSigned(t, dir, "tiny.sgn", data, k)
	d := bytes.Clone(data)
	d[len(d)-1] ^= 0x40 // the last byte of the last weight
	d = fixCRCs(d)
	if _, err := model.Decode(bytes.Clone(d)); err != nil {
		t.Fatalf("the tampered file should be a valid model: %v", err)
	}
	if err := os.WriteFile(p, d, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = model.OpenSigned(p, signtest.Public(k))
	wantSignature(t, err, "content does not match")
	_, err = model.OpenSignedRead(p, signtest.Public(k))
	wantSignature(t, err, "content does not match")
}

// Metadata outside the fingerprint (the name here) is still covered: the
// signature is over the whole file. After a legitimate edit the old
// signature is refused and a new one is accepted.
func TestSignedModelResignAfterEdit(t *testing.T) {
	k := signtest.Key(1)
	dir := t.TempDir()
	p := writeSigned(t, dir, "tiny.sgn", tinyBytes(t), k)
	meta, g := modeltest.TinyParts()
	meta.Name = "tiny, renamed"
	edited, err := model.New(meta, g)
	if err != nil {
		t.Fatal(err)
	}
	if edited.Fingerprint() != modeltest.Tiny(t).Fingerprint() {
		t.Fatal("renaming should keep the fingerprint")
	}
	if err := model.WriteFile(p, edited); err != nil {
		t.Fatal(err)
	}
	_, _, err = model.OpenSigned(p, signtest.Public(k))
	wantSignature(t, err, "content does not match")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	writeSigned(t, dir, "tiny.sgn", data, k)
	m, _, err := model.OpenSigned(p, signtest.Public(k))
	if err != nil {
		t.Fatalf("re-signed model refused: %v", err)
	}
	if m.Meta.Name != "tiny, renamed" {
		t.Fatalf("name %q", m.Meta.Name)
	}
	m.Close()
}

func TestSignedModelRefusals(t *testing.T) {
	k := signtest.Key(1)
	dir := t.TempDir()
	data := tinyBytes(t)
	p := writeSigned(t, dir, "tiny.sgn", data, k)
	rec, err := os.ReadFile(sign.Path(p))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("wrong key", func(t *testing.T) {
		_, _, err := model.OpenSigned(p, signtest.Public(signtest.Key(2)))
		wantSignature(t, err, "which is not trusted")
	})
	t.Run("no keys", func(t *testing.T) {
		_, _, err := model.OpenSigned(p, []ed25519.PublicKey{})
		wantSignature(t, err, "no trusted keys")
	})
	t.Run("truncated signature", func(t *testing.T) {
		q := writeSigned(t, dir, "trunc.sgn", data, k)
		for _, n := range []int{0, 1, sign.Size / 2, sign.Size - 1} {
			if err := os.WriteFile(sign.Path(q), rec[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := model.OpenSigned(q, signtest.Public(k))
			wantSignature(t, err, "a signet signature is 168")
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		q := filepath.Join(dir, "unsigned.sgn")
		if err := os.WriteFile(q, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := model.OpenSigned(q, signtest.Public(k))
		wantSignature(t, err, "unsigned")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v does not wrap fs.ErrNotExist", err)
		}
	})
	t.Run("signature moved from another model", func(t *testing.T) {
		meta, g := modeltest.TinyParts()
		g.Initializers[1] = model.NewFloat32Tensor("conv.bias", []int64{modeltest.TinyDim}, make([]float32, modeltest.TinyDim))
		_, ob := newEncoded(t, meta, g)
		q := writeSigned(t, dir, "other.sgn", ob, k)
		if err := os.WriteFile(sign.Path(q), rec, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := model.OpenSigned(q, signtest.Public(k))
		wantSignature(t, err, "the signature of another file")
	})
	// Records signed by a trusted key over the model's very bytes, but
	// stating another kind or fingerprint.
	for _, c := range []struct {
		name string
		kind sign.Kind
		fp   [32]byte
		want string
	}{
		{"gallery signature on a model", sign.KindGallery, modeltest.Tiny(t).Fingerprint(), "this is a gallery signature, not a model signature"},
		{"signed fingerprint disagrees", sign.KindModel, [32]byte{7}, "states model fingerprint 0700"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sign.Sign(c.kind, k, c.fp, data, signtest.Time)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = model.VerifySignature(data, s.Marshal(), signtest.Public(k))
			wantSignature(t, err, c.want)
		})
	}
}

// Sign vouches only for valid models; a signed but corrupt file (signed by
// other means) passes the signature and is then refused by the decoder.
func TestSignRefusesCorruptModel(t *testing.T) {
	k := signtest.Key(1)
	bad := bytes.Clone(tinyBytes(t))
	bad[len(bad)-1] ^= 1
	if _, err := model.Sign(bad, k, signtest.Time); !errors.Is(err, model.ErrChecksum) {
		t.Fatalf("Sign of a corrupt file: %v, want ErrChecksum", err)
	}
	s, err := sign.Sign(sign.KindModel, k, [32]byte{}, bad, signtest.Time)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := model.VerifySignature(bad, s.Marshal(), signtest.Public(k)); !errors.Is(err, model.ErrChecksum) {
		t.Fatalf("got %v, want ErrChecksum", err)
	}
}
