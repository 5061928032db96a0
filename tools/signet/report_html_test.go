package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/headless"
)

var updateExample = flag.Bool("update", false, "rewrite the example review page and its screenshot in testdata/report/")

// The committed example, shown in the README; paths from the repository
// root.
var (
	exampleDir   = filepath.FromSlash("testdata/report")
	examplePage  = filepath.Join(exampleDir, "enrolment.html")
	exampleShot  = filepath.Join(exampleDir, "enrolment.png")
	exampleLimit = 300 << 10
	repoRoot     = filepath.FromSlash("../..")
)

var (
	reportSections   = []string{"verdict", "fingerprints", "newcomer", "threshold", "nearest", "flips", "moved", "notes"}
	overviewSections = []string{"fingerprints", "classes"}
	sectionTag       = regexp.MustCompile(`<section id="([a-z]+)">`)
	imgTags          = regexp.MustCompile(`<img src="data:image/(?:jpeg|png);base64,[^"]+" alt="([^"]*)"`)
)

func readPage(t *testing.T, path string) string {
	t.Helper()
	return string(readBytes(t, path))
}

// wantSections checks the page's sections, in order, and its promise to
// load nothing: the Content-Security-Policy, no script, every image inline.
func wantSections(t *testing.T, page string, want []string) {
	t.Helper()
	var got []string
	for _, m := range sectionTag.FindAllStringSubmatch(page, -1) {
		got = append(got, m[1])
	}
	wantEqual(t, got, want, "sections")
	wantContains(t, page, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:;`)
	if strings.Contains(page, "<script") {
		t.Error("page has a script")
	}
	if n, m := strings.Count(page, "<img "), len(imgTags.FindAllString(page, -1)); n != m {
		t.Errorf("%d images, %d of them inline JPEG or PNG", n, m)
	}
}

// thumbAlts returns the alt text of every thumbnail on the page.
func thumbAlts(page string) map[string]int {
	out := map[string]int{}
	for _, m := range imgTags.FindAllStringSubmatch(page, -1) {
		out[m[1]]++
	}
	return out
}

// A refused enrolment still writes its review page, which shows every
// flipped validation image from its file; report writes the same page and
// leaves the gallery alone.
func TestEnrollHTML(t *testing.T) {
	f, val, before := flippingFixture(t)
	page := filepath.Join(f.dir, "review.html")
	args := []string{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "crimson", "-val", val, "-html", page, filepath.Join(val, "red")}
	code, _, errs := runCLI(t, args...)
	wantCode(t, code, exitRuntime, errs)
	wantContains(t, errs, "wrote "+page)
	wantEqual(t, readBytes(t, f.gal), before, "gallery bytes after a refused enrolment")
	html := readPage(t, page)
	wantSections(t, html, reportSections)
	wantContains(t, html, `class="verdict over"`)
	// Every flip has its row and, read from its -val file, its thumbnail
	// (the -val images are also the exemplars: shown twice).
	er := runJSON[enrollResult](t, "report", "-model", f.model, "-gallery", f.gal, "-label", "crimson", "-val", val, "-json", filepath.Join(val, "red"))
	if len(er.Report.Flips) == 0 {
		t.Fatal("the fixture flips nothing")
	}
	alts := thumbAlts(html)
	for _, fl := range er.Report.Flips {
		// A stored sample may also be among the nearest class's exemplars.
		if want := 1 + btoi(strings.HasPrefix(fl.Source, val)); alts[fl.Source] < want {
			t.Errorf("flipped %s shown %d times, want at least %d", fl.Source, alts[fl.Source], want)
		}
	}
	if n := strings.Count(html, "right → wrong</span>"); n != er.Report.NegativeFlips || n == 0 {
		t.Errorf("%d flip rows, report has %d", n, er.Report.NegativeFlips)
	}
	// The red class's stored crops are shown as the nearest class.
	if alts[f.img("red", 0)] != 1 {
		t.Errorf("nearest class's stored crop missing: %v", alts)
	}

	must(t, os.Remove(page))
	code, out, errs := runCLI(t, "report", "-model", f.model, "-gallery", f.gal, "-label", "crimson", "-val", val, "-html", page, filepath.Join(val, "red"))
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "not committed")
	wantEqual(t, readBytes(t, f.gal), before, "gallery bytes after report")
	wantEqual(t, readPage(t, page), html, "report's page against the refused enroll's")

	// A forced enrolment commits; its page names the gallery it was
	// planned against, the file as it was before.
	runOK(t, append(args, "-force")...)
	wantContains(t, readPage(t, page), sha256Hex(before))
}

func TestListHTML(t *testing.T) {
	f := newGalleryFixture(t)
	for _, c := range []string{"red", "blue", "green"} {
		code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", c, filepath.Join(f.data, c))
		wantCode(t, code, exitOK, errs)
	}
	page := filepath.Join(f.dir, "gallery.html")
	code, out, errs := runCLI(t, "list", "-gallery", f.gal, "-html", page)
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "3 classes") // the table still prints
	html := readPage(t, page)
	wantSections(t, html, overviewSections)
	wantContains(t, html, sha256Hex(readBytes(t, f.gal)))
	for _, c := range []string{"red", "blue", "green"} {
		wantContains(t, html, "<td>"+c+"</td>")
	}
	if n := len(imgTags.FindAllString(html, -1)); n != 9 {
		t.Errorf("%d thumbnails, want 3 per class", n)
	}
}

// -html never overwrites the gallery, and a page that cannot be written
// stops enroll before it commits.
func TestHTMLFlagErrors(t *testing.T) {
	f := newGalleryFixture(t)
	f.enrolRed(t)
	before := readBytes(t, f.gal)
	link := filepath.Join(f.dir, "link.gal")
	must(t, os.Link(f.gal, link))
	for _, out := range []string{f.gal, link} {
		for _, args := range [][]string{
			{"enroll", "-model", f.model, "-gallery", f.gal, "-label", "blue", "-html", out, filepath.Join(f.data, "blue")},
			{"report", "-model", f.model, "-gallery", f.gal, "-label", "blue", "-html", out, filepath.Join(f.data, "blue")},
			{"list", "-gallery", f.gal, "-html", out},
		} {
			code, _, errs := runCLI(t, args...)
			wantCode(t, code, exitUsage, errs)
			wantContains(t, errs, "is the gallery file")
			wantEqual(t, readBytes(t, f.gal), before, "gallery bytes")
		}
	}
	missing := filepath.Join(f.dir, "no-such-dir", "page.html")
	code, _, errs := runCLI(t, "enroll", "-model", f.model, "-gallery", f.gal, "-label", "blue", "-html", missing, filepath.Join(f.data, "blue"))
	wantCode(t, code, exitRuntime, errs)
	wantEqual(t, readBytes(t, f.gal), before, "gallery bytes after a failed page")
	wantEqual(t, listLabels(t, f), []string{"red"}, "labels after a failed page")
}

// A page that cannot replace its target leaves no temporary file behind.
func TestWritePageFails(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "taken")
	must(t, os.Mkdir(target, 0o755))
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	if err := writePage(e, target, []byte("<p>x</p>")); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	ents, err := os.ReadDir(dir)
	must(t, err)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The example: the never-seen green plate "SCHOOL" planned from three
// photos into a gallery of the 110 base signs, which takes the held-out
// photo of the green plate "TÄGLICH" from it: one of 110 validation
// samples, over the 0.5% budget, so enroll would refuse it.
const (
	exampleSign   = "plate_green-text-SCHOOL"
	exampleMoved  = "plate_green-text-TÄGLICH"
	examplePhotos = 3
)

// exampleGallery embeds the base signs with the shipped encoder and saves
// them, crops kept, the last third of each class held out as in the demo.
// It runs in the repository root.
func exampleGallery(t *testing.T, dir string) (gal string, photos []string) {
	t.Helper()
	signs := filepath.FromSlash(demoDataRel)
	labels, files, err := classFolders(filepath.Join(signs, demoBaseDir))
	must(t, err)
	imgs := demoImages(signs, demoBaseDir, labels, files)
	eng, err := engine.Load(filepath.FromSlash(demoModelRel), engine.Options{})
	must(t, err)
	defer eng.Close()
	_, err = embedParallel(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}, eng, imgs, 1)
	must(t, err)
	enc, err := gallery.NewEngineEncoder(eng)
	must(t, err)
	g, err := gallery.New(enc.Dim(), enc.Fingerprint(), gallery.DefaultOptions())
	enc.Close()
	must(t, err)
	batch := demoClasses(labels, files, imgs, func(im *demoImage) gallery.Exemplar {
		return gallery.Exemplar{Embedding: im.vec, Source: filepath.ToSlash(im.path), Crop: readBytes(t, im.path)}
	})
	_, err = g.AddClasses(batch)
	must(t, err)
	gal = filepath.Join(dir, "signs.gal")
	must(t, g.Save(gal))
	for i := 0; i < examplePhotos; i++ {
		photos = append(photos, filepath.Join(signs, demoNovelDir, exampleSign, fmt.Sprintf("%02d.png", i)))
	}
	return gal, photos
}

// TestReviewPageInBrowser writes the example's review page and the
// gallery's overview with the command, opens both in headless Chromium and
// checks what a reviewer would see: every section, every image decoded,
// no console error, no request leaving the file, and a screenshot. With
// -update it also rewrites the committed example.
func TestReviewPageInBrowser(t *testing.T) {
	browser, err := headless.Find()
	if errors.Is(err, headless.ErrNoBrowser) && !*updateExample {
		t.Skip("chromium is not installed: apt-get install -y chromium (CI installs it)")
	}
	must(t, err)
	dir := t.TempDir()
	t.Chdir(repoRoot) // the page names files as the README's commands do
	gal, photos := exampleGallery(t, dir)
	page, overview := filepath.Join(dir, "enrolment.html"), filepath.Join(dir, "gallery.html")
	args := append([]string{"report", "-model", filepath.FromSlash(demoModelRel), "-gallery", gal, "-label", exampleSign, "-html", page}, photos...)
	code, out, errs := runCLI(t, args...)
	wantCode(t, code, exitOK, errs)
	wantContains(t, out, "not committed")
	runOK(t, "list", "-gallery", gal, "-html", overview)

	html := readPage(t, page)
	wantSections(t, html, reportSections)
	// The example is chosen for what it shows: a flip over budget, the
	// plate it would break moved.
	wantContains(t, html, `class="verdict over"`)
	wantContains(t, html, "<h3>"+exampleMoved+"</h3>")
	if n := strings.Count(html, "right → wrong</span>"); n == 0 {
		t.Error("the example flips no sample")
	}

	b, err := headless.Start(headless.Options{Browser: browser, Width: 1100, MaxHeight: 1600})
	must(t, err)
	defer b.Close()
	ctx := context.Background()
	res, err := b.Load(ctx, page)
	must(t, err)
	checkRendered(t, res, reportSections, html)
	ov, err := b.Load(ctx, overview)
	must(t, err)
	checkRendered(t, ov, overviewSections, readPage(t, overview))
	if len(ov.Images) != 3*110 {
		t.Errorf("overview shows %d images, want 3 per class", len(ov.Images))
	}

	if *updateExample {
		must(t, os.MkdirAll(exampleDir, 0o755))
		must(t, os.WriteFile(examplePage, []byte(html), 0o644))
		must(t, os.WriteFile(exampleShot, res.Screenshot, 0o644))
		t.Logf("wrote %s (%d bytes) and %s (%d bytes)", examplePage, len(html), exampleShot, len(res.Screenshot))
	}
}

// checkRendered checks one loaded page.
func checkRendered(t *testing.T, res *headless.Result, sections []string, html string) {
	t.Helper()
	wantEqual(t, res.Sections, sections, "rendered sections")
	if want := strings.Count(html, "<img "); len(res.Images) != want || want == 0 {
		t.Errorf("%d images rendered, the page has %d", len(res.Images), want)
	}
	for _, im := range res.Images {
		if im.NaturalWidth <= 0 || im.NaturalHeight <= 0 || !im.Complete {
			t.Errorf("image did not decode: %+v", im)
		}
	}
	if len(res.Console) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(res.Console, "\n"))
	}
	for _, u := range res.Requests {
		if !strings.HasPrefix(u, "data:") {
			t.Errorf("request left the file: %s", u)
		}
	}
	if res.SVGs == 0 && len(sections) > 2 {
		t.Error("no plot rendered")
	}
	checkScreenshot(t, res.Screenshot, 1100)
}

// checkScreenshot checks a PNG of the given width that shows more than a
// blank page.
func checkScreenshot(t *testing.T, shot []byte, width int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if img.Bounds().Dx() != width {
		t.Errorf("screenshot %v wide, want %d", img.Bounds(), width)
	}
	if n := colours(img, 64); n < 20 {
		t.Errorf("screenshot has %d colours: a blank page?", n)
	}
}

// colours counts distinct colours in img, up to limit.
func colours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < limit; y += 3 {
		for x := b.Min.X; x < b.Max.X && len(seen) < limit; x += 3 {
			r, g, bb, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bb, a}] = true
		}
	}
	return len(seen)
}

// The committed example stays small and whole, so the README shows what
// the command writes.
func TestCommittedReviewExample(t *testing.T) {
	t.Chdir(repoRoot)
	for _, p := range []string{examplePage, exampleShot} {
		fi, err := os.Stat(p)
		must(t, err)
		if fi.Size() > int64(exampleLimit) {
			t.Errorf("%s is %d bytes, limit %d", p, fi.Size(), exampleLimit)
		}
	}
	wantSections(t, readPage(t, examplePage), reportSections)
	checkScreenshot(t, readBytes(t, exampleShot), 1100)
}
