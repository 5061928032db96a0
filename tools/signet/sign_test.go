package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/gallery/bundle"
	"github.com/signet-go/signet/model/sign"
)

// keygen makes a key pair NAME.key / NAME.pub in dir and returns the paths.
func keygen(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	r := runJSON[keygenResult](t, "keygen", "-o", filepath.Join(dir, name), "-json")
	return r.PrivateKey, r.PublicKey
}

func trustedKeys(t *testing.T, pub string) []ed25519.PublicKey {
	t.Helper()
	keys, err := sign.ReadPublicKeysFile(pub)
	must(t, err)
	return keys
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keygen(t, dir, "release")
	if runtime.GOOS != "windows" {
		st, err := os.Stat(priv)
		must(t, err)
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("private key mode %04o, want 0600", st.Mode().Perm())
		}
	}
	k, err := sign.ReadPrivateKeyFile(priv)
	must(t, err)
	keys := trustedKeys(t, pub)
	if !keys[0].Equal(k.Public()) {
		t.Fatal("the .pub file does not hold the public half of the .key file")
	}
	before := readBytes(t, priv)
	code, _, errs := runCLI(t, "keygen", "-o", filepath.Join(dir, "release"))
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "use -force")
	if !bytes.Equal(readBytes(t, priv), before) {
		t.Fatal("a refused keygen changed the private key")
	}
	code, out, errs := runCLI(t, "keygen", "-o", filepath.Join(dir, "release.key"), "-force")
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "private key: "+priv)
	if bytes.Equal(readBytes(t, priv), before) {
		t.Fatal("keygen -force did not make a new key")
	}
	code, _, errs = runCLI(t, "keygen")
	wantCode(t, code, exitUsage, errs)
}

func TestSignVerifyCLI(t *testing.T) {
	f := newGalleryFixture(t)
	code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "red", f.img("red", 0), f.img("red", 1), f.img("red", 2))
	wantCode(t, code, exitOK, errs)
	priv, pub := keygen(t, f.dir, "release")
	_, otherPub := keygen(t, f.dir, "other")

	rows := runJSON[[]sigRow](t, "sign", "-key", priv, "-json", f.model, f.gal)
	if len(rows) != 2 || rows[0].Kind != "model" || rows[1].Kind != "gallery" || rows[1].Signature != f.gal+".sig" {
		t.Fatalf("sign rows %+v", rows)
	}
	keyID := sign.ID(trustedKeys(t, pub)[0]).String()
	if rows[0].KeyID != keyID {
		t.Fatalf("signed by %s, want %s", rows[0].KeyID, keyID)
	}

	code, out, errs := runCLI(t, "verify", "-pub", otherPub, "-pub", pub, f.model, f.gal)
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, keyID)
	if strings.Count(out, "  ok") != 2 {
		t.Fatalf("want two ok rows:\n%s", out)
	}
	// The signed files load with the key trusted.
	e, err := engine.Load(f.model, engine.Options{TrustedKeys: trustedKeys(t, pub)})
	must(t, err)
	_, _, err = gallery.OpenVerified(f.gal, e.Model().Fingerprint(), trustedKeys(t, pub))
	must(t, err)
	e.Close()

	// A legitimate edit invalidates the gallery's signature; re-signing
	// restores it.
	runOK(t, "rename", "-gallery", f.gal, "-label", "red", "-to", "crimson")
	code, out, errs = runCLI(t, "verify", "-pub", pub, "-json", f.model, f.gal)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "1 of 2 file(s) refused")
	rows = nil
	must(t, json.Unmarshal([]byte(out), &rows))
	if !*rows[0].OK || *rows[1].OK || !strings.Contains(rows[1].Error, "content does not match") {
		t.Fatalf("verify after an edit: %+v", rows)
	}
	runOK(t, "sign", "-key", priv, f.gal)
	runOK(t, "verify", "-pub", pub, f.gal)

	// Wrong key; a signature moved from the model to the gallery.
	code, out, errs = runCLI(t, "verify", "-pub", otherPub, f.model)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, out, "not trusted")
	code, out, errs = runCLI(t, "verify", "-pub", pub, "-sig", f.model+".sig", f.gal)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, out, "this is a model signature, not a gallery signature")
}

func TestSignCLIRefusals(t *testing.T) {
	f := newGalleryFixture(t)
	priv, pub := keygen(t, f.dir, "release")
	junk := filepath.Join(f.dir, "notes.txt")
	must(t, os.WriteFile(junk, []byte("hello"), 0o644))
	bad := filepath.Join(f.dir, "bad.sgn")
	b := readBytes(t, f.model)
	b[len(b)-1] ^= 1
	must(t, os.WriteFile(bad, b, 0o644))

	code, _, errs := runCLI(t, "sign", "-key", priv, f.model, junk)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "not a signet model (.sgn) or gallery (.gal)")
	code, _, errs = runCLI(t, "sign", "-key", priv, f.model, bad)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "refusing to sign")
	if _, err := os.Stat(f.model + ".sig"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a failed sign left a signature for the good file")
	}
	// The public key cannot sign; a private key is not a trusted-key file.
	code, _, errs = runCLI(t, "sign", "-key", pub, f.model)
	wantCode(t, code, exitRuntime, errs)
	code, _, errs = runCLI(t, "verify", "-pub", priv, f.model)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "is a private key; give the .pub file")
	// Unsigned and truncated signatures are refusals, not crashes.
	code, out, errs := runCLI(t, "verify", "-pub", pub, f.model)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, out, "unsigned")
	runOK(t, "sign", "-key", priv, f.model)
	rec := readBytes(t, f.model+".sig")
	must(t, os.WriteFile(f.model+".sig", rec[:100], 0o644))
	code, out, errs = runCLI(t, "verify", "-pub", pub, f.model)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, out, "signature is 100 bytes")

	for _, args := range [][]string{
		{"sign", f.model},
		{"sign", "-key", priv},
		{"sign", "-key", priv, "-o", "x.sig", f.model, f.gal},
		{"verify", f.model},
		{"verify", "-pub", pub},
		{"bundle", "-model", f.model},
		{"unbundle", "-dir", f.dir, "x.sgb"},
		{"unbundle", "-pub", pub, "x.sgb"},
		{"unbundle", "-pub", pub, "-dir", f.dir, "-rollback", "x.sgb"},
		{"unbundle", "-pub", pub, "-dir", f.dir, "-rollback", "-status"},
		{"unbundle", "-pub", pub, "-check", "-dir", f.dir, "x.sgb"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", args, code, exitUsage, errs)
		}
	}
}

// The approve-sign-ship flow of the README, end to end: enrol with risk
// reports, bundle with the reports, install, ship an update, roll back.
func TestBundleCLIFlow(t *testing.T) {
	f := newGalleryFixture(t)
	priv, pub := keygen(t, f.dir, "release")
	_, otherPub := keygen(t, f.dir, "other")
	enrol := func(label string) string {
		code, out, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", label, "-json",
			f.img(label, 0), f.img(label, 1), f.img(label, 2), f.img(label, 3))
		wantCode(t, code, exitOK, errs)
		p := filepath.Join(f.dir, label+".json")
		must(t, os.WriteFile(p, []byte(out), 0o644))
		return p
	}
	redReport, blueReport := enrol("red"), enrol("blue")
	b1 := filepath.Join(f.dir, "r1.sgb")
	note := "release 1 \x1b]0;owned\x07\x1b[2J"
	code, out, errs := runCLI(t, "bundle", "-model", f.model, "-gallery", f.gal, "-key", priv,
		"-report", redReport, "-report", blueReport, "-note", note, "-o", b1)
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "2 classes")
	wantContains(t, out, "blue")
	if strings.ContainsRune(out, 0x1b) {
		t.Fatalf("bundle printed a raw escape from the note:\n%q", out)
	}
	code, _, errs = runCLI(t, "bundle", "-model", f.model, "-gallery", f.gal, "-key", priv, "-o", b1)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "use -force")

	out = runOK(t, "unbundle", "-pub", pub, "-check", b1)
	wantContains(t, out, "nothing installed")
	code, _, errs = runCLI(t, "unbundle", "-pub", otherPub, "-check", b1)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "not trusted")

	fleet := filepath.Join(f.dir, "fleet")
	out = runOK(t, "unbundle", "-pub", pub, "-dir", fleet, "-json", b1)
	var r unbundleResult
	must(t, json.Unmarshal([]byte(out), &r))
	if r.Action != "installed" || r.Release != "release-000001" || r.Manifest.Note != note || len(r.Manifest.Enrolments) != 2 ||
		!r.Manifest.Enrolments[1].Committed || r.Manifest.Enrolments[1].Label != "blue" {
		t.Fatalf("unbundle result %+v", r)
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Fatal("unbundle -json printed a raw escape")
	}
	keys := trustedKeys(t, pub)
	e, g, err := bundle.Load(fleet, keys, engine.Options{})
	must(t, err)
	if g.Len() != 2 {
		t.Fatalf("installed gallery has %d classes", g.Len())
	}
	e.Close()

	// An update: one more class, bundled (-force over the old file name is
	// not needed: a new name) and installed next to the first.
	enrol("green")
	b2 := filepath.Join(f.dir, "r2.sgb")
	runOK(t, "bundle", "-model", f.model, "-gallery", f.gal, "-key", priv, "-o", b2)
	out = runOK(t, "unbundle", "-pub", pub, "-dir", fleet, b2)
	wantContains(t, out, "as release-000002; previous: release-000001")
	out = runOK(t, "unbundle", "-pub", pub, "-dir", fleet, "-rollback")
	wantContains(t, out, "back to release-000001")
	out = runOK(t, "unbundle", "-pub", pub, "-dir", fleet, "-status")
	wantContains(t, out, "current release release-000001 verifies")
	wantContains(t, out, "2 classes")

	// A tampered bundle installs nothing.
	bad := readBytes(t, b2)
	bad[len(bad)-10] ^= 1
	badPath := filepath.Join(f.dir, "bad.sgb")
	must(t, os.WriteFile(badPath, bad, 0o644))
	code, _, errs = runCLI(t, "unbundle", "-pub", pub, "-dir", fleet, badPath)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "signature check failed")
	out = runOK(t, "unbundle", "-pub", pub, "-dir", fleet, "-status")
	wantContains(t, out, "current release release-000001 verifies")

	// A report that does not describe what ships is refused.
	runOK(t, "rename", "-gallery", f.gal, "-label", "blue", "-to", "navy")
	code, _, errs = runCLI(t, "bundle", "-model", f.model, "-gallery", f.gal, "-key", priv, "-report", blueReport, "-o", filepath.Join(f.dir, "r3.sgb"))
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "no such class")
	code, _, errs = runCLI(t, "bundle", "-model", f.model2, "-gallery", f.gal, "-key", priv, "-o", filepath.Join(f.dir, "r3.sgb"))
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "encoder mismatch")
}
