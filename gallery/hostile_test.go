package gallery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/signet-go/signet/internal/testalloc"
	"github.com/signet-go/signet/internal/textsafe"
)

var hostileText = []string{
	"\x1b[2J\x1b[Hcleared", "a\x1b]0;pwned\x07", "fake\n9\tevil", "cr\rx", "tab\tx",
	"bad\xff", "c1\u009b2J", "bidi\u202egnp", "nul\x00", "del\x7f", "ls\u2028x",
}

// TestInvalidTextRefused: every way a label or metadata key enters a
// gallery refuses control characters and invalid UTF-8, and leaves the
// gallery as it was.
func TestInvalidTextRefused(t *testing.T) {
	cl := newClusters(40, 4, 2)
	for _, bad := range hostileText {
		g := mustNew(t, 4, noHoldout())
		id, err := g.AddClass("ok", map[string]string{"note": "free\ntext\x1b value"}, cl.exemplars(0, 2, 0.1, ""))
		if err != nil {
			t.Fatalf("metadata values are free text: %v", err)
		}
		v0 := g.Version()
		ex := cl.exemplars(1, 2, 0.1, "")
		attempts := map[string]error{}
		_, attempts["AddClass"] = g.AddClass(bad, nil, ex)
		_, attempts["AddClasses"] = g.AddClasses([]NewClass{{Label: "fine", Exemplars: ex}, {Label: bad, Exemplars: ex}})
		_, attempts["Enrol"] = g.Enrol(bad, ex)
		attempts["Rename"] = g.Rename(id, bad)
		_, attempts["Plan"] = g.Plan(bad, ex, PlanOptions{})
		_, attempts["AddClass meta key"] = g.AddClass("other", map[string]string{bad: "v"}, ex)
		attempts["SetMeta"] = g.SetMeta(id, map[string]string{"k": "v", bad: "v"})
		_, attempts["Plan meta key"] = g.Plan("other", ex, PlanOptions{Meta: map[string]string{bad: "v"}})
		for what, err := range attempts {
			if !errors.Is(err, ErrInvalidText) {
				t.Errorf("%s(%q): got %v, want ErrInvalidText", what, bad, err)
			}
			if err != nil && textsafe.Check(err.Error()) >= 0 {
				t.Errorf("%s(%q): the error message carries the raw text: %q", what, bad, err)
			}
		}
		if g.Version() != v0 || g.Len() != 1 {
			t.Errorf("%q: refused changes changed the gallery", bad)
		}
	}
	g := mustNew(t, 4, noHoldout())
	for _, good := range []string{"speed-limit-90", "Tempo 30", "Straße", "停止", "zwj\u200dx"} {
		if _, err := g.AddClass(good, map[string]string{good: "v"}, cl.exemplars(0, 1, 0.1, "")); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}

// withRawLabel returns gallery bytes whose class label holds raw control
// bytes, as an older or hostile writer could store them.
func withRawLabel(t *testing.T, label string) []byte {
	t.Helper()
	cl := newClusters(41, 4, 2)
	g := mustNew(t, 4, noHoldout())
	g.AddClass("placeholder", nil, cl.exemplars(0, 2, 0.1, "src\x1b[31m"))
	g.AddClass("other", nil, cl.exemplars(1, 2, 0.1, ""))
	s := g.load()
	c := s.classes[0].clone()
	c.label = label
	s.classes[0] = c
	return encodeSnapshot(s)
}

// TestStoredControlCharacters: a gallery whose labels hold control bytes
// still opens (so that it can be renamed), the report escapes them, and a
// rename to a clean label is allowed while extending under the raw label is
// not.
func TestStoredControlCharacters(t *testing.T) {
	bad := "\x1b]0;title\x07\n1\tfake"
	g, err := Decode(withRawLabel(t, bad))
	if err != nil {
		t.Fatalf("a stored label with control bytes must still load: %v", err)
	}
	cl := newClusters(42, 4, 3)
	p, err := g.Plan("newcomer", cl.exemplars(2, 3, 0.1, "new\x1b[2J"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := p.Report.String()
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if textsafe.Check(line) >= 0 {
			t.Fatalf("report line carries raw control bytes: %q", line)
		}
	}
	if _, err := g.Enrol(bad, cl.exemplars(0, 1, 0.1, "")); !errors.Is(err, ErrInvalidText) {
		t.Fatalf("Enrol under the raw label: %v", err)
	}
	c, err := g.Lookup(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Rename(c.ID, "clean"); err != nil {
		t.Fatal(err)
	}
}

// TestTopClamped: asking for a billion candidates allocates for the classes
// the gallery has, not for a billion.
func TestTopClamped(t *testing.T) {
	cl := newClusters(43, 8, 5)
	g := mustNew(t, 8, noHoldout())
	for i := 0; i < 5; i++ {
		g.AddClass(string(rune('a'+i)), nil, cl.exemplars(i, 2, 0.1, ""))
	}
	q := cl.sample(0, 0.1)
	var r *Result
	n := testalloc.Bytes(func() {
		r = NewResult(1_000_000_000)
		if err := g.MatchInto(q, r); err != nil {
			t.Fatal(err)
		}
	})
	if n > 64<<10 {
		t.Fatalf("NewResult(1e9) and one match allocated %d bytes", n)
	}
	if len(r.Candidates) != 5 {
		t.Fatalf("%d candidates, want all 5 classes", len(r.Candidates))
	}
	for _, k := range []int{1, 3, 7} {
		r := NewResult(k)
		g.MatchInto(q, r)
		if want := min(k, 5); len(r.Candidates) != want {
			t.Fatalf("NewResult(%d): %d candidates, want %d", k, len(r.Candidates), want)
		}
	}
	// A Result sized by its own Candidates slice keeps working.
	own := &Result{Candidates: make([]Candidate, 0, 2)}
	if g.MatchInto(q, own); len(own.Candidates) != 2 {
		t.Fatalf("caller-sized Result: %d candidates", len(own.Candidates))
	}
	// Once grown, matching allocates nothing, with a huge n too.
	if a := testing.AllocsPerRun(20, func() { g.MatchInto(q, r) }); a != 0 {
		t.Fatalf("%v allocations per match", a)
	}
}

// pngClaiming returns a tiny PNG whose header claims w×h pixels.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	binary.BigEndian.PutUint32(p[16:], w)
	binary.BigEndian.PutUint32(p[20:], h)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// pngBomb is a valid PNG of w×h black grey pixels: kilobytes that decode to
// w·h bytes.
func pngBomb(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReembedHostileCrops: crops that claim or decode to more pixels than
// the limit make Reembed fail cleanly, without allocating the image, and
// leave the gallery unchanged.
func TestReembedHostileCrops(t *testing.T) {
	enc := &fakeEncoder{grid: 2, id: 1}
	bomb := pngBomb(t, 6000, 6000) // 36 Mpx > MaxCropPixels
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	for name, crop := range map[string][]byte{
		"claims 100000x100000":         pngClaiming(t, 100000, 100000),
		"claims 8000x8000 in 70 bytes": pngClaiming(t, 8000, 8000),
		"6000x6000 bomb":               bomb,
	} {
		g := imageGallery(t, enc, 2)
		s := g.load()
		c := s.classes[1].clone()
		c.exemplars = append([]Exemplar(nil), c.exemplars...)
		c.exemplars[0].Crop = crop
		s.classes[1] = c
		g, err := Decode(encodeSnapshot(s))
		if err != nil {
			t.Fatal(err)
		}
		before := g.Encode()
		n := testalloc.Bytes(func() { _, err = g.Reembed(enc) })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
		if name != "claims 8000x8000 in 70 bytes" && !errors.Is(err, ErrImageTooLarge) {
			t.Errorf("%s: got %v, want ErrImageTooLarge", name, err)
		}
		if n > 16<<20 {
			t.Errorf("%s: Reembed allocated %d bytes", name, n)
		}
		if !bytes.Equal(g.Encode(), before) {
			t.Errorf("%s: failed Reembed changed the gallery", name)
		}
	}
}
