package headless

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// browser skips the test when Chromium is missing; CI installs it.
func browser(t *testing.T) string {
	t.Helper()
	b, err := Find()
	if errors.Is(err, ErrNoBrowser) {
		t.Skip("chromium not installed (apt-get install chromium); CI installs it")
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func page(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A 1×1 red PNG.
const redDot = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"

// The checks a report test relies on must see what they claim to: a clean
// page passes, and each kind of fault is reported.
func TestLoad(t *testing.T) {
	b, err := Start(Options{Browser: browser(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()

	clean := page(t, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>ok</title>`+
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`+
		`<style>body{background:#fff}</style></head><body><section id="a"><h1>Hello</h1><img src="`+redDot+`"></section>`+
		`<section id="b"><svg width="10" height="10"><rect width="10" height="10" fill="blue"/></svg></section></body></html>`)
	r, err := b.Load(ctx, clean)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "ok" || strings.Join(r.Sections, ",") != "a,b" || r.SVGs != 1 || r.TextLength == 0 {
		t.Errorf("clean page: %+v", r)
	}
	if len(r.Images) != 1 || r.Images[0].NaturalWidth != 1 || !r.Images[0].Complete {
		t.Errorf("clean page images: %+v", r.Images)
	}
	if len(r.Console) != 0 {
		t.Errorf("clean page console: %q", r.Console)
	}
	for _, u := range r.Requests {
		if !strings.HasPrefix(u, "data:") {
			t.Errorf("clean page requested %s", u)
		}
	}
	img, err := png.Decode(bytes.NewReader(r.Screenshot))
	if err != nil || img.Bounds().Dx() != 1100 {
		t.Fatalf("screenshot: %v %v", err, img)
	}

	// A page that reaches outside its file, has a broken image and throws.
	dirty := page(t, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title>`+
		`<link rel="stylesheet" href="other.css"></head><body>`+
		`<img src="data:image/png;base64,AAAA"><img src="missing.png">`+
		`<script>throw new Error("boom")</script></body></html>`)
	r, err = b.Load(ctx, dirty)
	if err != nil {
		t.Fatal(err)
	}
	var outside []string
	for _, u := range r.Requests {
		if !strings.HasPrefix(u, "data:") {
			outside = append(outside, u)
		}
	}
	if len(outside) != 2 || !strings.HasSuffix(outside[0], "/other.css") && !strings.HasSuffix(outside[1], "/other.css") {
		t.Errorf("requests outside the file: %q", outside)
	}
	for _, im := range r.Images {
		if im.NaturalWidth != 0 {
			t.Errorf("broken image decoded: %+v", im)
		}
	}
	joined := strings.Join(r.Console, "\n")
	if !strings.Contains(joined, "boom") || !strings.Contains(joined, "missing.png") {
		t.Errorf("console does not report the exception and the failed load:\n%s", joined)
	}

	// The Content-Security-Policy blocks a request and says so.
	blocked := page(t, `<!DOCTYPE html><html><head><meta charset="utf-8">`+
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:">`+
		`</head><body><img src="elsewhere.png"></body></html>`)
	r, err = b.Load(ctx, blocked)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Console) == 0 || !strings.Contains(strings.Join(r.Console, "\n"), "Content Security Policy") {
		t.Errorf("CSP violation not reported: %q", r.Console)
	}
}

func TestLoadMissingBrowser(t *testing.T) {
	_, err := Load(context.Background(), "x.html", Options{Browser: filepath.Join(t.TempDir(), "no-such-browser")})
	if err == nil {
		t.Fatal("no error for a missing browser")
	}
}
