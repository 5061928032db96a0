package gallery

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/signet-go/signet/internal/testalloc"
)

// richGallery uses every feature the file format carries.
func richGallery(t testing.TB, mode Mode) *Gallery {
	t.Helper()
	cl := newClusters(30, 12, 4)
	o := DefaultOptions()
	o.Mode, o.K, o.MinMargin, o.KeepVersions = mode, 2, 0.01, 2
	g := mustNew(t, 12, o)
	for i := 0; i < 4; i++ {
		ex := cl.exemplars(i, 5+i, 0.5, fmt.Sprint("crop", i))
		ex[0].Crop = []byte{0x89, 'P', 'N', 'G', byte(i)}
		id, err := g.AddClass(fmt.Sprint("label", i), map[string]string{"speed": fmt.Sprint(30 * i), "kind": "regulatory"}, ex)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			g.SetClassThreshold(id, 0.42)
		}
	}
	g.Remove(3) // next id stays 5
	return g
}

func TestRoundTrip(t *testing.T) {
	for _, mode := range []Mode{MeanPrototype, MultiPrototype, KNN} {
		g := richGallery(t, mode)
		data := g.Encode()
		h, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h.Encode(), data) {
			t.Fatalf("%v: re-encoding differs", mode)
		}
		if !reflect.DeepEqual(g.List(), h.List()) || g.Options() != h.Options() || g.Version() != h.Version() || g.Fingerprint() != h.Fingerprint() {
			t.Fatalf("%v: decoded gallery differs", mode)
		}
		ga, gb := g.load(), h.load()
		if !reflect.DeepEqual(ga.rows, gb.rows) || ga.nextID != gb.nextID {
			t.Fatalf("%v: prototypes or next id differ", mode)
		}
		ea, _ := g.Exemplars(2)
		eb, _ := h.Exemplars(2)
		if !reflect.DeepEqual(ea, eb) {
			t.Fatalf("%v: exemplars differ", mode)
		}
	}
}

func TestOpenEncoderMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signs.gal")
	g := richGallery(t, MeanPrototype)
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	if h, err := Open(path, fp(1)); err != nil || !bytes.Equal(h.Encode(), g.Encode()) {
		t.Fatalf("Open of the saved gallery: %v (or its contents differ)", err)
	}
	other := fp(9)
	_, err := Open(path, other)
	if !errors.Is(err, ErrEncoderMismatch) {
		t.Fatalf("got %v", err)
	}
	have := fp(1)
	for _, want := range []string{hex.EncodeToString(have[:]), hex.EncodeToString(other[:]), "Reembed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if h, err := OpenForReembed(path); err != nil || !bytes.Equal(h.Encode(), g.Encode()) {
		t.Fatalf("OpenForReembed of a gallery of another encoder: %v (or its contents differ)", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.gal"), have); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSaveKeepsVersionsAndRollback(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.gal")
	cl := newClusters(31, 8, 6)
	o := noHoldout()
	o.KeepVersions = 3
	g := mustNew(t, 8, o)
	var saved [][]byte
	for i := 0; i < 5; i++ {
		g.AddClass(fmt.Sprint(i), nil, cl.exemplars(i, 2, 0.2, ""))
		if err := g.Save(path); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, g.Encode())
	}
	for n, want := range map[string][]byte{path: saved[4], BackupPath(path, 1): saved[3], BackupPath(path, 2): saved[2], BackupPath(path, 3): saved[1]} {
		got, err := os.ReadFile(n)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: wrong content (%v)", filepath.Base(n), err)
		}
	}
	if _, err := os.Stat(BackupPath(path, 4)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("kept more than 3 versions")
	}
	if err := Rollback(path, 2); err != nil {
		t.Fatal(err)
	}
	h, err := Open(path, fp(1))
	if err != nil || h.Len() != 3 {
		t.Fatalf("after rollback: %v, %d classes", err, h.Len())
	}
	// The rolled-back-from version is itself kept.
	if got, _ := os.ReadFile(BackupPath(path, 1)); !bytes.Equal(got, saved[4]) {
		t.Fatal("rollback lost the version it replaced")
	}
	if err := Rollback(path, 9); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rollback to missing version: %v", err)
	}
	os.WriteFile(BackupPath(path, 3), []byte("junk"), 0o644)
	if err := Rollback(path, 3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("rollback to junk: %v", err)
	}
}

var errInjected = errors.New("injected failure")

// faultFS counts every filesystem step of a save and fails the failAt-th.
type faultFS struct {
	osFS
	failAt int
	ops    []string
	noLink bool
}

func (f *faultFS) step(op string) error {
	f.ops = append(f.ops, op)
	if len(f.ops) == f.failAt {
		return fmt.Errorf("%s: %w", op, errInjected)
	}
	return nil
}

func (f *faultFS) ReadFile(name string) ([]byte, error) {
	if err := f.step("read " + filepath.Base(name)); err != nil {
		return nil, err
	}
	return f.osFS.ReadFile(name)
}

func (f *faultFS) CreateTemp(dir, pattern string, perm fs.FileMode) (tempFile, error) {
	if err := f.step("create"); err != nil {
		return nil, err
	}
	t, err := f.osFS.CreateTemp(dir, pattern, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{t, f}, nil
}

func (f *faultFS) Rename(o, n string) error {
	if err := f.step("rename " + filepath.Base(n)); err != nil {
		return err
	}
	return f.osFS.Rename(o, n)
}

func (f *faultFS) Link(o, n string) error {
	if err := f.step("link " + filepath.Base(n)); err != nil {
		return err
	}
	if f.noLink {
		return &os.LinkError{Op: "link", Old: o, New: n, Err: errors.ErrUnsupported}
	}
	return f.osFS.Link(o, n)
}

func (f *faultFS) Remove(name string) error {
	if err := f.step("remove " + filepath.Base(name)); err != nil {
		return err
	}
	return f.osFS.Remove(name)
}

func (f *faultFS) SyncDir(dir string) error {
	if err := f.step("syncdir"); err != nil {
		return err
	}
	return f.osFS.SyncDir(dir)
}

type faultFile struct {
	tempFile
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.step("write"); err != nil {
		return 0, err
	}
	return f.tempFile.Write(p)
}

func (f *faultFile) Chmod(mode fs.FileMode) error {
	if err := f.fs.step("chmod"); err != nil {
		return err
	}
	return f.tempFile.Chmod(mode)
}

func (f *faultFile) Sync() error {
	if err := f.fs.step("sync"); err != nil {
		return err
	}
	return f.tempFile.Sync()
}

func (f *faultFile) Close() error {
	err := f.tempFile.Close()
	if ferr := f.fs.step("close"); ferr != nil {
		return ferr
	}
	return err
}

// TestSaveFailureAtEveryStep fails each step of a save in turn and checks
// that the live file then still holds the previous gallery, unchanged, unless
// the failure came after the rename that replaces it; that no temporary
// file is left; and that every kept version still decodes.
func TestSaveFailureAtEveryStep(t *testing.T) {
	for _, noLink := range []bool{false, true} {
		t.Run(fmt.Sprintf("noLink=%v", noLink), func(t *testing.T) {
			cl := newClusters(32, 8, 3)
			o := noHoldout()
			o.KeepVersions = 2
			for k := 1; ; k++ {
				dir := t.TempDir()
				path := filepath.Join(dir, "g.gal")
				g := mustNew(t, 8, o)
				g.AddClass("a", nil, cl.exemplars(0, 2, 0.2, ""))
				g.Save(path)
				g.AddClass("b", nil, cl.exemplars(1, 2, 0.2, ""))
				g.Save(path)
				old := g.Encode()
				g.AddClass("c", nil, cl.exemplars(2, 2, 0.2, ""))
				next := g.Encode()
				f := &faultFS{failAt: k, noLink: noLink}
				err := g.saveWith(f, path)
				if err == nil && k <= len(f.ops) {
					// Only a failed hard link may be absorbed: the copy
					// fallback takes over.
					if !strings.HasPrefix(f.ops[k-1], "link") {
						t.Fatalf("step %d (%s) failed silently", k, f.ops[k-1])
					}
					live, _ := os.ReadFile(path)
					one, _ := os.ReadFile(BackupPath(path, 1))
					if !bytes.Equal(live, next) || !bytes.Equal(one, old) {
						t.Fatalf("link fallback at step %d: wrong files", k)
					}
					continue
				}
				if err == nil {
					if k < 8 {
						t.Fatalf("only %d steps: %v", len(f.ops), f.ops)
					}
					t.Logf("%d steps, each failed once: %v", k-1, f.ops)
					break
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("step %d: error does not wrap the failure: %v", k, err)
				}
				failed := f.ops[k-1]
				replaced := false
				for _, op := range f.ops[:k-1] {
					if op == "rename g.gal" {
						replaced = true
					}
				}
				live, rerr := os.ReadFile(path)
				want := old
				if replaced {
					want = next
				}
				if rerr != nil || !bytes.Equal(live, want) {
					t.Fatalf("failure at step %d (%s): live file wrong (replaced=%v, %v)", k, failed, replaced, rerr)
				}
				if _, err := Open(path, fp(1)); err != nil {
					t.Fatalf("failure at step %d (%s): %v", k, failed, err)
				}
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.Contains(e.Name(), ".tmp-") && !strings.HasPrefix(failed, "remove") {
						t.Fatalf("failure at step %d (%s) left %s", k, failed, e.Name())
					}
					if !strings.Contains(e.Name(), ".tmp-") && !strings.HasSuffix(e.Name(), ".lock") {
						if _, err := OpenForReembed(filepath.Join(dir, e.Name())); err != nil {
							t.Fatalf("failure at step %d (%s): %s no longer decodes: %v", k, failed, e.Name(), err)
						}
					}
				}
			}
		})
	}
}

// fixCRC recomputes the trailer after a test edits the bytes.
func fixCRC(b []byte) []byte {
	n := len(b) - trailerSize
	binary.LittleEndian.PutUint32(b[n:], crc32.Checksum(b[:n], castagnoli))
	return b
}

// Offsets in a version-1 file (see format.go).
const (
	offDim      = headerSize + 32
	offMode     = offDim + 4
	offNClasses = offMode + 1 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8
	offClass0   = offNClasses + 4
	offLabel0   = offClass0 + 8 // u32 length, then bytes
)

func TestMalformedGalleries(t *testing.T) {
	cl := newClusters(33, 4, 2)
	g := mustNew(t, 4, noHoldout())
	g.AddClass("aa", nil, []Exemplar{{Embedding: cl.sample(0, 0.1)}})
	g.AddClass("bb", nil, []Exemplar{{Embedding: cl.sample(1, 0.1)}})
	good := g.Encode()
	if _, err := Decode(good); err != nil {
		t.Fatal(err)
	}
	edit := func(fn func(b []byte) []byte) []byte {
		return fn(append([]byte(nil), good...))
	}
	le := binary.LittleEndian
	// Class 0 is: id 8, label 4+2, flags 1, thr 4, gar 8, garN 4, meta 4,
	// nex 4, then exemplar: flags 1, source 4+len, embedding 16, crop 4.
	class1 := offClass0 + 8 + 4 + 2 + 1 + 4 + 8 + 4 + 4 + 4 + 1 + 4 + 0 + 16 + 4
	emb0 := offClass0 + 8 + 4 + 2 + 1 + 4 + 8 + 4 + 4 + 4 + 1 + 4
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"header only", good[:12], ErrTruncated},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), ErrCorrupt},
		{"future version", edit(func(b []byte) []byte { le.PutUint16(b[8:], 2); return b }), ErrVersion},
		{"unknown flags", edit(func(b []byte) []byte { le.PutUint16(b[10:], 2); return b }), ErrCorrupt},
		{"payload length beyond file", edit(func(b []byte) []byte { le.PutUint64(b[12:], 1<<40); return b }), ErrTruncated},
		{"trailing byte", append(append([]byte(nil), good...), 0), ErrCorrupt},
		{"truncated tail", good[:len(good)-1], ErrTruncated},
		{"flipped payload bit", edit(func(b []byte) []byte { b[offDim+10] ^= 1; return b }), ErrChecksum},
		{"bad checksum", edit(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), ErrChecksum},
		{"dim zero", edit(func(b []byte) []byte { le.PutUint32(b[offDim:], 0); return fixCRC(b) }), ErrCorrupt},
		{"dim huge", edit(func(b []byte) []byte { le.PutUint32(b[offDim:], 1<<30); return fixCRC(b) }), ErrCorrupt},
		{"unknown mode", edit(func(b []byte) []byte { b[offMode] = 99; return fixCRC(b) }), ErrInvalidOptions},
		{"class count beyond data", edit(func(b []byte) []byte { le.PutUint32(b[offNClasses:], math.MaxUint32); return fixCRC(b) }), ErrTruncated},
		{"label length beyond limit", edit(func(b []byte) []byte { le.PutUint32(b[offLabel0:], 1<<31); return fixCRC(b) }), ErrCorrupt},
		{"label length beyond data", edit(func(b []byte) []byte { le.PutUint32(b[offLabel0:], 1000); return fixCRC(b) }), ErrTruncated},
		{"empty label", edit(func(b []byte) []byte {
			// Shorten label "aa" to "" and drop its bytes.
			le.PutUint32(b[offLabel0:], 0)
			b = append(b[:offLabel0+4], b[offLabel0+6:]...)
			le.PutUint64(b[12:], uint64(len(b)-headerSize-trailerSize))
			return fixCRC(b)
		}), ErrCorrupt},
		{"duplicate label", edit(func(b []byte) []byte { copy(b[class1+8+4:], "aa"); return fixCRC(b) }), ErrCorrupt},
		{"id zero", edit(func(b []byte) []byte { le.PutUint64(b[offClass0:], 0); return fixCRC(b) }), ErrCorrupt},
		{"ids out of order", edit(func(b []byte) []byte { le.PutUint64(b[class1:], 1); return fixCRC(b) }), ErrCorrupt},
		{"NaN embedding", edit(func(b []byte) []byte { le.PutUint32(b[emb0:], 0x7fc00000); return fixCRC(b) }), ErrCorrupt},
		{"zero embedding", edit(func(b []byte) []byte { clear(b[emb0 : emb0+16]); return fixCRC(b) }), ErrCorrupt},
		{"exemplar count beyond data", edit(func(b []byte) []byte { le.PutUint32(b[emb0-1-4-4:], 1<<20); return fixCRC(b) }), ErrTruncated},
		{"exemplar flags", edit(func(b []byte) []byte { b[emb0-5] = 7; return fixCRC(b) }), ErrCorrupt},
	}
	for _, c := range cases {
		_, err := Decode(c.data)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want %v (and ErrCorrupt)", c.name, err, c.want)
		}
	}
	// Every prefix of a valid file fails cleanly.
	for n := 0; n < len(good); n++ {
		if _, err := Decode(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix %d: %v", n, err)
		}
	}
}

// decodeAllocBound is what Decode may allocate for a file of n bytes.
// Every structure it builds is backed by bytes of the file (counts are
// checked against the bytes left, prototype rows are at most K per class
// and each needs an exemplar's embedding in the file); the worst ratio
// measured is about 9 (thousands of one-float exemplars or classes), so 32
// leaves room without letting anything superlinear through.
func decodeAllocBound(n int) uint64 { return 32*uint64(n) + 64<<10 }

// reembedAllocBound is what Reembed may allocate beyond decoding: the
// report and new exemplars (a few times the file), and each crop's image,
// at most 16 bytes per pixel its header claims (16-bit RGBA, interlaced)
// once the claim is within MaxCropPixels; other crops are refused from the
// header.
func reembedAllocBound(t *testing.T, g *Gallery) uint64 {
	b := 64*uint64(len(g.Encode())) + 1<<20
	for _, c := range g.List() {
		ex, _ := g.Exemplars(c.ID)
		for _, e := range ex {
			cfg, err := png.DecodeConfig(bytes.NewReader(e.Crop))
			if err == nil && cfg.Width > 0 && cfg.Height > 0 && int64(cfg.Width)*int64(cfg.Height) <= MaxCropPixels {
				b += 16 * uint64(cfg.Width) * uint64(cfg.Height)
			}
		}
	}
	return b
}

// boundsEncoder embeds an image by its size alone, so that the fuzz target
// measures what the gallery allocates, not what an encoder does per pixel.
type boundsEncoder struct{}

func (boundsEncoder) Dim() int              { return 3 }
func (boundsEncoder) Fingerprint() [32]byte { return fp(7) }
func (boundsEncoder) Embed(img image.Image) ([]float32, error) {
	b := img.Bounds()
	return []float32{1, float32(b.Dx()), float32(b.Dy())}, nil
}

// cropGallery has one class whose crops are the given bytes.
func cropGallery(t testing.TB, crops ...[]byte) []byte {
	g := mustNew(t, 2, noHoldout())
	var ex []Exemplar
	for i, c := range crops {
		ex = append(ex, Exemplar{Embedding: []float32{1, float32(i)}, Crop: c})
	}
	if _, err := g.AddClass("crops", nil, ex); err != nil {
		t.Fatal(err)
	}
	return g.Encode()
}

func FuzzDecode(f *testing.F) {
	for _, mode := range []Mode{MeanPrototype, MultiPrototype, KNN} {
		f.Add(richGallery(f, mode).Encode())
	}
	int8g := richGallery(f, MultiPrototype)
	if err := int8g.SetStorage(Int8); err != nil {
		f.Fatal(err)
	}
	f.Add(int8g.Encode())
	small := mustNew(f, 2, noHoldout())
	small.AddClass("x", nil, []Exemplar{{Embedding: []float32{1, 0}}})
	f.Add(small.Encode())
	f.Add([]byte(fileMagic))
	// Hostile crops: a header claiming 100000×100000, a bomb over the
	// pixel limit, and a small valid crop.
	var ok bytes.Buffer
	png.Encode(&ok, image.NewGray(image.Rect(0, 0, 3, 2)))
	f.Add(cropGallery(f, pngClaiming(f, 100000, 100000), ok.Bytes()))
	f.Add(cropGallery(f, pngBomb(f, 8193, 4096)))
	f.Add(cropGallery(f, ok.Bytes(), pngClaiming(f, 8000, 8000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var g *Gallery
		var err error
		if n := testalloc.Bytes(func() { g, err = Decode(data) }); n > decodeAllocBound(len(data)) {
			t.Fatalf("Decode of %d bytes allocated %d, bound %d", len(data), n, decodeAllocBound(len(data)))
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		// Whatever decodes must work and survive a round trip.
		q := make([]float32, g.Dim())
		q[0] = 1
		if _, err := g.Match(q); err != nil {
			t.Fatal(err)
		}
		h, err := Decode(g.Encode())
		if err != nil {
			t.Fatalf("re-encoded gallery does not decode: %v", err)
		}
		if !reflect.DeepEqual(g.List(), h.List()) {
			t.Fatal("round trip changed the classes")
		}
		// Re-embedding decodes the stored crops: bounded by their claims.
		bound := reembedAllocBound(t, g)
		if n := testalloc.Bytes(func() { _, err = g.Reembed(boundsEncoder{}) }); n > bound {
			t.Fatalf("Reembed allocated %d, bound %d (%v)", n, bound, err)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoCrop) && !errors.Is(err, ErrZeroEmbedding) {
			t.Fatalf("Reembed: unexpected error %v", err)
		}
	})
}
