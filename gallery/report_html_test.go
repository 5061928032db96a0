package gallery

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"html"
	"html/template"
	"image"
	"image/color"
	_ "image/jpeg" // thumbnails of opaque images
	"image/png"
	"math"
	"regexp"
	"strings"
	"testing"
)

// Labels and file names an attacker could put in a gallery file.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `"><img src=x onerror=alert(2)>`
	hostileBidi   = "photo\u202egnp.exe" // shows as "photoexe.png" unescaped
)

// solidPNG is a w×h PNG of one colour.
func solidPNG(t testing.TB, w, h int, c color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugePNG declares width×height pixels in a valid IHDR and holds almost no
// data: decoding it naively would allocate gigabytes.
func hugePNG(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		b.Write(n[:])
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(c))
		b.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// reviewGallery has hostile labels and sources, crops on every exemplar
// (one too large to decode, one not an image), and a plan whose newcomer
// is a near-clone of the hostile class, so it flips that class's samples.
func reviewGallery(t *testing.T) (*Gallery, *Plan, []byte) {
	t.Helper()
	cl := newClusters(7, 32, 6)
	o := DefaultOptions()
	o.Threshold = 0.3
	g := mustNew(t, 32, o)
	labels := []string{hostileScript, hostileAttr, "sign2", "sign3", "sign4"}
	for i, l := range labels {
		ex := cl.exemplars(i, 10, 0.6, fmt.Sprint("s", i))
		for j := range ex {
			ex[j].Crop = solidPNG(t, 48, 40, color.NRGBA{uint8(40 * i), uint8(20 * j), 200, 255})
		}
		if i == 0 {
			ex[4].Source = hostileAttr // held out (5th): appears among the flips
			ex[3].Source = hostileBidi // training: shown among the nearest class's exemplars
			ex[1].Crop = hugePNG(1<<16, 1<<16)
			ex[2].Crop = []byte("not an image")
		}
		if _, err := g.AddClass(l, map[string]string{"note": hostileScript}, ex); err != nil {
			t.Fatal(err)
		}
	}
	before := g.Encode()
	newEx := cl.exemplars(0, 5, 0.3, "new")
	for j := range newEx {
		newEx[j].Crop = solidPNG(t, 96, 96, color.NRGBA{255, uint8(50 * j), 0, 255})
	}
	newEx[0].Source = hostileScript
	p, err := g.Plan("clone "+hostileAttr, newEx, PlanOptions{ApplyThreshold: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Report.NegativeFlips == 0 {
		t.Fatalf("the clone flips nothing; the fixture needs flips: %+v", p.Report)
	}
	return g, p, before
}

func writeHTML(t *testing.T, write func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	imgTag    = regexp.MustCompile(`<img[^>]*>`)
	attrValue = regexp.MustCompile(`"[^"]*"`)
	dataURI   = regexp.MustCompile(`src="data:image/(png|jpeg);base64,((?:[A-Za-z0-9/=]|&#43;)+)"`) // html/template writes + as &#43;
)

// checkSafePage checks what every page promises whatever the gallery
// holds: no script, nothing that loads from outside, every image a PNG or
// JPEG data URI made here, and no hostile string left raw.
func checkSafePage(t *testing.T, page string) (thumbs []image.Image) {
	t.Helper()
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:; style-src &#39;unsafe-inline&#39;; base-uri &#39;none&#39;; form-action &#39;none&#39;">`) {
		t.Error("page lacks its Content-Security-Policy")
	}
	for _, raw := range []string{hostileScript, hostileAttr, "\u202e", "<script"} {
		if strings.Contains(page, raw) {
			t.Errorf("page holds %q raw", raw)
		}
	}
	// An <img> has exactly the attributes written here: a hostile string
	// may appear escaped inside a quoted value, never as an attribute.
	for _, tag := range imgTag.FindAllString(page, -1) {
		names := attrValue.ReplaceAllString(strings.TrimSuffix(strings.TrimPrefix(tag, "<img"), ">"), "")
		if strings.Join(strings.Fields(names), " ") != "src= alt= title=" {
			t.Errorf("<img> attributes %q in %s", names, tag)
		}
	}
	for _, u := range regexp.MustCompile(`(?i)(?:https?|ftp|file|wss?):`).FindAllStringIndex(page, -1) {
		if ctx := page[u[0]:min(len(page), u[0]+26)]; ctx != "http://www.w3.org/2000/svg" {
			t.Errorf("page names a URL: %q", ctx)
		}
	}
	for _, tag := range imgTag.FindAllString(page, -1) {
		m := dataURI.FindStringSubmatch(tag)
		if m == nil {
			t.Errorf("image not from a PNG or JPEG data URI: %s", tag)
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[2]))
		if err != nil {
			t.Fatal(err)
		}
		img, format, err := image.Decode(bytes.NewReader(raw))
		if err != nil || format != m[1] {
			t.Fatalf("thumbnail does not decode as %s: %s, %v", m[1], format, err)
		}
		thumbs = append(thumbs, img)
	}
	return thumbs
}

func TestPlanWriteHTML(t *testing.T) {
	g, p, before := reviewGallery(t)
	page := writeHTML(t, func(b *bytes.Buffer) error { return p.WriteHTML(b, HTMLOptions{}) })
	r := p.Report

	for _, id := range []string{"verdict", "fingerprints", "newcomer", "threshold", "nearest", "flips", "moved", "notes"} {
		if !strings.Contains(page, `<section id="`+id+`">`) {
			t.Errorf("no section %q", id)
		}
	}
	thumbs := checkSafePage(t, page)
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",        // a label, escaped
		"&#34;&gt;&lt;img src=x onerror=alert(2)&gt;",  // the other, in text
		`photo\u202egnp.exe`,                           // a bidi override made visible
		"Over budget",                                  // the verdict in words
		"image not shown: image larger than the pixel", // the oversized crop, named
		"image not shown: not a PNG or JPEG image",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The fingerprints name the gallery the plan was made against and the
	// encoder.
	sum := sha256.Sum256(before)
	f := g.Fingerprint()
	for _, want := range []string{hex.EncodeToString(sum[:]), hex.EncodeToString(f[:]), p.digest()} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks fingerprint %s", want)
		}
	}
	// Every flip is a row; every stored image that decodes is a thumbnail
	// no larger than 64 px: 5 newcomer exemplars, 8 per nearest class minus
	// the two broken crops of class 0, and one per flip.
	if got := strings.Count(page, "right → wrong</span>"); got != r.NegativeFlips {
		t.Errorf("%d negative flip rows, report has %d", got, r.NegativeFlips)
	}
	if got := strings.Count(page, "wrong → right</span>"); got != r.PositiveFlips {
		t.Errorf("%d positive flip rows, report has %d", got, r.PositiveFlips)
	}
	if want := 5 + 8*len(r.Nearest) - 2 + len(r.Flips); len(thumbs) != want {
		t.Errorf("%d thumbnails, want %d", len(thumbs), want)
	}
	for _, im := range thumbs {
		if b := im.Bounds(); b.Dx() > 64 || b.Dy() > 64 || b.Dx() < 1 {
			t.Fatalf("thumbnail %v", b)
		}
	}
	// The hostile class moved: its histogram is drawn with its label
	// escaped inside the SVG.
	if !strings.Contains(page, "<title>Scores against &lt;script&gt;alert(1)&lt;/script&gt;</title>") {
		t.Error("no histogram for the moved class")
	}
	// The page's leave-one-out count is the report's.
	ok := int(math.Round(r.LeaveOneOutAccuracy * float64(r.LeaveOneOutSamples)))
	if want := fmt.Sprintf("%d of %d exemplars are recognised", ok, r.LeaveOneOutSamples); !strings.Contains(page, want) {
		t.Errorf("page lacks %q", want)
	}
	// Each newcomer exemplar has its leave-one-out score.
	if got := strings.Count(page, "scored with itself left out") + strings.Count(page, "scored against the full newcomer"); got != r.NewExemplars {
		t.Errorf("%d exemplar rows, want %d", got, r.NewExemplars)
	}
}

// The verdict follows the report: a harmless newcomer is within budget.
func TestPlanWriteHTMLWithinBudget(t *testing.T) {
	g, cl := planGallery(t)
	p, err := g.Plan("far away", cl.exemplars(9, 5, 0.6, "new"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page := writeHTML(t, func(b *bytes.Buffer) error { return p.WriteHTML(b, HTMLOptions{}) })
	checkSafePage(t, page)
	for _, want := range []string{`class="verdict ok"`, "Within budget", "Commit accepts this plan", "no existing class moved", "no stored image"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "Over budget") {
		t.Error("harmless plan reported over budget")
	}
}

// SampleImage is asked only for samples the caller supplied without a
// crop, never for a name read from the gallery.
func TestPlanWriteHTMLSampleImage(t *testing.T) {
	cl := newClusters(7, 32, 4)
	o := DefaultOptions()
	o.Threshold = 0.3
	g := mustNew(t, 32, o)
	ex := cl.exemplars(0, 10, 0.6, "stored")
	ex[4].Source = "/gallery/says/read/this.png" // held out, no crop
	ex[4].Embedding = cl.sample(0, 0.05)         // at the centre: the clone takes it
	if _, err := g.AddClass("sign0", nil, ex); err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddClass("sign1", nil, cl.exemplars(1, 10, 0.6, "s1")); err != nil {
		t.Fatal(err)
	}
	val := []Labelled{{Label: "sign0", Embedding: cl.sample(0, 0.05), Source: "caller-val.png"}}
	p, err := g.Plan("clone", cl.exemplars(0, 3, 0.3, "new"), PlanOptions{Validation: val, ApplyThreshold: true})
	if err != nil {
		t.Fatal(err)
	}
	flipped := map[string]bool{}
	for _, f := range p.Report.Flips {
		flipped[f.Source] = true
	}
	if !flipped["caller-val.png"] || !flipped[ex[4].Source] {
		t.Fatalf("fixture must flip both samples: %+v", p.Report.Flips)
	}
	var asked []string
	page := writeHTML(t, func(b *bytes.Buffer) error {
		return p.WriteHTML(b, HTMLOptions{SampleImage: func(src string) (image.Image, error) {
			asked = append(asked, src)
			if src == "new#b" {
				return nil, errors.New("gone")
			}
			return image.NewGray(image.Rect(0, 0, 300, 100)), nil
		}})
	})
	want := []string{"new#a", "new#b", "new#c", "caller-val.png"}
	if fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Fatalf("SampleImage asked for %q, want %q", asked, want)
	}
	thumbs := checkSafePage(t, page)
	if len(thumbs) != 3 || thumbs[0].Bounds().Dx() != 64 || thumbs[0].Bounds().Dy() != 21 {
		t.Fatalf("%d thumbnails, first %v; want 3, 64x21", len(thumbs), thumbs[0].Bounds())
	}
	if !strings.Contains(page, "image not shown: gone") {
		t.Error("a failed SampleImage is not named")
	}
}

func TestPlanWriteHTMLErrors(t *testing.T) {
	if err := (&Plan{Report: &Report{}}).WriteHTML(&bytes.Buffer{}, HTMLOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("hand-made plan: %v", err)
	}
	var nilPlan *Plan
	if err := nilPlan.WriteHTML(&bytes.Buffer{}, HTMLOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil plan: %v", err)
	}
	g, cl := planGallery(t)
	p, err := g.Plan("x", cl.exemplars(9, 2, 0.6, "n"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{-1, 4, 10000} {
		if err := p.WriteHTML(&bytes.Buffer{}, HTMLOptions{ThumbSize: size}); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("thumb size %d: %v", size, err)
		}
		if err := g.WriteHTML(&bytes.Buffer{}, HTMLOptions{ThumbSize: size}); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("overview thumb size %d: %v", size, err)
		}
	}
}

// The enrolment digest changes with anything Commit would apply.
func TestPlanDigest(t *testing.T) {
	g, cl := planGallery(t)
	ex := cl.exemplars(9, 3, 0.6, "n")
	plan := func(label string, ex []Exemplar, o PlanOptions) string {
		p, err := g.Plan(label, ex, o)
		if err != nil {
			t.Fatal(err)
		}
		return p.digest()
	}
	base := plan("x", ex, PlanOptions{})
	if again := plan("x", ex, PlanOptions{}); again != base {
		t.Fatal("digest is not deterministic")
	}
	moved := append([]Exemplar(nil), ex...)
	moved[1].Source = "other"
	cropped := append([]Exemplar(nil), ex...)
	cropped[2].Crop = []byte{1}
	for name, d := range map[string]string{
		"label":     plan("y", ex, PlanOptions{}),
		"source":    plan("x", moved, PlanOptions{}),
		"crop":      plan("x", cropped, PlanOptions{}),
		"threshold": plan("x", ex, PlanOptions{ApplyThreshold: true}),
		"meta":      plan("x", ex, PlanOptions{Meta: map[string]string{"k": "v"}}),
		"extends":   plan("sign1", ex, PlanOptions{}),
	} {
		if d == base {
			t.Errorf("digest ignores the %s", name)
		}
	}
}

func TestGalleryWriteHTML(t *testing.T) {
	g, _, _ := reviewGallery(t)
	if _, err := g.Calibrate(0.1, CalibrateOptions{}); err != nil {
		t.Fatal(err)
	}
	page := writeHTML(t, func(b *bytes.Buffer) error { return g.WriteHTML(b, HTMLOptions{}) })
	for _, id := range []string{"fingerprints", "classes"} {
		if !strings.Contains(page, `<section id="`+id+`">`) {
			t.Errorf("no section %q", id)
		}
	}
	thumbs := checkSafePage(t, page)
	// Three exemplars per class; class 0's 2nd and 3rd crops do not decode.
	if want := 3*g.Len() - 2; len(thumbs) != want {
		t.Errorf("%d thumbnails, want %d", len(thumbs), want)
	}
	sum := sha256.Sum256(g.Encode())
	if !strings.Contains(page, hex.EncodeToString(sum[:])) {
		t.Error("page lacks the gallery's SHA-256")
	}
	// One row per class with its nearest other class, checked against a
	// plain all-pairs search.
	rows := regexp.MustCompile(`<tr><td class="num">(\d+)</td><td>([^<]*)</td>.*?<td>([^<]*)</td><td class="num">([0-9.-]*)</td></tr>`).FindAllStringSubmatch(page, -1)
	if len(rows) != g.Len() {
		t.Fatalf("%d class rows, want %d", len(rows), g.Len())
	}
	s := g.load()
	for i, c := range s.classes {
		best, bestCos := -1, float32(-2)
		for j, o := range s.classes {
			if v := dot(c.rows, o.rows); j != i && v > bestCos {
				best, bestCos = j, v
			}
		}
		if got, want := rows[i][4], fmt.Sprintf("%.4f", bestCos); got != want {
			t.Errorf("class %d nearest cosine %s, want %s", c.id, got, want)
		}
		if got, want := rows[i][3], template.HTMLEscapeString(s.classes[best].label); got != want {
			t.Errorf("class %d nearest %s, want %s", c.id, got, want)
		}
		if got, want := rows[i][2], template.HTMLEscapeString(c.label); got != want {
			t.Errorf("class %d label %s, want %s", c.id, got, want)
		}
	}
	if !strings.Contains(page, fmt.Sprintf("%.1f%% of %d", 100*s.classes[0].gar, s.classes[0].garN)) {
		t.Error("page lacks the calibrated genuine-accept rate")
	}
}

// However many exemplars a plan has, the page stops adding thumbnails
// after a bound and says so; every row is still listed.
func TestPlanWriteHTMLBounded(t *testing.T) {
	g, cl := planGallery(t)
	crop := solidPNG(t, 2, 2, color.NRGBA{1, 2, 3, 255})
	ex := cl.exemplars(9, htmlMaxThumbRows+7, 0.6, "n")
	for i := range ex {
		ex[i].Crop = crop
	}
	p, err := g.Plan("many", ex, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page := writeHTML(t, func(b *bytes.Buffer) error { return p.WriteHTML(b, HTMLOptions{}) })
	thumbs := checkSafePage(t, page)
	if len(thumbs) != htmlMaxThumbRows {
		t.Errorf("%d thumbnails, want %d", len(thumbs), htmlMaxThumbRows)
	}
	if !strings.Contains(page, "7 rows are listed without a thumbnail") {
		t.Error("the page does not say rows lack thumbnails")
	}
	if got := strings.Count(page, "scored with itself left out") + strings.Count(page, "scored against the full newcomer"); got != len(ex) {
		t.Errorf("%d exemplar rows, want %d", got, len(ex))
	}
}
