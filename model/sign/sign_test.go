package sign

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/signet-go/signet/model/sign/signtest"
)

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

var (
	testTime = signtest.Time
	testFP   = [32]byte{1, 2, 3}
	testData = []byte("the bytes of some signet file, standing in for a model")
)

func mustSign(t testing.TB, kind Kind, k ed25519.PrivateKey, data []byte) []byte {
	t.Helper()
	s, err := Sign(kind, k, testFP, data, testTime)
	if err != nil {
		t.Fatal(err)
	}
	return s.Marshal()
}

func wantSigErr(t *testing.T, err error, sub string) {
	t.Helper()
	signtest.WantRefused(t, err, ErrSignature, nil, sub)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	k := signtest.Key(1)
	rec := mustSign(t, KindModel, k, testData)
	if len(rec) != Size {
		t.Fatalf("record is %d bytes, want %d", len(rec), Size)
	}
	s, err := Verify(KindModel, rec, testData, []ed25519.PublicKey{pubOf(signtest.Key(9)), pubOf(k)})
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != ID(pubOf(k)) || s.Fingerprint != testFP || !s.Time.Equal(testTime) || s.FileSize != uint64(len(testData)) {
		t.Fatalf("verified record %+v does not state what was signed", s)
	}
	if err := s.CheckFingerprint("model", testFP); err != nil {
		t.Fatal(err)
	}
	wantSigErr(t, s.CheckFingerprint("model", [32]byte{9}), "fingerprint")
	again, err := Parse(rec)
	if err != nil || !bytes.Equal(again.Marshal(), rec) {
		t.Fatalf("Parse/Marshal do not round-trip: %v", err)
	}
}

// Every byte of the file is covered: changing any one is refused.
func TestVerifyTamperedContent(t *testing.T) {
	k := signtest.Key(1)
	rec := mustSign(t, KindGallery, k, testData)
	keys := []ed25519.PublicKey{pubOf(k)}
	for i := range testData {
		d := bytes.Clone(testData)
		d[i] ^= 0x20
		_, err := Verify(KindGallery, rec, d, keys)
		wantSigErr(t, err, "content does not match")
	}
	_, err := Verify(KindGallery, rec, testData[:len(testData)-1], keys)
	wantSigErr(t, err, "content does not match")
	_, err = Verify(KindGallery, rec, append(bytes.Clone(testData), 0), keys)
	wantSigErr(t, err, "content does not match")
}

// Every byte of the record is covered too: a flipped bit anywhere is
// refused, whether it breaks the structure, names another key or breaks
// the Ed25519 signature.
func TestVerifyTamperedRecord(t *testing.T) {
	k := signtest.Key(1)
	rec := mustSign(t, KindModel, k, testData)
	for i := range rec {
		for _, bit := range []byte{0x01, 0x80} {
			r := bytes.Clone(rec)
			r[i] ^= bit
			if _, err := Verify(KindModel, r, testData, []ed25519.PublicKey{pubOf(k)}); !errors.Is(err, ErrSignature) {
				t.Fatalf("byte %d ^ %#x: got %v, want ErrSignature", i, bit, err)
			}
		}
	}
}

func TestVerifyWrongKey(t *testing.T) {
	rec := mustSign(t, KindModel, signtest.Key(1), testData)
	other := pubOf(signtest.Key(2))
	_, err := Verify(KindModel, rec, testData, []ed25519.PublicKey{other})
	wantSigErr(t, err, "signed by key "+ID(pubOf(signtest.Key(1))).String()+", which is not trusted (trusted: "+ID(other).String())
}

// A key whose ID collides with the signer's (forced here by editing the
// record's key ID to the trusted key's) does not make the signature valid.
func TestVerifyKeyIDIsOnlyAHint(t *testing.T) {
	rec := mustSign(t, KindModel, signtest.Key(1), testData)
	other := pubOf(signtest.Key(2))
	id := ID(other)
	copy(rec[16:24], id[:])
	_, err := Verify(KindModel, rec, testData, []ed25519.PublicKey{other})
	wantSigErr(t, err, "does not verify")
}

func TestVerifyTruncatedSignature(t *testing.T) {
	k := signtest.Key(1)
	rec := mustSign(t, KindModel, k, testData)
	for n := 0; n < len(rec); n++ {
		_, err := Verify(KindModel, rec[:n], testData, []ed25519.PublicKey{pubOf(k)})
		wantSigErr(t, err, "bytes, a signet signature is 168")
	}
	_, err := Verify(KindModel, append(bytes.Clone(rec), 0), testData, []ed25519.PublicKey{pubOf(k)})
	wantSigErr(t, err, "169 bytes")
}

// A signature of one file does not verify another (it names the other
// file's size and SHA-256), and a signature of one kind does not pass as
// another kind, even with the kind byte edited (the context string differs).
func TestVerifyMovedSignature(t *testing.T) {
	k := signtest.Key(1)
	keys := []ed25519.PublicKey{pubOf(k)}
	other := []byte("another file signed by the same key")
	recOther := mustSign(t, KindModel, k, other)
	if _, err := Verify(KindModel, recOther, other, keys); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(KindModel, recOther, testData, keys)
	wantSigErr(t, err, "the signature of another file")

	rec := mustSign(t, KindModel, k, testData)
	_, err = Verify(KindGallery, rec, testData, keys)
	wantSigErr(t, err, "this is a model signature, not a gallery signature")
	rec[12] = byte(KindGallery)
	_, err = Verify(KindGallery, rec, testData, keys)
	wantSigErr(t, err, "does not verify")
}

func TestVerifyKeySetChecks(t *testing.T) {
	rec := mustSign(t, KindModel, signtest.Key(1), testData)
	for _, keys := range [][]ed25519.PublicKey{nil, {}} {
		_, err := Verify(KindModel, rec, testData, keys)
		wantSigErr(t, err, "no trusted keys")
	}
	_, err := Verify(KindModel, rec, testData, []ed25519.PublicKey{make([]byte, 31)})
	wantSigErr(t, err, "trusted key 0 is 31 bytes")
	if _, err := Sign(KindModel, make([]byte, 10), testFP, testData, testTime); err == nil {
		t.Fatal("Sign accepted a 10-byte private key")
	}
	if _, err := Sign(Kind(9), signtest.Key(1), testFP, testData, testTime); err == nil {
		t.Fatal("Sign accepted an unknown kind")
	}
}

func TestParseRejects(t *testing.T) {
	rec := mustSign(t, KindModel, signtest.Key(1), testData)
	for name, edit := range map[string]func([]byte){
		"magic":    func(b []byte) { b[1] = 'X' },
		"version":  func(b []byte) { b[8] = 2 },
		"kind":     func(b []byte) { b[12] = 0 },
		"kind 4":   func(b []byte) { b[12] = 4 },
		"reserved": func(b []byte) { b[14] = 1 },
	} {
		b := bytes.Clone(rec)
		edit(b)
		if _, err := Parse(b); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: got %v, want ErrSignature", name, err)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadFile(filepath.Join(dir, "missing.sig"))
	if !errors.Is(err, ErrSignature) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing signature: %v, want ErrSignature and fs.ErrNotExist", err)
	}
	wantSigErr(t, err, "unsigned")
	big := filepath.Join(dir, "big.sig")
	if err := os.WriteFile(big, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(big)
	if err != nil || len(b) != Size+1 {
		t.Fatalf("ReadFile read %d bytes (%v), want at most %d", len(b), err, Size+1)
	}
	s, err := Sign(KindModel, signtest.Key(1), testFP, testData, testTime)
	if err != nil {
		t.Fatal(err)
	}
	p := Path(filepath.Join(dir, "m.sgn"))
	if err := s.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p); err != nil || !bytes.Equal(b, s.Marshal()) {
		t.Fatalf("written record does not read back: %v", err)
	}
}

func TestKeyFilesRoundTrip(t *testing.T) {
	k := signtest.Key(3)
	priv, err := MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(priv, []byte("-----BEGIN SIGNET ED25519 PRIVATE KEY-----\nKey-Id: "+ID(pubOf(k)).String()+"\nVersion: 1\n")) {
		t.Fatalf("private key file:\n%s", priv)
	}
	got, err := ParsePrivateKey(priv)
	if err != nil || !got.Equal(k) {
		t.Fatalf("private key does not round-trip: %v", err)
	}
	var ring []byte
	for _, s := range []byte{3, 4, 5} {
		p, err := MarshalPublicKey(pubOf(signtest.Key(s)))
		if err != nil {
			t.Fatal(err)
		}
		ring = append(append(ring, p...), "\n\r\n"...)
	}
	keys, err := ParsePublicKeys(ring)
	if err != nil || len(keys) != 3 || !keys[2].Equal(pubOf(signtest.Key(5))) {
		t.Fatalf("ring of 3 keys: %d keys, %v", len(keys), err)
	}
}

func TestKeyFilesRejects(t *testing.T) {
	k := signtest.Key(3)
	priv, _ := MarshalPrivateKey(k)
	pub, _ := MarshalPublicKey(pubOf(k))
	other, _ := MarshalPublicKey(pubOf(signtest.Key(4)))
	swapped := bytes.Replace(pub, bytes.Split(pub, []byte("\n"))[4], bytes.Split(other, []byte("\n"))[4], 1)
	var many []byte
	for i := 0; i <= MaxKeys; i++ {
		p, _ := MarshalPublicKey(pubOf(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 16))))
		many = append(many, p...)
	}
	cases := map[string]struct {
		data    []byte
		private bool
		want    string
	}{
		"text before":       {append([]byte("hello\n"), pub...), false, "unexpected text at byte 0"},
		"text after":        {append(bytes.Clone(pub), "trailer"...), false, "unexpected text"},
		"private as public": {priv, false, "is a private key; give the .pub file"},
		"public as private": {pub, true, "want \"SIGNET ED25519 PRIVATE KEY\""},
		"two private keys":  {append(bytes.Clone(priv), priv...), true, "more than 1 keys"},
		"empty":             {nil, false, "no key block"},
		"unterminated":      {pub[:len(pub)-10], false, "malformed key block"},
		"body of other key": {swapped, false, "Key-Id header"},
		"duplicate":         {append(bytes.Clone(pub), pub...), false, "listed twice"},
		"too many":          {many, false, "more than 256 keys"},
		"unknown header":    {bytes.Replace(pub, []byte("Version: 1"), []byte("Version: 1\nComment: x"), 1), false, "unknown header"},
		"version 2":         {bytes.Replace(pub, []byte("Version: 1"), []byte("Version: 2"), 1), false, "key file version"},
		"no version":        {bytes.Replace(pub, []byte("Version: 1\n"), nil, 1), false, "no Version header"},
		"huge":              {append(bytes.Clone(pub), bytes.Repeat([]byte(" "), MaxKeyFile)...), false, "a key file has at most"},
	}
	for name, c := range cases {
		var err error
		if c.private {
			_, err = ParsePrivateKey(c.data)
		} else {
			_, err = ParsePublicKeys(c.data)
		}
		if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrKeyFile saying %q", name, err, c.want)
		}
	}
}

func TestWriteKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k.key")
	if err := WriteKeyFile(p, []byte("one"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("private key mode %v (%v), want 0600", st.Mode().Perm(), err)
		}
	}
	err := WriteKeyFile(p, []byte("two"), 0o600, false)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwrite without force: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("refused overwrite changed the file to %q", b)
	}
	if err := WriteKeyFile(p, []byte("two"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("forced overwrite left %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}
