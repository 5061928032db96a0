// Package sign holds signet's Ed25519 signatures: key files, detached
// signature records (.sig) and their verification against a set of trusted
// public keys. model, gallery, engine and bundle build on it; the byte
// layouts are specified in model/FORMAT.md ("Signatures").
//
// A signature record states "the file of this kind, this size and this
// SHA-256, with this fingerprint, was signed by this key at this time", and
// the Ed25519 signature covers every byte of that statement preceded by a
// context string naming the kind, so a model signature can never pass as a
// gallery or manifest signature, and a signature moved to another file fails
// because the file's size and SHA-256 are part of what is signed.
package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ErrSignature is wrapped by every error for a file that is unsigned,
// wrongly signed, signed by a key that is not trusted, or whose signature
// file is malformed. engine.ErrSignature, gallery.ErrSignature and
// bundle.ErrSignature are the same value.
var ErrSignature = errors.New("signature check failed")

// Kind names what a signature is for; it is part of what is signed.
type Kind uint8

// Signature kinds. The values are stored in signature records.
const (
	KindModel    Kind = 1 // a model file (.sgn)
	KindGallery  Kind = 2 // a gallery file (.gal)
	KindManifest Kind = 3 // the manifest of a deployment bundle
)

func (k Kind) String() string {
	switch k {
	case KindModel:
		return "model"
	case KindGallery:
		return "gallery"
	case KindManifest:
		return "bundle manifest"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Context returns the domain-separation string signed ahead of a record of
// this kind ("signet-model-v1", "signet-gallery-v1",
// "signet-bundle-manifest-v1"), or "" for an unknown kind.
func (k Kind) Context() string {
	switch k {
	case KindModel:
		return "signet-model-v1"
	case KindGallery:
		return "signet-gallery-v1"
	case KindManifest:
		return "signet-bundle-manifest-v1"
	}
	return ""
}

// KeyID identifies a public key: the first 8 bytes of its SHA-256. It is
// shown to operators and stored in signatures to pick the key to try; it is
// never trusted on its own (the signature must verify with a trusted key).
type KeyID [8]byte

// ID returns the key ID of pub.
func ID(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	var id KeyID
	copy(id[:], sum[:])
	return id
}

// String returns the key ID as 16 lowercase hex digits.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// Path returns where the detached signature of file lives: file + ".sig".
func Path(file string) string { return file + ".sig" }

// Record layout; model/FORMAT.md is the normative description.
const (
	// Size is the exact length of a signature record in bytes.
	Size    = 168
	Version = 1

	signedLen = 104 // bytes 0..103 are signed, 104..167 are the signature
)

var recordMagic = [8]byte{0x89, 'S', 'G', 'S', '\r', '\n', 0x1a, '\n'}

// Signature is a decoded signature record.
type Signature struct {
	Kind        Kind
	KeyID       KeyID
	Time        time.Time // when it was signed (whole seconds, UTC); informational
	FileSize    uint64
	FileSHA256  [32]byte
	Fingerprint [32]byte // model: Model.Fingerprint; gallery and manifest: the encoder's
	Sig         [ed25519.SignatureSize]byte
}

// Sign signs data, a file of the given kind whose fingerprint is fp, with
// priv. Callers check that data is a valid file of that kind first (model.Sign
// and gallery.Sign do): a signature vouches for its content.
func Sign(kind Kind, priv ed25519.PrivateKey, fp [32]byte, data []byte, t time.Time) (*Signature, error) {
	if kind.Context() == "" {
		return nil, fmt.Errorf("sign: unknown kind %d", kind)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("sign: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	s := &Signature{
		Kind:        kind,
		KeyID:       ID(priv.Public().(ed25519.PublicKey)),
		Time:        time.Unix(t.Unix(), 0).UTC(),
		FileSize:    uint64(len(data)),
		FileSHA256:  sha256.Sum256(data),
		Fingerprint: fp,
	}
	copy(s.Sig[:], ed25519.Sign(priv, s.message()))
	return s, nil
}

func (s *Signature) header() []byte {
	b := make([]byte, 0, Size)
	b = append(b, recordMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, Version)
	b = append(b, byte(s.Kind), 0, 0, 0)
	b = append(b, s.KeyID[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Time.Unix()))
	b = binary.LittleEndian.AppendUint64(b, s.FileSize)
	b = append(b, s.FileSHA256[:]...)
	b = append(b, s.Fingerprint[:]...)
	return b
}

// message is what Ed25519 signs: the kind's context, a zero byte, then
// record bytes 0..103.
func (s *Signature) message() []byte {
	ctx := s.Kind.Context()
	return append(append([]byte(ctx), 0), s.header()...)
}

// Marshal returns the Size-byte record.
func (s *Signature) Marshal() []byte { return append(s.header(), s.Sig[:]...) }

// WriteFile writes the record to path (usually Path(file)) atomically,
// replacing what is there.
func (s *Signature) WriteFile(path string) error { return writeAtomic(path, s.Marshal(), 0o644, true) }

// Parse decodes a signature record. It checks the structure only (size,
// magic, version, kind, reserved bytes); Verify checks the signature.
// Errors wrap ErrSignature.
func Parse(b []byte) (*Signature, error) {
	if len(b) != Size {
		return nil, fmt.Errorf("%w: signature is %d bytes, a signet signature is %d", ErrSignature, len(b), Size)
	}
	if !bytes.Equal(b[:8], recordMagic[:]) {
		return nil, fmt.Errorf("%w: not a signet signature (bad magic)", ErrSignature)
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[8:]); v != Version {
		return nil, fmt.Errorf("%w: signature format version %d, this reader knows %d", ErrSignature, v, Version)
	}
	s := &Signature{Kind: Kind(b[12])}
	if s.Kind.Context() == "" {
		return nil, fmt.Errorf("%w: unknown signature kind %d", ErrSignature, b[12])
	}
	if b[13]|b[14]|b[15] != 0 {
		return nil, fmt.Errorf("%w: reserved signature bytes are not zero", ErrSignature)
	}
	copy(s.KeyID[:], b[16:24])
	s.Time = time.Unix(int64(le.Uint64(b[24:])), 0).UTC()
	s.FileSize = le.Uint64(b[32:])
	copy(s.FileSHA256[:], b[40:72])
	copy(s.Fingerprint[:], b[72:104])
	copy(s.Sig[:], b[104:])
	return s, nil
}

// Verify checks that sig, a signature record, is a valid signature of the
// given kind by one of keys over data. In order: the record parses, is of
// that kind, names a trusted key, its Ed25519 signature verifies with that
// key, and data has the size and SHA-256 it states. The caller then checks
// the fingerprint it states (CheckFingerprint) once it has decoded data.
//
// A nil or empty keys refuses everything: a caller that asks for a check
// never gets an unchecked file. Errors wrap ErrSignature and name the key IDs.
func Verify(kind Kind, sig, data []byte, keys []ed25519.PublicKey) (*Signature, error) {
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	s, err := Parse(sig)
	if err != nil {
		return nil, err
	}
	if s.Kind != kind {
		return nil, fmt.Errorf("%w: this is a %s signature, not a %s signature", ErrSignature, s.Kind, kind)
	}
	trusted := false
	for _, k := range keys {
		if ID(k) != s.KeyID {
			continue
		}
		trusted = true
		if ed25519.Verify(k, s.message(), s.Sig[:]) {
			return s, s.checkData(data)
		}
	}
	if !trusted {
		return nil, fmt.Errorf("%w: signed by key %s, which is not trusted (trusted: %s)", ErrSignature, s.KeyID, idList(keys))
	}
	return nil, fmt.Errorf("%w: signature by key %s does not verify: the signature file was altered", ErrSignature, s.KeyID)
}

// checkData runs after the record is authenticated, so a mismatch means
// the file changed after signing or the signature belongs to another file.
func (s *Signature) checkData(data []byte) error {
	sum := sha256.Sum256(data)
	if uint64(len(data)) == s.FileSize && sum == s.FileSHA256 {
		return nil
	}
	return fmt.Errorf("%w: content does not match the signature by key %s: it signed %d bytes with SHA-256 %s, the file has %d bytes with SHA-256 %s (changed after signing, or the signature of another file)",
		ErrSignature, s.KeyID, s.FileSize, hex.EncodeToString(s.FileSHA256[:8]), len(data), hex.EncodeToString(sum[:8]))
}

// CheckFingerprint compares the fingerprint the signature states with fp,
// the one of the decoded file. what names it in the error ("model",
// "encoder").
func (s *Signature) CheckFingerprint(what string, fp [32]byte) error {
	if s.Fingerprint == fp {
		return nil
	}
	return fmt.Errorf("%w: the signature states %s fingerprint %s, the file has %s",
		ErrSignature, what, hex.EncodeToString(s.Fingerprint[:8]), hex.EncodeToString(fp[:8]))
}

// Fingerprinted is a decoded file whose fingerprint a signature states.
type Fingerprinted interface{ Fingerprint() [32]byte }

// SignDecoded is Sign for a file that decode must accept first, signed with
// the fingerprint of what it decodes to (model.Sign, gallery.Sign).
func SignDecoded[T Fingerprinted](kind Kind, decode func([]byte) (T, error), priv ed25519.PrivateKey, data []byte, t time.Time) (*Signature, error) {
	f, err := decode(data)
	if err != nil {
		return nil, err
	}
	return Sign(kind, priv, f.Fingerprint(), data, t)
}

// VerifyDecoded runs Verify, and only then decodes data and checks the
// fingerprint it states (CheckFingerprint, naming it what): untrusted bytes
// never reach decode.
func VerifyDecoded[T Fingerprinted](kind Kind, what string, decode func([]byte) (T, error), data, sig []byte, keys []ed25519.PublicKey) (T, *Signature, error) {
	var zero T
	s, err := Verify(kind, sig, data, keys)
	if err != nil {
		return zero, nil, err
	}
	f, err := decode(data)
	if err != nil {
		return zero, nil, err
	}
	if err := s.CheckFingerprint(what, f.Fingerprint()); err != nil {
		return zero, nil, err
	}
	return f, s, nil
}

func checkKeys(keys []ed25519.PublicKey) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: no trusted keys given, every file is refused", ErrSignature)
	}
	for i, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: trusted key %d is %d bytes, an Ed25519 public key is %d", ErrSignature, i, len(k), ed25519.PublicKeySize)
		}
	}
	return nil
}

func idList(keys []ed25519.PublicKey) string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = ID(k).String()
	}
	return strings.Join(ids, ", ")
}

// ReadFile reads a signature file, refusing to read more than Size+1
// bytes of whatever it is. A missing file is "unsigned": the error wraps
// both ErrSignature and fs.ErrNotExist.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: unsigned: no signature file %s (%w)", ErrSignature, path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, Size+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrSignature, path, err)
	}
	return b, nil
}
