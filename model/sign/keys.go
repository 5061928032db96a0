package sign

import (
	"bytes"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/signet-go/signet/internal/safefile"
)

// Key files are PEM text (RFC 7468 framing) with two headers:
//
//	-----BEGIN SIGNET ED25519 PRIVATE KEY-----
//	Key-Id: 1f2e3d4c5b6a7980
//	Version: 1
//
//	<base64 of the 32-byte RFC 8032 seed>
//	-----END SIGNET ED25519 PRIVATE KEY-----
//
// A public key file has the type SIGNET ED25519 PUBLIC KEY and the 32-byte
// public key as its body; a file of trusted keys is several public key
// blocks one after the other. Key-Id must be the ID of the key in the block,
// which catches a body pasted under another key's name.
const (
	PrivateKeyType = "SIGNET ED25519 PRIVATE KEY"
	PublicKeyType  = "SIGNET ED25519 PUBLIC KEY"

	keyVersion = "1"
	// MaxKeyFile bounds what is read of a key file, MaxKeys the public keys
	// in one trusted-keys file.
	MaxKeyFile = 64 << 10
	MaxKeys    = 256
)

// ErrKeyFile is wrapped by every error for a malformed key file.
var ErrKeyFile = errors.New("sign: bad key file")

// MarshalPrivateKey returns the key file text of priv. It holds the secret
// seed: write it with WritePrivateKeyFile (mode 0600).
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes, want %d", ErrKeyFile, len(priv), ed25519.PrivateKeySize)
	}
	return encodeBlock(PrivateKeyType, priv.Public().(ed25519.PublicKey), priv.Seed()), nil
}

// MarshalPublicKey returns the key file text of pub.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key is %d bytes, want %d", ErrKeyFile, len(pub), ed25519.PublicKeySize)
	}
	return encodeBlock(PublicKeyType, pub, pub), nil
}

func encodeBlock(typ string, pub ed25519.PublicKey, body []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{
		Type:    typ,
		Headers: map[string]string{"Version": keyVersion, "Key-Id": ID(pub).String()},
		Bytes:   body,
	})
}

// ParsePrivateKey parses a private key file: exactly one private key block
// and nothing else but white space.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	blocks, err := parseBlocks(data, 1)
	if err != nil {
		return nil, err
	}
	if len(blocks) != 1 {
		return nil, fmt.Errorf("%w: no key block", ErrKeyFile)
	}
	b := blocks[0]
	if b.Type != PrivateKeyType {
		return nil, fmt.Errorf("%w: a %q block, want %q", ErrKeyFile, b.Type, PrivateKeyType)
	}
	if len(b.Bytes) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: private key body is %d bytes, want %d", ErrKeyFile, len(b.Bytes), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(b.Bytes)
	if err := checkHeaders(b, priv.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return priv, nil
}

// ParsePublicKeys parses a file of one or more public key blocks (at most
// MaxKeys), separated by nothing but white space. A key listed twice is an
// error: it is almost always a copy-paste mistake.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	blocks, err := parseBlocks(data, MaxKeys)
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%w: no key block", ErrKeyFile)
	}
	keys := make([]ed25519.PublicKey, 0, len(blocks))
	seen := map[KeyID]bool{}
	for i, b := range blocks {
		if b.Type != PublicKeyType {
			if b.Type == PrivateKeyType {
				return nil, fmt.Errorf("%w: key %d is a private key; give the .pub file", ErrKeyFile, i+1)
			}
			return nil, fmt.Errorf("%w: key %d is a %q block, want %q", ErrKeyFile, i+1, b.Type, PublicKeyType)
		}
		if len(b.Bytes) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: key %d: body is %d bytes, want %d", ErrKeyFile, i+1, len(b.Bytes), ed25519.PublicKeySize)
		}
		pub := ed25519.PublicKey(bytes.Clone(b.Bytes))
		if err := checkHeaders(b, pub); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if seen[ID(pub)] {
			return nil, fmt.Errorf("%w: key %s is listed twice", ErrKeyFile, ID(pub))
		}
		seen[ID(pub)] = true
		keys = append(keys, pub)
	}
	return keys, nil
}

// parseBlocks splits data into PEM blocks, insisting that there is nothing
// but white space around and between them (pem.Decode on its own skips any
// text before a block).
func parseBlocks(data []byte, limit int) ([]*pem.Block, error) {
	if len(data) > MaxKeyFile {
		return nil, fmt.Errorf("%w: %d bytes, a key file has at most %d", ErrKeyFile, len(data), MaxKeyFile)
	}
	var out []*pem.Block
	rest := data
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			return out, nil
		}
		at := len(data) - len(rest)
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, fmt.Errorf("%w: unexpected text at byte %d", ErrKeyFile, at)
		}
		if len(out) == limit {
			return nil, fmt.Errorf("%w: more than %d keys", ErrKeyFile, limit)
		}
		b, next := pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%w: malformed key block at byte %d", ErrKeyFile, at)
		}
		out = append(out, b)
		rest = next
	}
}

func checkHeaders(b *pem.Block, pub ed25519.PublicKey) error {
	for k, v := range b.Headers {
		switch k {
		case "Version":
			if v != keyVersion {
				return fmt.Errorf("%w: key file version %.20q, this reader knows %s", ErrKeyFile, v, keyVersion)
			}
		case "Key-Id":
			if v != ID(pub).String() {
				return fmt.Errorf("%w: Key-Id header %.20q but the key's ID is %s", ErrKeyFile, v, ID(pub))
			}
		default:
			return fmt.Errorf("%w: unknown header %.40q", ErrKeyFile, k)
		}
	}
	if _, ok := b.Headers["Version"]; !ok {
		return fmt.Errorf("%w: no Version header", ErrKeyFile)
	}
	return nil
}

// ReadPrivateKeyFile reads and parses a private key file.
func ReadPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	return readKeyFile(path, ParsePrivateKey)
}

// ReadPublicKeysFile reads and parses a file of trusted public keys.
func ReadPublicKeysFile(path string) ([]ed25519.PublicKey, error) {
	return readKeyFile(path, ParsePublicKeys)
}

// readKeyFile reads at most MaxKeyFile+1 bytes of path, so a huge file is
// refused by the parser rather than read whole, and parses them; a parse
// error names path.
func readKeyFile[K any](path string, parse func([]byte) (K, error)) (K, error) {
	var none K
	f, err := os.Open(path)
	if err != nil {
		return none, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	if err != nil {
		return none, err
	}
	k, err := parse(b)
	if err != nil {
		return none, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile writes data to path with the given permissions, atomically
// and durably (temporary file in the same folder, synced, renamed, folder
// synced). Without force an
// existing path is refused with an error wrapping fs.ErrExist. The
// temporary file is created with mode 0600 before any byte is written, so a
// private key is never readable by others, not even briefly.
func WriteKeyFile(path string, data []byte, perm fs.FileMode, force bool) error {
	return writeAtomic(path, data, perm, force)
}

func writeAtomic(path string, data []byte, perm fs.FileMode, force bool) error {
	err := safefile.WriteFile(path, perm, force, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w (use -force to replace it)", path, fs.ErrExist)
	}
	return err
}
