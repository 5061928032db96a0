package engine

import (
	"crypto/ed25519"
	"fmt"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/sign"
)

// ErrSignature is sign.ErrSignature: Load with Options.TrustedKeys refused
// a model file that is unsigned, wrongly signed or signed by an untrusted
// key.
var ErrSignature = sign.ErrSignature

var errNewTrustedKeys = fmt.Errorf("%w: engine.New cannot verify a signature (it gets a decoded model, not a file): use Load, or model.OpenSigned and New without TrustedKeys", ErrSignature)

// openModel opens path, verifying its signature first when keys is not nil.
func openModel(path string, keys []ed25519.PublicKey) (*model.Model, *sign.Signature, error) {
	if keys == nil {
		m, err := model.Open(path)
		return m, nil, err
	}
	return model.OpenSigned(path, keys)
}

// Signature returns the verified signature of the model file when the
// engine came from Load with Options.TrustedKeys (its KeyID tells which key
// signed), else nil.
func (e *Engine) Signature() *sign.Signature { return e.sig }
