package model

import "crypto/ed25519"

// OpenSignedRead is OpenSigned without memory mapping, for the tests.
func OpenSignedRead(path string, keys []ed25519.PublicKey) (*Model, error) {
	m, _, err := openSigned(path, keys, readChecked)
	return m, err
}
