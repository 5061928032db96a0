// Package bundle is signet's deployment unit: one file holding an encoder
// (.sgn), the gallery embedded with it (.gal), a manifest describing both,
// and the three signatures, so a fleet ships exactly what was approved.
//
// Create builds a bundle and signs all three parts. Verify checks a bundle
// completely against a set of trusted keys: its structure, every signature,
// that the model and gallery decode, that the gallery was embedded by that
// model, and that the signed manifest lists exactly the files present (so
// parts of two validly signed bundles cannot be mixed). Install verifies,
// then writes a new release directory next to the previous one and switches
// to it atomically; Rollback switches back; Load opens the current release
// with every signature checked again. See FORMAT.md in this directory for the
// layouts and README.md ("Signing and shipping") for the flow.
package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"time"

	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/fileerr"
	"github.com/signet-go/signet/internal/safefile"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/sign"
)

// Errors. Structural problems wrap ErrCorrupt, which wraps model.ErrCorrupt
// (so do gallery.ErrCorrupt and every model decoding error: one errors.Is
// covers all three formats), and ErrTruncated, ErrChecksum and ErrVersion
// also wrap model's error of the same kind; signature problems wrap
// ErrSignature (sign.ErrSignature, also engine.ErrSignature and
// gallery.ErrSignature).
var (
	ErrCorrupt   = fileerr.New("bundle: corrupt", model.ErrCorrupt)
	ErrTruncated = fileerr.New("bundle: corrupt: truncated", ErrCorrupt, model.ErrTruncated)
	ErrChecksum  = fileerr.New("bundle: corrupt: header checksum mismatch", ErrCorrupt, model.ErrChecksum)
	ErrVersion   = fileerr.New("bundle: corrupt: unsupported format version", ErrCorrupt, model.ErrVersion)
	ErrSignature = sign.ErrSignature
	// ErrDowngrade: Install was given a bundle created before the release
	// it would replace (a replayed old bundle) without AllowDowngrade.
	ErrDowngrade = errors.New("bundle: older than the installed release")
)

// Layout constants; FORMAT.md is the normative description.
const (
	Version = 1

	// ManifestFormat is the manifest's "format" value this package writes
	// and the only one it reads.
	ManifestFormat = "signet-bundle-v1"

	// Caps on the declared section lengths, checked before anything is
	// allocated. A bundle is read whole into memory, so MaxSize bounds what
	// Verify and Install hold.
	MaxManifest = 1 << 20
	MaxModel    = 1 << 30
	MaxGallery  = 1 << 30
	MaxSize     = headerSize + 3*sign.Size + MaxManifest + MaxModel + MaxGallery + 2*align

	headerSize = 64
	align      = 64
	sigsOff    = headerSize
	manifestAt = headerSize + 3*sign.Size
)

var magic = [8]byte{0x89, 'S', 'G', 'B', '\r', '\n', 0x1a, '\n'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Manifest describes a bundle. It is JSON in the file, signed, and copied
// into every installed release as manifest.json.
type Manifest struct {
	Format     string      `json:"format"`
	Created    time.Time   `json:"created"`
	KeyID      string      `json:"key_id"` // the key that signed the bundle
	Note       string      `json:"note,omitempty"`
	Model      ModelInfo   `json:"model"`
	Gallery    GalleryInfo `json:"gallery"`
	Enrolments []Enrolment `json:"enrolments"`
}

// ModelInfo identifies the encoder.
type ModelInfo struct {
	Name             string `json:"name"`
	FormatVersion    int    `json:"format_version"`
	Fingerprint      string `json:"fingerprint"`
	SHA256           string `json:"sha256"`
	Size             uint64 `json:"size"`
	OutputSize       int    `json:"output_size"`
	ConverterVersion string `json:"converter_version,omitempty"`
}

// GalleryInfo identifies and summarises the gallery.
type GalleryInfo struct {
	FormatVersion      int     `json:"format_version"`
	EncoderFingerprint string  `json:"encoder_fingerprint"`
	SHA256             string  `json:"sha256"`
	Size               uint64  `json:"size"`
	Version            uint64  `json:"version"`
	Dim                int     `json:"dim"`
	Mode               string  `json:"mode"`
	Threshold          float32 `json:"threshold"`
	Classes            int     `json:"classes"`
	Exemplars          int     `json:"exemplars"`
	CalibratedClasses  int     `json:"calibrated_classes"` // classes with their own threshold
}

// Enrolment summarises one enrolment risk report that was approved for the
// bundle.
type Enrolment struct {
	Label             string  `json:"label"`
	ClassID           uint64  `json:"class_id,omitempty"`
	Committed         bool    `json:"committed"`
	Forced            bool    `json:"forced,omitempty"`
	NewExemplars      int     `json:"new_exemplars"`
	ValidationSamples int     `json:"validation_samples"`
	AccuracyBefore    float64 `json:"accuracy_before"`
	AccuracyAfter     float64 `json:"accuracy_after"`
	NegativeFlipRate  float64 `json:"negative_flip_rate"`
	NegativeFlips     int     `json:"negative_flips"`
	PositiveFlips     int     `json:"positive_flips"`
	FlipBudget        float64 `json:"flip_budget"`
	OverBudget        bool    `json:"over_budget"`
}

// MaxEnrolments bounds the enrolment summaries of one manifest.
const MaxEnrolments = 4096

// EnrolmentOf summarises a risk report; committed and forced say what was
// done with it.
func EnrolmentOf(r *gallery.Report, committed, forced bool) Enrolment {
	return Enrolment{
		Label: r.Label, ClassID: r.ClassID, Committed: committed, Forced: forced,
		NewExemplars: r.NewExemplars, ValidationSamples: r.ValidationSamples,
		AccuracyBefore: r.AccuracyBefore, AccuracyAfter: r.AccuracyAfter,
		NegativeFlipRate: r.NegativeFlipRate, NegativeFlips: r.NegativeFlips, PositiveFlips: r.PositiveFlips,
		FlipBudget: r.FlipBudget, OverBudget: r.OverBudget,
	}
}

// CreateOptions are the parts of a manifest that do not come from the files.
type CreateOptions struct {
	Created    time.Time // zero: now
	Note       string
	Enrolments []Enrolment
}

// Create checks that modelFile and galleryFile (the bytes of a .sgn and a
// .gal) decode and belong together, and returns the bundle holding them,
// signed with priv, and its manifest. A committed enrolment whose label is
// not in the gallery is refused: the report does not describe what ships.
func Create(modelFile, galleryFile []byte, priv ed25519.PrivateKey, opts CreateOptions) ([]byte, *Manifest, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, nil, fmt.Errorf("bundle: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if len(modelFile) > MaxModel || len(galleryFile) > MaxGallery {
		return nil, nil, fmt.Errorf("bundle: model (%d bytes) or gallery (%d bytes) over the caps (%d, %d)", len(modelFile), len(galleryFile), MaxModel, MaxGallery)
	}
	if len(opts.Enrolments) > MaxEnrolments {
		return nil, nil, fmt.Errorf("bundle: %d enrolments, at most %d", len(opts.Enrolments), MaxEnrolments)
	}
	m, err := model.Decode(modelFile)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: model: %w", err)
	}
	g, err := gallery.Decode(galleryFile)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: gallery: %w", err)
	}
	if err := pairs(m, g); err != nil {
		return nil, nil, err
	}
	for _, en := range opts.Enrolments {
		if _, err := g.Lookup(en.Label); en.Committed && err != nil {
			return nil, nil, fmt.Errorf("bundle: the enrolment report of %q says committed, but the gallery has no such class", en.Label)
		}
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Truncate(time.Second)
	pub := priv.Public().(ed25519.PublicKey)
	man := &Manifest{
		Format: ManifestFormat, Created: created, KeyID: sign.ID(pub).String(), Note: opts.Note,
		Model: ModelInfo{
			Name: m.Meta.Name, FormatVersion: model.Version, Fingerprint: m.FingerprintHex(),
			SHA256: sha256Hex(modelFile), Size: uint64(len(modelFile)),
			OutputSize: m.Meta.OutputSize, ConverterVersion: m.Meta.ConverterVersion,
		},
		Gallery:    galleryInfo(g, galleryFile),
		Enrolments: append([]Enrolment{}, opts.Enrolments...),
	}
	mj, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: manifest: %w", err)
	}
	mj = append(mj, '\n')
	if len(mj) > MaxManifest {
		return nil, nil, fmt.Errorf("bundle: manifest is %d bytes, at most %d (shorten the note or the enrolments)", len(mj), MaxManifest)
	}
	fp := m.Fingerprint()
	ms, err := sign.Sign(sign.KindManifest, priv, fp, mj, created)
	if err != nil {
		return nil, nil, err
	}
	mds, err := sign.Sign(sign.KindModel, priv, fp, modelFile, created)
	if err != nil {
		return nil, nil, err
	}
	gs, err := sign.Sign(sign.KindGallery, priv, g.Fingerprint(), galleryFile, created)
	if err != nil {
		return nil, nil, err
	}
	return assemble(&Contents{
		Manifest: mj, Model: modelFile, Gallery: galleryFile,
		ManifestSig: ms.Marshal(), ModelSig: mds.Marshal(), GallerySig: gs.Marshal(),
	}), man, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func galleryInfo(g *gallery.Gallery, file []byte) GalleryInfo {
	o := g.Options()
	fp := g.Fingerprint()
	gi := GalleryInfo{
		FormatVersion: int(binary.LittleEndian.Uint16(file[8:])), EncoderFingerprint: hex.EncodeToString(fp[:]),
		SHA256: sha256Hex(file), Size: uint64(len(file)), Version: g.Version(), Dim: g.Dim(),
		Mode: o.Mode.String(), Threshold: o.Threshold, Classes: g.Len(),
	}
	for _, c := range g.List() {
		gi.Exemplars += c.Exemplars
		if c.HasThreshold {
			gi.CalibratedClasses++
		}
	}
	return gi
}

// pairs checks that g was embedded by m.
func pairs(m *model.Model, g *gallery.Gallery) error {
	if m.Fingerprint() != g.Fingerprint() {
		gf := g.Fingerprint()
		return fmt.Errorf("%w: the gallery was embedded by encoder %s, the model is %s",
			gallery.ErrEncoderMismatch, hex.EncodeToString(gf[:8]), m.FingerprintHex()[:16])
	}
	if n := m.Meta.OutputSize; n > 0 && n != g.Dim() {
		return fmt.Errorf("%w: the gallery's embeddings have %d values, the model's output %d", gallery.ErrEncoderMismatch, g.Dim(), n)
	}
	return nil
}

// Contents are the raw parts of a bundle, as Parse finds them; nothing in
// them is verified.
type Contents struct {
	Manifest, Model, Gallery          []byte
	ManifestSig, ModelSig, GallerySig []byte // sign.Size-byte records
}

func alignUp(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }

// layout returns the offsets of the model and gallery and the total size
// for the given section lengths (each at most its cap, so no overflow).
func layout(mlen, slen, glen uint64) (modelOff, galOff, total uint64) {
	modelOff = alignUp(manifestAt + mlen)
	galOff = alignUp(modelOff + slen)
	return modelOff, galOff, galOff + glen
}

func assemble(c *Contents) []byte {
	mo, gof, total := layout(uint64(len(c.Manifest)), uint64(len(c.Model)), uint64(len(c.Gallery)))
	b := make([]byte, total)
	copy(b, magic[:])
	le := binary.LittleEndian
	le.PutUint32(b[8:], Version)
	le.PutUint64(b[16:], total)
	le.PutUint64(b[24:], uint64(len(c.Manifest)))
	le.PutUint64(b[32:], uint64(len(c.Model)))
	le.PutUint64(b[40:], uint64(len(c.Gallery)))
	le.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	copy(b[sigsOff:], c.ManifestSig)
	copy(b[sigsOff+sign.Size:], c.ModelSig)
	copy(b[sigsOff+2*sign.Size:], c.GallerySig)
	copy(b[manifestAt:], c.Manifest)
	copy(b[mo:], c.Model)
	copy(b[gof:], c.Gallery)
	return b
}

// Parse splits a bundle into its parts, checking only its structure: magic,
// version, header CRC, flags and reserved bytes, each declared length
// against its cap and all of them against the bytes present, zero padding.
// It trusts no declared length before those checks and allocates nothing
// but the result (the parts alias data). Errors wrap ErrCorrupt.
func Parse(data []byte) (*Contents, error) {
	if len(data) < 8 || !bytes.Equal(data[:8], magic[:]) {
		return nil, fmt.Errorf("%w: not a signet bundle (bad magic)", ErrCorrupt)
	}
	if len(data) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, the header alone is %d", ErrTruncated, len(data), headerSize)
	}
	le := binary.LittleEndian
	if v := le.Uint32(data[8:]); v != Version {
		return nil, fmt.Errorf("%w: version %d, this reader knows %d", ErrVersion, v, Version)
	}
	if got, want := crc32.Checksum(data[:60], castagnoli), le.Uint32(data[60:]); got != want {
		return nil, fmt.Errorf("%w: computed %08x, stored %08x", ErrChecksum, got, want)
	}
	if f := le.Uint32(data[12:]); f != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, f)
	}
	for _, x := range data[48:60] {
		if x != 0 {
			return nil, fmt.Errorf("%w: reserved header bytes are not zero", ErrCorrupt)
		}
	}
	total, mlen, slen, glen := le.Uint64(data[16:]), le.Uint64(data[24:]), le.Uint64(data[32:]), le.Uint64(data[40:])
	switch {
	case mlen == 0 || mlen > MaxManifest:
		return nil, fmt.Errorf("%w: manifest length %d outside 1..%d", ErrCorrupt, mlen, MaxManifest)
	case slen == 0 || slen > MaxModel:
		return nil, fmt.Errorf("%w: model length %d outside 1..%d", ErrCorrupt, slen, MaxModel)
	case glen == 0 || glen > MaxGallery:
		return nil, fmt.Errorf("%w: gallery length %d outside 1..%d", ErrCorrupt, glen, MaxGallery)
	}
	mo, gof, want := layout(mlen, slen, glen)
	switch {
	case total != want:
		return nil, fmt.Errorf("%w: header says %d bytes, its sections add up to %d", ErrCorrupt, total, want)
	case uint64(len(data)) < total:
		return nil, fmt.Errorf("%w: %d bytes, the header says %d", ErrTruncated, len(data), total)
	case uint64(len(data)) > total:
		return nil, fmt.Errorf("%w: %d bytes after the end of the bundle", ErrCorrupt, uint64(len(data))-total)
	}
	me := manifestAt + mlen
	for _, pad := range [][]byte{data[me:mo], data[mo+slen : gof]} {
		for _, x := range pad {
			if x != 0 {
				return nil, fmt.Errorf("%w: padding bytes are not zero", ErrCorrupt)
			}
		}
	}
	sig := func(i int) []byte {
		return data[sigsOff+i*sign.Size : sigsOff+(i+1)*sign.Size : sigsOff+(i+1)*sign.Size]
	}
	return &Contents{
		Manifest: data[manifestAt:me:me], Model: data[mo : mo+slen : mo+slen], Gallery: data[gof:total:total],
		ManifestSig: sig(0), ModelSig: sig(1), GallerySig: sig(2),
	}, nil
}

// Verified is a bundle (or installed release) whose every check passed.
type Verified struct {
	Contents
	Manifest                         Manifest
	ManifestSignature                *sign.Signature
	ModelSignature, GallerySignature *sign.Signature
}

// Verify parses data and checks everything: the manifest signature first,
// then the manifest (strict JSON of format ManifestFormat), the model's and
// the gallery's signatures, that both decode, that the gallery was embedded
// by the model, and that the manifest's sizes, SHA-256s and fingerprints are
// those of the files present. Each signature must verify with one of keys
// (nil or empty refuses everything).
func Verify(data []byte, keys []ed25519.PublicKey) (*Verified, error) {
	c, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return verifyContents(c, keys)
}

func verifyContents(c *Contents, keys []ed25519.PublicKey) (*Verified, error) {
	v := &Verified{Contents: *c}
	var err error
	if v.ManifestSignature, err = sign.Verify(sign.KindManifest, c.ManifestSig, c.Manifest, keys); err != nil {
		return nil, fmt.Errorf("bundle: manifest: %w", err)
	}
	if err := decodeManifest(c.Manifest, &v.Manifest); err != nil {
		return nil, err
	}
	m, ms, err := model.VerifySignature(c.Model, c.ModelSig, keys)
	if err != nil {
		return nil, fmt.Errorf("bundle: model: %w", err)
	}
	g, gs, err := gallery.VerifySignature(c.Gallery, c.GallerySig, keys)
	if err != nil {
		return nil, fmt.Errorf("bundle: gallery: %w", err)
	}
	v.ModelSignature, v.GallerySignature = ms, gs
	if err := pairs(m, g); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := v.ManifestSignature.CheckFingerprint("model", m.Fingerprint()); err != nil {
		return nil, fmt.Errorf("bundle: manifest: %w", err)
	}
	mi, gi := v.Manifest.Model, v.Manifest.Gallery
	for _, chk := range []struct {
		what, listed, have string
	}{
		{"model SHA-256", mi.SHA256, sha256Hex(c.Model)},
		{"model size", fmt.Sprint(mi.Size), fmt.Sprint(len(c.Model))},
		{"model fingerprint", mi.Fingerprint, m.FingerprintHex()},
		{"gallery SHA-256", gi.SHA256, sha256Hex(c.Gallery)},
		{"gallery size", fmt.Sprint(gi.Size), fmt.Sprint(len(c.Gallery))},
		{"gallery encoder", gi.EncoderFingerprint, m.FingerprintHex()},
	} {
		if chk.listed != chk.have {
			return nil, fmt.Errorf("%w: the manifest lists %s %.64s, the bundle holds %s (parts of different bundles?)", ErrSignature, chk.what, chk.listed, chk.have)
		}
	}
	return v, nil
}

// decodeManifest decodes strictly: one JSON object of the known format with
// known fields only; a newer writer's manifest is refused, not half read.
func decodeManifest(b []byte, m *Manifest) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(m); err != nil {
		return fmt.Errorf("%w: manifest: %v", ErrCorrupt, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("%w: manifest: data after the JSON object", ErrCorrupt)
	}
	if m.Format != ManifestFormat {
		return fmt.Errorf("%w: manifest format %.40q, this reader knows %q", ErrVersion, m.Format, ManifestFormat)
	}
	if len(m.Enrolments) > MaxEnrolments {
		return fmt.Errorf("%w: manifest lists %d enrolments, at most %d", ErrCorrupt, len(m.Enrolments), MaxEnrolments)
	}
	return nil
}

// ReadFile reads a bundle file, refusing one larger than MaxSize before
// reading it (or that grows past it while read).
func ReadFile(path string) ([]byte, error) {
	b, err := safefile.ReadFile(path, MaxSize, false)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return b, err
}

// WriteFile writes a bundle to path atomically and durably (temporary file
// in the same folder, synced, renamed, folder synced). Without force an
// existing path is refused with an error wrapping fs.ErrExist.
func WriteFile(path string, data []byte, force bool) error {
	err := safefile.WriteFile(path, 0o644, force, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w (use -force to replace it)", path, fs.ErrExist)
	}
	return err
}
