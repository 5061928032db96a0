package model

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/signet-go/signet/model/sign"
)

// ErrSignature is sign.ErrSignature: a model file that is unsigned, wrongly
// signed or signed by an untrusted key. It does not wrap ErrCorrupt.
var ErrSignature = sign.ErrSignature

// Sign returns the signature (kind model) of the model file held in data,
// made with priv at time t. data must decode: a signature vouches for a
// valid model. The signature covers every byte of the file (size and
// SHA-256) and the model's fingerprint; see FORMAT.md, "Signatures".
func Sign(data []byte, priv ed25519.PrivateKey, t time.Time) (*sign.Signature, error) {
	return sign.SignDecoded(sign.KindModel, Decode, priv, data, t)
}

// VerifySignature checks sig, a signature record, against the model file
// held in data and keys, then decodes data: untrusted bytes never reach the
// decoder. Errors for the signature wrap ErrSignature.
func VerifySignature(data, sig []byte, keys []ed25519.PublicKey) (*Model, *sign.Signature, error) {
	return sign.VerifyDecoded(sign.KindModel, "model", Decode, data, sig, keys)
}

// OpenSigned is Open for a file that must carry a valid signature by one
// of keys in path+".sig" (sign.Path). The signature is checked on the
// mapped bytes before they are decoded, so the bytes verified are the bytes
// run; the file must therefore not be rewritten in place while open (Open's
// rule; WriteFile and bundle installs replace files by rename). A nil or
// empty keys refuses every file. Errors for the signature wrap ErrSignature
// and name the signing key's ID.
func OpenSigned(path string, keys []ed25519.PublicKey) (*Model, *sign.Signature, error) {
	return openSigned(path, keys, openChecked)
}

func openSigned(path string, keys []ed25519.PublicKey, open func(string, func([]byte) error) (*Model, error)) (*Model, *sign.Signature, error) {
	rec, err := sign.ReadFile(sign.Path(path))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var s *sign.Signature
	m, err := open(path, func(data []byte) (err error) {
		s, err = sign.Verify(sign.KindModel, rec, data, keys)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckFingerprint("model", m.Fingerprint()); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, s, nil
}
