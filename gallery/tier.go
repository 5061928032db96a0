package gallery

import (
	"math"

	"github.com/signet-go/signet/kernels"
)

// The one place a gallery learns its kernel tier. Every score a gallery
// computes (Match, MatchInto, MatchImage, Calibrate, Plan, the HTML report)
// goes through the dot product of its snapshot, so all of them agree bit for
// bit. A gallery starts on kernels.Best(); one used with an engine takes
// that engine's tier, so engine.Options.ForceTier reaches the scores:
//
//	g.SetTier(enc.Tier()) // enc is the gallery's EngineEncoder

// SetTier makes the gallery score on kernel tier t, or on the tier
// kernels.DotFor falls back to when this machine does not run t; it
// returns the tier actually used. It does not change the gallery's contents
// or version.
func (g *Gallery) SetTier(t kernels.Tier) kernels.Tier {
	d := scorerFor(t)
	g.mu.Lock()
	defer g.mu.Unlock()
	s := *g.load()
	d.int8 = s.dot.int8
	s.dot = d
	g.snap.Store(&s)
	return d.Tier()
}

// Tier reports the kernel tier the gallery scores on.
func (g *Gallery) Tier() kernels.Tier { return g.load().dot.Tier() }

// Tier is the kernel tier of the encoder's engine, the one a gallery it
// fills should score on (Gallery.SetTier).
func (x *EngineEncoder) Tier() kernels.Tier { return x.e.Tier() }

// maxRow is the class score of a unit vector against a class's rows. It
// goes through the same dot product as matching does, so a score computed
// here is bit for bit the score a match would see.
func maxRow(d scorer, e, rows []float32, dim int) float32 {
	n := len(rows) / dim
	var one [1]float32
	out := one[:]
	if n > 1 {
		out = make([]float32, n)
	}
	d.Rows(e, rows, dim, n, out)
	best := float32(math.Inf(-1))
	for _, v := range out[:n] {
		best = max(best, v)
	}
	return best
}
