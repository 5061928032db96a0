package bundle

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/safefile"
	"github.com/signet-go/signet/model/sign"
)

// An install directory, given by the operator, holds:
//
//	current  -> release-000007   symbolic link: the release in use
//	previous -> release-000006   symbolic link: the one Rollback returns to
//	release-000007/              one directory per installed release, holding
//	    model.sgn  model.sgn.sig  gallery.gal  gallery.gal.sig
//	    manifest.json  manifest.json.sig
//
// Every name is fixed here; nothing inside a bundle names a path.
const (
	ModelFile    = "model.sgn"
	GalleryFile  = "gallery.gal"
	ManifestFile = "manifest.json"
	CurrentLink  = "current"
	PreviousLink = "previous"

	releasePrefix = "release-"
	tmpPrefix     = ".release-tmp-"
)

// InstallOptions adjust Install.
type InstallOptions struct {
	// AllowDowngrade installs a bundle created before the current release.
	// Without it such a bundle is refused (ErrDowngrade): an old bundle
	// keeps its valid signature forever, so replaying it must be explicit.
	AllowDowngrade bool
}

// Release describes an installed release.
type Release struct {
	Dir      string   // the install directory
	Name     string   // release directory name, e.g. "release-000007"
	Previous string   // name of the release Rollback returns to; "" if none
	Manifest Manifest // its verified manifest
	// Signatures of the manifest, model and gallery.
	ManifestSignature, ModelSignature, GallerySignature *sign.Signature
	// Unchanged: Install found the same bundle already current and intact.
	Unchanged bool
	// Removed lists release directories pruned by Install.
	Removed []string
}

// Path returns the release's directory.
func (r *Release) Path() string { return filepath.Join(r.Dir, r.Name) }

func releaseOf(dir, name string, v *Verified) *Release {
	return &Release{Dir: dir, Name: name, Manifest: v.Manifest,
		ManifestSignature: v.ManifestSignature, ModelSignature: v.ModelSignature, GallerySignature: v.GallerySignature}
}

// Install verifies data (Verify) and only then installs it in dir as a new
// release: its six files are written into a fresh hidden directory and
// synced, the directory is renamed to release-N, "previous" is pointed at
// the release that was current and "current" at the new one, each link
// replaced by an atomic rename. A reader that resolves "current" sees the
// old release or the new one, never a mix. Releases other than current and
// previous are then removed. One installer at a time per directory.
//
// A bundle created before the current release is refused (ErrDowngrade)
// unless opts.AllowDowngrade; installing the bundle that is already current
// changes nothing (Release.Unchanged). A current release that no longer
// verifies is replaced without either check: reinstalling is its repair.
func Install(dir string, data []byte, keys []ed25519.PublicKey, opts InstallOptions) (*Release, error) {
	v, err := Verify(data, keys)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: install: %w", err)
	}
	cur, err := readLink(dir, CurrentLink)
	if err != nil {
		return nil, err
	}
	if cur != "" {
		// The current release is compared only when it still verifies: a
		// damaged one is what a reinstall repairs.
		if old, err := verifyRelease(filepath.Join(dir, cur), keys); err == nil {
			if bytes.Equal(old.Contents.Manifest, v.Contents.Manifest) {
				r := releaseOf(dir, cur, v)
				r.Unchanged = true
				r.Previous, _ = readLink(dir, PreviousLink)
				return r, nil
			}
			if v.Manifest.Created.Before(old.Manifest.Created) && !opts.AllowDowngrade {
				return nil, fmt.Errorf("%w: the bundle was created %s, the installed %s on %s",
					ErrDowngrade, v.Manifest.Created.Format("2006-01-02T15:04:05Z"), cur, old.Manifest.Created.Format("2006-01-02T15:04:05Z"))
			}
		}
	}
	name, err := writeRelease(dir, &v.Contents)
	if err != nil {
		return nil, fmt.Errorf("bundle: install: %w", err)
	}
	if cur != "" {
		if err := setLink(dir, PreviousLink, cur); err != nil {
			return nil, fmt.Errorf("bundle: install: %w", err)
		}
	}
	if err := setLink(dir, CurrentLink, name); err != nil {
		return nil, fmt.Errorf("bundle: install: %w", err)
	}
	r := releaseOf(dir, name, v)
	r.Previous = cur
	keep := cur
	if cur == "" {
		keep, _ = readLink(dir, PreviousLink) // odd, but not ours to break
	}
	r.Removed = prune(dir, name, keep)
	return r, nil
}

// Rollback makes the previous release current again, after verifying it
// completely with keys; the release it replaces becomes the previous one,
// so a second Rollback undoes the first.
func Rollback(dir string, keys []ed25519.PublicKey) (*Release, error) {
	cur, err := readLink(dir, CurrentLink)
	if err != nil {
		return nil, err
	}
	prev, err := readLink(dir, PreviousLink)
	if err != nil {
		return nil, err
	}
	if prev == "" {
		return nil, fmt.Errorf("bundle: rollback: %s has no previous release", dir)
	}
	v, err := verifyRelease(filepath.Join(dir, prev), keys)
	if err != nil {
		return nil, fmt.Errorf("bundle: rollback to %s: %w", prev, err)
	}
	// current first: a crash between the two leaves both links on the
	// restored release, never current on the one being abandoned.
	if err := setLink(dir, CurrentLink, prev); err != nil {
		return nil, fmt.Errorf("bundle: rollback: %w", err)
	}
	if cur != "" {
		if err := setLink(dir, PreviousLink, cur); err != nil {
			return nil, fmt.Errorf("bundle: rollback: %w", err)
		}
	}
	r := releaseOf(dir, prev, v)
	r.Previous = cur
	return r, nil
}

// Current returns the directory of the current release in dir. Resolve it
// once and open the model and the gallery from that directory, so that an
// install between the two opens cannot pair a new model with an old
// gallery.
func Current(dir string) (string, error) {
	cur, err := readLink(dir, CurrentLink)
	if err != nil {
		return "", err
	}
	if cur == "" {
		return "", fmt.Errorf("bundle: %s has no current release: %w", dir, fs.ErrNotExist)
	}
	return filepath.Join(dir, cur), nil
}

// Status verifies the current release of dir with keys and describes it.
func Status(dir string, keys []ed25519.PublicKey) (*Release, error) {
	cur, err := Current(dir)
	if err != nil {
		return nil, err
	}
	v, err := verifyRelease(cur, keys)
	if err != nil {
		return nil, fmt.Errorf("bundle: %s: %w", filepath.Base(cur), err)
	}
	r := releaseOf(dir, filepath.Base(cur), v)
	r.Previous, _ = readLink(dir, PreviousLink)
	return r, nil
}

// Load opens the current release of dir for use: the engine through
// engine.Load with opts.TrustedKeys = keys, the gallery through
// gallery.OpenVerified for that engine's model, so both files are verified
// again on the bytes that are used.
func Load(dir string, keys []ed25519.PublicKey, opts engine.Options) (*engine.Engine, *gallery.Gallery, error) {
	if keys == nil {
		keys = []ed25519.PublicKey{} // never unchecked: nil would mean "no check" to engine.Load
	}
	rel, err := Current(dir)
	if err != nil {
		return nil, nil, err
	}
	opts.TrustedKeys = keys
	e, err := engine.Load(filepath.Join(rel, ModelFile), opts)
	if err != nil {
		return nil, nil, err
	}
	g, _, err := gallery.OpenVerified(filepath.Join(rel, GalleryFile), e.Model().Fingerprint(), keys)
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	g.SetTier(e.Tier()) // the gallery scores on the engine's kernel tier (opts.ForceTier)
	return e, g, nil
}

// releaseFiles pairs each file of a release with its part of a bundle.
func releaseFiles(c *Contents) []struct {
	name string
	data *[]byte
	max  int
} {
	return []struct {
		name string
		data *[]byte
		max  int
	}{
		{ManifestFile, &c.Manifest, MaxManifest},
		{sign.Path(ManifestFile), &c.ManifestSig, sign.Size + 1},
		{ModelFile, &c.Model, MaxModel},
		{sign.Path(ModelFile), &c.ModelSig, sign.Size + 1},
		{GalleryFile, &c.Gallery, MaxGallery},
		{sign.Path(GalleryFile), &c.GallerySig, sign.Size + 1},
	}
}

// verifyRelease reads an installed release back (each file bounded by its
// cap) and verifies it as Verify verifies a bundle.
func verifyRelease(path string, keys []ed25519.PublicKey) (*Verified, error) {
	c := &Contents{}
	for _, f := range releaseFiles(c) {
		b, err := readBounded(filepath.Join(path, f.name), f.max)
		if err != nil {
			return nil, err
		}
		*f.data = b
	}
	return verifyContents(c, keys)
}

func readBounded(path string, max int) ([]byte, error) {
	b, err := safefile.ReadFile(path, int64(max), true)
	if errors.Is(err, safefile.ErrTooLarge) || errors.Is(err, safefile.ErrNotRegular) {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return b, err
}

// writeRelease writes c into a new release directory of dir and returns its
// name.
func writeRelease(dir string, c *Contents) (name string, err error) {
	tmp, err := os.MkdirTemp(dir, tmpPrefix)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for _, f := range releaseFiles(c) {
		if err := writeSynced(filepath.Join(tmp, f.name), *f.data); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return "", err
	}
	if err := safefile.SyncDir(tmp); err != nil {
		return "", err
	}
	seq, err := nextSeq(dir)
	if err != nil {
		return "", err
	}
	name = releasePrefix + fmt.Sprintf("%06d", seq)
	// Rename onto an existing release fails (the target is a non-empty
	// directory), so a concurrent installer cannot be overwritten.
	if err := safefile.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return "", err
	}
	return name, safefile.SyncDir(dir)
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// releaseSeq parses "release-NNNNNN" (6 to 9 digits).
func releaseSeq(name string) (int, bool) {
	d, ok := strings.CutPrefix(name, releasePrefix)
	if !ok || len(d) < 6 || len(d) > 9 {
		return 0, false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(d)
	return n, err == nil
}

func nextSeq(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	top := 0
	for _, e := range ents {
		if n, ok := releaseSeq(e.Name()); ok && n > top {
			top = n
		}
	}
	if top >= 999_999_999 {
		return 0, fmt.Errorf("%s: release numbers exhausted", dir)
	}
	return top + 1, nil
}

// readLink returns the release a link of dir names, "" when the link does
// not exist. A link to anything but a release name of this directory is an
// error: it was not made here, and following it could lead anywhere.
func readLink(dir, link string) (string, error) {
	t, err := os.Readlink(filepath.Join(dir, link))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bundle: %s: %w", filepath.Join(dir, link), err)
	}
	if _, ok := releaseSeq(t); !ok {
		return "", fmt.Errorf("%w: %s points to %q, not to a release of this directory", ErrCorrupt, filepath.Join(dir, link), t)
	}
	return t, nil
}

// setLink points dir/link at target by renaming a fresh link over it.
func setLink(dir, link, target string) error {
	tmp := filepath.Join(dir, "."+link+".tmp")
	os.Remove(tmp) // left by an interrupted run
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := safefile.Rename(tmp, filepath.Join(dir, link)); err != nil {
		os.Remove(tmp)
		return err
	}
	return safefile.SyncDir(dir)
}

// prune removes release directories that are neither current nor previous
// and returns their names. Failures leave the directory for the next run.
func prune(dir string, keep ...string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range ents {
		if _, ok := releaseSeq(e.Name()); !ok || !e.IsDir() || slices.Contains(keep, e.Name()) {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
}
