package bundle

import (
	"bytes"
	"errors"
	"testing"

	"github.com/signet-go/signet/model/sign/signtest"
)

// FuzzVerify feeds arbitrary bytes to Parse and Verify. Properties: no
// panic; every error wraps ErrCorrupt or ErrSignature; whatever parses is in
// the one layout (assembling its parts gives back the same bytes); and
// Verify accepts nothing but the two bundles that were signed.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, signtest.Time, "stop", "yield")
	keys := signtest.Public(fx.k)
	f.Add(fx.bundle)
	f.Add(fx.bundle[:headerSize])
	f.Add(fx.bundle[:len(fx.bundle)-1])
	other := newFixture(f, signtest.Time, "stop").bundle
	f.Add(other)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err == nil {
			if !bytes.Equal(assemble(c), data) {
				t.Fatal("a parsed bundle does not reassemble to the same bytes")
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Parse error %v does not wrap ErrCorrupt", err)
		}
		_, err = Verify(data, keys)
		if err == nil && !bytes.Equal(data, fx.bundle) && !bytes.Equal(data, other) {
			t.Fatal("Verify accepted bytes that were not signed")
		}
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify error %v wraps neither ErrCorrupt nor ErrSignature", err)
		}
	})
}
