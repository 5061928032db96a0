// Package signtest holds what signet's signature tests share: deterministic
// Ed25519 keys, a fixed signing time, and the check that a refusal is a
// signature error raised before any byte was decoded. It imports nothing of
// signet, so package sign's own tests can use it too.
package signtest

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

// Time is the signing time of every test signature.
var Time = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Key returns the Ed25519 key whose seed is 32 copies of seed: the same key
// in every test and every run.
func Key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// Public returns the public halves of ks, a trusted-key set.
func Public(ks ...ed25519.PrivateKey) []ed25519.PublicKey {
	out := make([]ed25519.PublicKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.Public().(ed25519.PublicKey))
	}
	return out
}

// WantRefused fails t unless err wraps sig (the package's ErrSignature),
// does not wrap corrupt (the bytes reached a decoder before the signature
// check; nil skips this) and its message contains sub.
func WantRefused(t testing.TB, err, sig, corrupt error, sub string) {
	t.Helper()
	if !errors.Is(err, sig) {
		t.Fatalf("error %v does not wrap %v", err, sig)
	}
	if corrupt != nil && errors.Is(err, corrupt) {
		t.Fatalf("error %v wraps %v: the bytes were decoded before the signature check", err, corrupt)
	}
	if !strings.Contains(err.Error(), sub) {
		t.Fatalf("error %q does not say %q", err, sub)
	}
}
