package main

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/internal/safefile"
)

// checkHTMLOut refuses an -html path that names the gallery file: writing
// the page there would destroy the gallery.
func checkHTMLOut(out, galleryPath string) error {
	if out == "" {
		return nil
	}
	a, errA := filepath.Abs(out)
	b, errB := filepath.Abs(galleryPath)
	same := errA == nil && errB == nil && a == b
	if fa, err := os.Stat(out); err == nil {
		if fb, err := os.Stat(galleryPath); err == nil && os.SameFile(fa, fb) {
			same = true
		}
	}
	if same {
		return usagef("-html %s is the gallery file; name another file for the page", out)
	}
	return nil
}

// writePlanHTML writes an enrolment's review page. Images the command was
// given (exemplars and -val images) are shown from their files; no other
// name, in particular none read from the gallery, is ever opened.
func writePlanHTML(e *env, out string, plan *gallery.Plan, files []string, val []gallery.Labelled) error {
	given := make(map[string]bool, len(files)+len(val))
	for _, f := range files {
		given[f] = true
	}
	for _, v := range val {
		given[v.Source] = true
	}
	var b bytes.Buffer
	err := plan.WriteHTML(&b, gallery.HTMLOptions{SampleImage: func(src string) (image.Image, error) {
		if !given[src] {
			return nil, fmt.Errorf("not an input of this command")
		}
		return loadImage(src)
	}})
	if err != nil {
		return err
	}
	return writePage(e, out, b.Bytes())
}

// writeGalleryHTML writes the overview page of a gallery.
func writeGalleryHTML(e *env, out string, g *gallery.Gallery, title string) error {
	var b bytes.Buffer
	if err := g.WriteHTML(&b, gallery.HTMLOptions{Title: title}); err != nil {
		return err
	}
	return writePage(e, out, b.Bytes())
}

// writePage replaces out with data through a temporary file in the same
// folder, so a failed write never leaves half a page.
func writePage(e *env, out string, data []byte) error {
	err := safefile.WriteFile(out, 0o644, true, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(e.stderr, "wrote %s (%d KiB)\n", out, (len(data)+1023)/1024)
	return nil
}
