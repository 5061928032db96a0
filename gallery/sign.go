package gallery

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/signet-go/signet/model/sign"
)

// ErrSignature is sign.ErrSignature: a gallery file that is unsigned,
// wrongly signed or signed by an untrusted key.
var ErrSignature = sign.ErrSignature

// Gallery signatures are detached records of kind sign.KindGallery (the
// layout is in model/FORMAT.md, "Signatures") in path+".sig". One covers
// every byte of the gallery file, through its size and SHA-256: header,
// options (mode, K, default threshold, margin, validation share, flip
// budget, versions kept), the id counter and gallery version, every class
// (id, label, own threshold, genuine-accept rate, metadata) and every
// exemplar (flags, source, embedding, crop), and the CRC. Prototypes are not
// stored; they are rebuilt from the signed exemplars. The record also states
// the encoder fingerprint the gallery was embedded with. A Save changes the
// file and so invalidates the signature until the file is signed again; so
// do Rollback and the kept versions path.N, which have no signature of their
// own (deployments roll back whole signed releases: see package bundle).

// Sign returns the signature of the gallery file held in data, made with
// priv at time t. data must decode: a signature vouches for a valid file.
func Sign(data []byte, priv ed25519.PrivateKey, t time.Time) (*sign.Signature, error) {
	return sign.SignDecoded(sign.KindGallery, Decode, priv, data, t)
}

// VerifySignature checks sig, a signature record, against the gallery file
// held in data and keys, and only then decodes data. It does not check the
// encoder (OpenVerified does).
func VerifySignature(data, sig []byte, keys []ed25519.PublicKey) (*Gallery, *sign.Signature, error) {
	return sign.VerifyDecoded(sign.KindGallery, "encoder", Decode, data, sig, keys)
}

// OpenVerified is Open for a gallery file that must carry a valid
// signature by one of keys in path+".sig": the bytes read are verified,
// then decoded, then checked to come from the encoder with the given
// fingerprint (ErrEncoderMismatch). A nil or empty keys refuses every file.
// Signature errors wrap ErrSignature and name the signing key's ID.
func OpenVerified(path string, fingerprint [32]byte, keys []ed25519.PublicKey) (*Gallery, *sign.Signature, error) {
	rec, err := sign.ReadFile(sign.Path(path))
	if err != nil {
		return nil, nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("gallery: open: %w", err)
	}
	g, s, err := VerifySignature(data, rec, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("gallery: open %s: %w", path, err)
	}
	if have := g.Fingerprint(); have != fingerprint {
		return nil, nil, fmt.Errorf("%w: %s was embedded by encoder %s, this encoder is %s",
			ErrEncoderMismatch, path, hex.EncodeToString(have[:]), hex.EncodeToString(fingerprint[:]))
	}
	return g, s, nil
}
