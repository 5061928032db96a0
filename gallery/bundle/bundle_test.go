package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
	"github.com/signet-go/signet/model/sign"
	"github.com/signet-go/signet/model/sign/signtest"
)

func tinyModel(t testing.TB) ([]byte, *model.Model) {
	t.Helper()
	m := modeltest.Tiny(t)
	b, err := model.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b, m
}

// tinyGallery makes a gallery for the tiny model with the given classes,
// each of three unit exemplars along a different axis mix.
func tinyGallery(t testing.TB, fp [32]byte, labels ...string) []byte {
	t.Helper()
	g, err := gallery.New(modeltest.TinyDim, fp, gallery.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range labels {
		var ex []gallery.Exemplar
		for j := 0; j < 3; j++ {
			v := make([]float32, modeltest.TinyDim)
			v[i%len(v)] = 1
			v[(i+1)%len(v)] = 0.1 * float32(j+1)
			ex = append(ex, gallery.Exemplar{Embedding: v, Source: fmt.Sprint(l, j)})
		}
		if _, err := g.AddClass(l, nil, ex); err != nil {
			t.Fatal(err)
		}
	}
	return g.Encode()
}

type fixture struct {
	k        ed25519.PrivateKey
	model    []byte
	gallery  []byte
	bundle   []byte
	manifest *Manifest
}

func newFixture(t testing.TB, created time.Time, labels ...string) *fixture {
	t.Helper()
	mb, m := tinyModel(t)
	f := &fixture{k: signtest.Key(1), model: mb, gallery: tinyGallery(t, m.Fingerprint(), labels...)}
	var err error
	f.bundle, f.manifest, err = Create(f.model, f.gallery, f.k, CreateOptions{
		Created: created, Note: "test release",
		Enrolments: []Enrolment{{Label: labels[len(labels)-1], Committed: true, AccuracyBefore: 1, AccuracyAfter: 0.98, NegativeFlipRate: 0.02}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCreateVerify(t *testing.T) {
	f := newFixture(t, signtest.Time, "stop", "yield")
	v, err := Verify(f.bundle, signtest.Public(signtest.Key(2), f.k))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v.Model, f.model) || !bytes.Equal(v.Gallery, f.gallery) {
		t.Fatal("verified parts differ from the files bundled")
	}
	m := v.Manifest
	_, tm := tinyModel(t)
	switch {
	case m.Format != ManifestFormat || !m.Created.Equal(signtest.Time) || m.KeyID != sign.ID(signtest.Public(f.k)[0]).String():
		t.Fatalf("manifest header %+v", m)
	case m.Model.Fingerprint != tm.FingerprintHex() || m.Model.Size != uint64(len(f.model)) || m.Model.Name != "tiny":
		t.Fatalf("manifest model %+v", m.Model)
	case m.Gallery.Classes != 2 || m.Gallery.Exemplars != 6 || m.Gallery.EncoderFingerprint != tm.FingerprintHex() || m.Gallery.Dim != modeltest.TinyDim:
		t.Fatalf("manifest gallery %+v", m.Gallery)
	case len(m.Enrolments) != 1 || m.Enrolments[0].Label != "yield" || m.Enrolments[0].NegativeFlipRate != 0.02:
		t.Fatalf("manifest enrolments %+v", m.Enrolments)
	}
	for _, s := range []*sign.Signature{v.ManifestSignature, v.ModelSignature, v.GallerySignature} {
		if s.KeyID != sign.ID(signtest.Public(f.k)[0]) {
			t.Fatalf("signed by %s", s.KeyID)
		}
	}
	if int(binary.LittleEndian.Uint64(f.bundle[16:])) != len(f.bundle) {
		t.Fatal("header file length")
	}
	mo, _, _ := layout(uint64(len(v.Contents.Manifest)), uint64(len(f.model)), uint64(len(f.gallery)))
	if mo%64 != 0 || !bytes.Equal(f.bundle[mo:mo+uint64(len(f.model))], f.model) {
		t.Fatal("the model is not stored 64-byte aligned at its offset")
	}
}

// Changing any byte of a bundle is refused, with an error of the package.
func TestVerifyAnyByteChanged(t *testing.T) {
	f := newFixture(t, signtest.Time, "stop")
	keys := signtest.Public(f.k)
	for i := range f.bundle {
		b := bytes.Clone(f.bundle)
		b[i] ^= 0x10
		_, err := Verify(b, keys)
		if err == nil {
			t.Fatalf("byte %d changed: accepted", i)
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrSignature) {
			t.Fatalf("byte %d changed: %v wraps neither ErrCorrupt nor ErrSignature", i, err)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	f := newFixture(t, signtest.Time, "stop")
	t.Run("wrong key", func(t *testing.T) {
		_, err := Verify(f.bundle, signtest.Public(signtest.Key(2)))
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "not trusted") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 7, 8, 63, 64, 600, len(f.bundle) - 1} {
			if _, err := Verify(f.bundle[:n], signtest.Public(f.k)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%d bytes: %v, want ErrCorrupt", n, err)
			}
		}
		if _, err := Verify(f.bundle[:len(f.bundle)-1], signtest.Public(f.k)); !errors.Is(err, ErrTruncated) {
			t.Fatalf("one byte short: %v, want ErrTruncated", err)
		}
	})
	t.Run("trailing data", func(t *testing.T) {
		if _, err := Verify(append(bytes.Clone(f.bundle), 0), signtest.Public(f.k)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("declared lengths over the caps", func(t *testing.T) {
		for _, c := range []struct {
			off int
			v   uint64
		}{{24, MaxManifest + 1}, {32, MaxModel + 1}, {40, MaxGallery + 1}, {24, 0}, {40, 1 << 63}} {
			off, v := c.off, c.v
			b := bytes.Clone(f.bundle[:headerSize])
			binary.LittleEndian.PutUint64(b[off:], v)
			binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
			_, err := Parse(b)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "outside 1..") {
				t.Fatalf("offset %d = %d: %v", off, v, err)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		b := bytes.Clone(f.bundle)
		b[8] = 2
		if _, err := Parse(b); !errors.Is(err, ErrVersion) {
			t.Fatalf("got %v", err)
		}
	})
	// Parts of two bundles signed by the same key do not combine: each part
	// verifies on its own, the signed manifest lists the other file.
	t.Run("parts of different bundles", func(t *testing.T) {
		g := newFixture(t, signtest.Time.Add(time.Hour), "stop", "yield")
		a, _ := Parse(f.bundle)
		b, _ := Parse(g.bundle)
		mixed := *a
		mixed.Gallery, mixed.GallerySig = b.Gallery, b.GallerySig
		_, err := Verify(assemble(&mixed), signtest.Public(f.k))
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "parts of different bundles") {
			t.Fatalf("got %v", err)
		}
		// A signature moved onto the other bundle's gallery fails as well.
		mixed = *a
		mixed.GallerySig = b.GallerySig
		if _, err := Verify(assemble(&mixed), signtest.Public(f.k)); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v", err)
		}
		// And the manifest signature cannot stand for a model signature.
		mixed = *a
		mixed.ModelSig = a.ManifestSig
		if _, err := Verify(assemble(&mixed), signtest.Public(f.k)); !errors.Is(err, ErrSignature) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("create checks", func(t *testing.T) {
		other := tinyGallery(t, [32]byte{9}, "stop")
		if _, _, err := Create(f.model, other, f.k, CreateOptions{}); !errors.Is(err, gallery.ErrEncoderMismatch) {
			t.Fatalf("gallery of another encoder: %v", err)
		}
		_, _, err := Create(f.model, f.gallery, f.k, CreateOptions{Enrolments: []Enrolment{{Label: "nope", Committed: true}}})
		if err == nil || !strings.Contains(err.Error(), "no such class") {
			t.Fatalf("report of a class not shipped: %v", err)
		}
		if _, _, err := Create(f.model[:100], f.gallery, f.k, CreateOptions{}); !errors.Is(err, model.ErrCorrupt) {
			t.Fatalf("corrupt model: %v", err)
		}
	})
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func wantLinks(t *testing.T, dir, cur, prev string) {
	t.Helper()
	c, err := readLink(dir, CurrentLink)
	if err != nil {
		t.Fatal(err)
	}
	p, err := readLink(dir, PreviousLink)
	if err != nil {
		t.Fatal(err)
	}
	if c != cur || p != prev {
		t.Fatalf("current -> %q, previous -> %q; want %q, %q", c, p, cur, prev)
	}
}

func TestInstallRollback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "signet")
	f1 := newFixture(t, signtest.Time, "stop")
	f2 := newFixture(t, signtest.Time.Add(time.Hour), "stop", "yield")
	f3 := newFixture(t, signtest.Time.Add(2*time.Hour), "stop", "yield", "deer")
	keys := signtest.Public(f1.k)

	r, err := Install(dir, f1.bundle, keys, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "release-000001" || r.Previous != "" || r.Unchanged {
		t.Fatalf("first install: %+v", r)
	}
	wantLinks(t, dir, "release-000001", "")
	// Installed files are what was bundled, and verify on their own.
	for name, want := range map[string][]byte{ModelFile: f1.model, GalleryFile: f1.gallery} {
		got, err := os.ReadFile(filepath.Join(dir, CurrentLink, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s differs from the bundled file (%v)", name, err)
		}
	}
	e, g, err := Load(dir, keys, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Signature() == nil || g.Len() != 1 {
		t.Fatalf("Load: signature %v, %d classes", e.Signature(), g.Len())
	}
	e.Close()

	r, err = Install(dir, f1.bundle, keys, InstallOptions{})
	if err != nil || !r.Unchanged || r.Name != "release-000001" {
		t.Fatalf("same bundle again: %+v, %v", r, err)
	}
	if _, err := Install(dir, f2.bundle, keys, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, dir, "release-000002", "release-000001")
	r, err = Install(dir, f3.bundle, keys, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLinks(t, dir, "release-000003", "release-000002")
	if !slices.Equal(r.Removed, []string{"release-000001"}) {
		t.Fatalf("pruned %v, want release-000001", r.Removed)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{CurrentLink, PreviousLink, "release-000002", "release-000003"}) {
		t.Fatalf("install dir holds %v", got)
	}

	r, err = Rollback(dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "release-000002" || r.Manifest.Gallery.Classes != 2 {
		t.Fatalf("rollback: %+v", r)
	}
	wantLinks(t, dir, "release-000002", "release-000003")
	if _, g, err := Load(dir, keys, engine.Options{}); err != nil || g.Len() != 2 {
		t.Fatalf("after rollback: %v", err)
	}
	if _, err := Rollback(dir, keys); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, dir, "release-000003", "release-000002")

	// An older bundle is a downgrade: refused unless asked for.
	if _, err := Install(dir, f1.bundle, keys, InstallOptions{}); !errors.Is(err, ErrDowngrade) {
		t.Fatalf("downgrade: %v", err)
	}
	if _, err := Install(dir, f1.bundle, keys, InstallOptions{AllowDowngrade: true}); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, dir, "release-000004", "release-000003")
}

// Nothing is written for a bundle that does not verify, and a rollback to
// a release that no longer verifies is refused without switching.
func TestInstallRefusesBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	f1 := newFixture(t, signtest.Time, "stop")
	f2 := newFixture(t, signtest.Time.Add(time.Hour), "stop", "yield")
	keys := signtest.Public(f1.k)
	bad := bytes.Clone(f1.bundle)
	bad[len(bad)-5] ^= 1
	for _, b := range [][]byte{bad, f1.bundle[:len(f1.bundle)/2]} {
		if _, err := Install(dir, b, keys, InstallOptions{}); err == nil {
			t.Fatal("bad bundle installed")
		}
	}
	if _, err := Install(dir, f1.bundle, signtest.Public(signtest.Key(2)), InstallOptions{}); !errors.Is(err, ErrSignature) {
		t.Fatalf("untrusted key: %v", err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("refused installs wrote %v", got)
	}

	if _, err := Install(dir, f1.bundle, keys, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(dir, f2.bundle, keys, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	gp := filepath.Join(dir, "release-000001", GalleryFile)
	data, err := os.ReadFile(gp)
	if err != nil {
		t.Fatal(err)
	}
	data[30] ^= 1
	if err := os.WriteFile(gp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Rollback(dir, keys); !errors.Is(err, ErrSignature) {
		t.Fatalf("rollback to a tampered release: %v", err)
	}
	wantLinks(t, dir, "release-000002", "release-000001")

	// The running release tampered with: Load refuses it.
	mp := filepath.Join(dir, "release-000002", ModelFile)
	data, err = os.ReadFile(mp)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1
	if err := os.WriteFile(mp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(dir, keys, engine.Options{}); !errors.Is(err, ErrSignature) {
		t.Fatalf("Load of a tampered release: %v", err)
	}
	if _, err := Status(dir, keys); !errors.Is(err, ErrSignature) {
		t.Fatalf("Status of a tampered release: %v", err)
	}
	// ...and reinstalling its bundle repairs it, downgrade check or not.
	r, err := Install(dir, f2.bundle, keys, InstallOptions{})
	if err != nil || r.Unchanged {
		t.Fatalf("reinstall over a damaged release: %+v, %v", r, err)
	}
	if _, _, err := Load(dir, keys, engine.Options{}); err != nil {
		t.Fatal(err)
	}
}

// Links are only ever followed to a release of the directory.
func TestInstallDirLinksNotFollowedOutside(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("../../etc", filepath.Join(dir, CurrentLink)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	f := newFixture(t, signtest.Time, "stop")
	if _, err := Install(dir, f.bundle, signtest.Public(f.k), InstallOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("install with current -> ../../etc: %v", err)
	}
	if _, err := Current(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Current with current -> ../../etc: %v", err)
	}
}
