package gallery

import (
	"fmt"
	"image"
	"sync"

	"github.com/signet-go/signet/engine"
)

// EngineEncoder adapts an engine to Encoder. It owns one engine.Session and
// serialises Embed calls on it (a session is single-goroutine); use one
// EngineEncoder per goroutine that embeds in parallel.
type EngineEncoder struct {
	e   *engine.Engine
	mu  sync.Mutex
	s   *engine.Session
	dim int
	fp  [32]byte
}

// NewEngineEncoder wraps e, whose first output is the embedding. The
// engine stays the caller's to close; Close releases the session only.
func NewEngineEncoder(e *engine.Engine) (*EngineEncoder, error) {
	outs := e.OutputShapes()
	if len(outs) == 0 {
		return nil, fmt.Errorf("%w: the model has no outputs", ErrDim)
	}
	dim := 1
	for _, d := range outs[0] {
		if d < 1 {
			return nil, fmt.Errorf("%w: output shape %v is not fixed", ErrDim, outs[0])
		}
		dim *= d
	}
	if dim > maxDim {
		return nil, fmt.Errorf("%w: output of %d values, limit %d", ErrDim, dim, maxDim)
	}
	return &EngineEncoder{e: e, s: e.NewSession(), dim: dim, fp: e.Model().Fingerprint()}, nil
}

// Embed runs the network on img and returns a copy of the embedding.
func (x *EngineEncoder) Embed(img image.Image) ([]float32, error) { return x.embed(img, false) }

// EmbedMirrored is Embed of img mirrored left to right (engine's
// Session.EmbedMirrored), the second input of Gallery.MatchMirroredInto.
func (x *EngineEncoder) EmbedMirrored(img image.Image) ([]float32, error) { return x.embed(img, true) }

func (x *EngineEncoder) embed(img image.Image, mirrored bool) ([]float32, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	embed := x.s.Embed
	if mirrored {
		embed = x.s.EmbedMirrored
	}
	v, err := embed(img)
	if err != nil {
		return nil, err
	}
	if len(v) != x.dim {
		return nil, fmt.Errorf("%w: engine returned %d values, want %d", ErrDim, len(v), x.dim)
	}
	return append([]float32(nil), v...), nil
}

// Dim is the embedding size (the first output's element count).
func (x *EngineEncoder) Dim() int { return x.dim }

// Fingerprint is the model's fingerprint.
func (x *EngineEncoder) Fingerprint() [32]byte { return x.fp }

// Close stops the encoder's session.
func (x *EngineEncoder) Close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.s.Close()
}
