package bundle

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/signet-go/signet/gallery"
	"github.com/signet-go/signet/model"

	"github.com/signet-go/signet/model/sign/signtest"
)

// One family of corrupt-file errors: a truncated, bit-flipped or
// future-version model, gallery or bundle is model.ErrCorrupt and the
// model package's specific error of the same kind, and still its own
// package's sentinels.
func TestCorruptFileErrorsAreOneFamily(t *testing.T) {
	f := newFixture(t, signtest.Time, "stop")
	truncated := func(b []byte) []byte { return b[:len(b)/2] }
	flipped := func(b []byte) []byte { // a payload bit, checksums left stale
		c := append([]byte(nil), b...)
		c[len(c)-9] ^= 1
		return c
	}
	future := func(b []byte, at int, width int) []byte {
		c := append([]byte(nil), b...)
		if width == 2 {
			binary.LittleEndian.PutUint16(c[at:], 99)
		} else {
			binary.LittleEndian.PutUint32(c[at:], 99)
		}
		return c
	}
	bundleVersion := future(f.bundle, 8, 4)
	binary.LittleEndian.PutUint32(bundleVersion[60:], crc32.Checksum(bundleVersion[:60], crc32.MakeTable(crc32.Castagnoli)))
	bundleHeaderFlip := append([]byte(nil), f.bundle...)
	bundleHeaderFlip[40] ^= 1 // a length field under the header CRC
	decodeModel := func(b []byte) error { _, err := model.Decode(b); return err }
	decodeGallery := func(b []byte) error { _, err := gallery.Decode(b); return err }
	parseBundle := func(b []byte) error { _, err := Parse(b); return err }
	cases := []struct {
		name   string
		err    error
		family []error // every one must match
	}{
		{"model truncated", decodeModel(truncated(f.model)), []error{model.ErrCorrupt, model.ErrTruncated}},
		{"gallery truncated", decodeGallery(truncated(f.gallery)), []error{model.ErrCorrupt, model.ErrTruncated, gallery.ErrCorrupt, gallery.ErrTruncated}},
		{"gallery checksum", decodeGallery(flipped(f.gallery)), []error{model.ErrCorrupt, model.ErrChecksum, gallery.ErrCorrupt, gallery.ErrChecksum}},
		{"gallery version", decodeGallery(future(f.gallery, 8, 2)), []error{model.ErrCorrupt, model.ErrVersion, gallery.ErrCorrupt, gallery.ErrVersion}},
		{"gallery bad magic", decodeGallery(append([]byte("NOTAGALL"), f.gallery[8:]...)), []error{model.ErrCorrupt, gallery.ErrCorrupt}},
		{"bundle truncated", parseBundle(truncated(f.bundle)), []error{model.ErrCorrupt, model.ErrTruncated, ErrCorrupt, ErrTruncated}},
		{"bundle checksum", parseBundle(bundleHeaderFlip), []error{model.ErrCorrupt, model.ErrChecksum, ErrCorrupt, ErrChecksum}},
		{"bundle version", parseBundle(bundleVersion), []error{model.ErrCorrupt, model.ErrVersion, ErrCorrupt, ErrVersion}},
		{"bundle bad magic", parseBundle([]byte("not a bundle at all, just some text")), []error{model.ErrCorrupt, ErrCorrupt}},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: decoded without error", c.name)
			continue
		}
		for _, want := range c.family {
			if !errors.Is(c.err, want) {
				t.Errorf("%s: %q does not wrap %q", c.name, c.err, want)
			}
		}
	}
	// The families stay apart where they should: a gallery error is not a
	// bundle error, and a truncation is not a checksum mismatch.
	if err := decodeGallery(truncated(f.gallery)); errors.Is(err, ErrCorrupt) || errors.Is(err, model.ErrChecksum) {
		t.Errorf("gallery truncation %q also matches an unrelated sentinel", err)
	}
}
