package signtest

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

func TestKeysAreDeterministicAndDistinct(t *testing.T) {
	if !Key(1).Equal(Key(1)) || Key(1).Equal(Key(2)) {
		t.Fatal("Key(seed) must give the same key for a seed and different keys for different seeds")
	}
	pubs := Public(Key(1), Key(2))
	if len(pubs) != 2 || !bytes.Equal(pubs[0], Key(1).Public().(ed25519.PublicKey)) || !bytes.Equal(pubs[1], Key(2).Public().(ed25519.PublicKey)) {
		t.Fatalf("Public returned %x", pubs)
	}
	msg := []byte("m")
	if !ed25519.Verify(pubs[0], msg, ed25519.Sign(Key(1), msg)) {
		t.Fatal("a signature by Key(1) does not verify with Public(Key(1))")
	}
}
