package sign

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/signet-go/signet/model/sign/signtest"
)

// FuzzVerify feeds arbitrary signature records and file contents to Parse
// and Verify. Properties: no panic; every error wraps ErrSignature; a record
// that parses marshals back to the same bytes (one encoding); and Verify
// accepts only the one record and the one file that were signed: any other
// bytes in either are refused.
func FuzzVerify(f *testing.F) {
	k := signtest.Key(1)
	keys := []ed25519.PublicKey{pubOf(k), pubOf(signtest.Key(2))}
	good := mustSign(f, KindModel, k, testData)
	f.Add(good, testData)
	f.Add(good[:Size-1], testData)
	f.Add(good, testData[:4])
	f.Add(mustSign(f, KindGallery, k, testData), testData)
	f.Add(mustSign(f, KindModel, signtest.Key(3), testData), testData)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, rec, data []byte) {
		if s, err := Parse(rec); err == nil {
			if !bytes.Equal(s.Marshal(), rec) {
				t.Fatal("Parse then Marshal changed the record")
			}
		} else if !errors.Is(err, ErrSignature) {
			t.Fatalf("Parse error %v does not wrap ErrSignature", err)
		}
		_, err := Verify(KindModel, rec, data, keys)
		if err == nil && (!bytes.Equal(rec, good) || !bytes.Equal(data, testData)) {
			t.Fatal("Verify accepted bytes that were not signed")
		}
		if err != nil && !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify error %v does not wrap ErrSignature", err)
		}
	})
}

// FuzzParseKeys feeds arbitrary key files to both parsers. Properties: no
// panic; errors wrap ErrKeyFile; whatever parses marshals to a file that
// parses to the same keys.
func FuzzParseKeys(f *testing.F) {
	priv, _ := MarshalPrivateKey(signtest.Key(1))
	pub, _ := MarshalPublicKey(pubOf(signtest.Key(1)))
	pub2, _ := MarshalPublicKey(pubOf(signtest.Key(2)))
	f.Add(priv)
	f.Add(pub)
	f.Add(append(bytes.Clone(pub), pub2...))
	f.Add(pub[:len(pub)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePrivateKey(data); err == nil {
			b, err := MarshalPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			if k2, err := ParsePrivateKey(b); err != nil || !k2.Equal(k) {
				t.Fatalf("private key does not round-trip: %v", err)
			}
		} else if !errors.Is(err, ErrKeyFile) {
			t.Fatalf("error %v does not wrap ErrKeyFile", err)
		}
		keys, err := ParsePublicKeys(data)
		if err != nil {
			if !errors.Is(err, ErrKeyFile) {
				t.Fatalf("error %v does not wrap ErrKeyFile", err)
			}
			return
		}
		var all []byte
		for _, k := range keys {
			b, err := MarshalPublicKey(k)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		again, err := ParsePublicKeys(all)
		if err != nil || len(again) != len(keys) {
			t.Fatalf("public keys do not round-trip: %v", err)
		}
		for i := range keys {
			if !again[i].Equal(keys[i]) {
				t.Fatalf("key %d changed in the round trip", i)
			}
		}
	})
}
