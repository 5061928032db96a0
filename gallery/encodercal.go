package gallery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/signet-go/signet/internal/fileerr"
	"github.com/signet-go/signet/internal/textsafe"
	"github.com/signet-go/signet/model"
)

// EncoderCalibrationKey is the model metadata key (model.Metadata.Extra)
// under which the converter stores an encoder's impostor calibration as the
// JSON of EncoderCalibration.
const EncoderCalibrationKey = "impostor_calibration"

// Limits of an encoder calibration: what MeasureEncoderCalibration computes
// and ParseEncoderCalibration accepts.
const (
	// MaxCalibrationScores bounds the impostor scores measured (4 bytes
	// each while the thresholds are found): 8 Mi scores is 32 MiB.
	MaxCalibrationScores = 8 << 20
	// MaxCalibrationBytes bounds the stored JSON, checked before decoding.
	MaxCalibrationBytes = 64 << 10
	// MaxCalibrationSource bounds EncoderCalibration.Source, in bytes.
	MaxCalibrationSource = 1024
	// maxCalibrationPoints bounds the table a stored calibration may carry.
	maxCalibrationPoints = 64
)

var (
	// ErrInvalidCalibration reports a stored encoder calibration that
	// cannot be used. It is also model.ErrInvalidMetadata (so
	// model.ErrCorrupt): the calibration is part of the model file.
	ErrInvalidCalibration = fileerr.New("gallery: invalid encoder calibration", model.ErrInvalidMetadata)
	// ErrUnresolvedFAR reports a false-accept rate below the smallest an
	// encoder calibration's scores resolve.
	ErrUnresolvedFAR = errors.New("gallery: false-accept rate not resolved by the encoder calibration")
)

// calibrationFARs is the grid MeasureEncoderCalibration tabulates, largest
// first; a rate is kept only when the scores resolve it (resolvesFAR).
var calibrationFARs = []float64{0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001}

// CalibrationPoint is one row of an encoder calibration: at most FAR of the
// impostor scores reach Threshold.
type CalibrationPoint struct {
	FAR       float64 `json:"far"`
	Threshold float32 `json:"threshold"`
}

// EncoderCalibration is the impostor-score distribution of an encoder,
// measured on background classes no gallery enrols: for a class enrolled
// from Shots exemplars, the threshold that keeps the share of unseen
// designs it falsely accepts at each tabulated rate. It gives a new gallery
// an honest default threshold before the gallery has impostors of its own.
type EncoderCalibration struct {
	Version    int    `json:"version"`    // 1
	Shots      int    `json:"shots"`      // exemplars per background prototype
	Classes    int    `json:"classes"`    // background classes
	Embeddings int    `json:"embeddings"` // background embeddings, all classes
	Scores     int    `json:"scores"`     // impostor scores: Embeddings·(Classes−1)
	Source     string `json:"source"`     // free text: what the background was
	// Points are ordered by FAR, strictly decreasing; thresholds are then
	// non-decreasing.
	Points []CalibrationPoint `json:"points"`
	// Mirror, when present, is the margin of the chirality check
	// (Gallery.MatchMirroredInto), measured on the same background
	// (MeasureMirror).
	Mirror *MirrorCalibration `json:"mirror,omitempty"`
}

// MirrorCalibration is the chirality check's margin for an encoder: a
// query whose mirror image scores higher against the accepted class than
// the query itself, by more than Margin, is its mirrored twin. Margin is
// measured on genuine queries of the background classes (every embedding
// after a class's first Shots, against that class's prototype), so that at
// most KnownLoss of them would be turned away: symmetric designs score
// about the same both ways and set it, chiral ones score much lower
// mirrored.
type MirrorCalibration struct {
	Margin    float32 `json:"margin"`
	KnownLoss float64 `json:"known_loss"` // share of genuine queries the margin may reject
	Queries   int     `json:"queries"`    // genuine queries measured
}

// MeasureEncoderCalibration measures an encoder's impostor calibration from
// background embeddings, classes[c][i] being embedding i of background
// class c. Every embedding is L2-normalised; class c's prototype is the
// normalised mean of its first shots embeddings (a gallery's mean
// prototype); its impostor scores are the cosines of every embedding of
// every other class with that prototype. Thresholds follow Calibrate's rule
// (the smallest float32 strictly above the (m+1)-th highest of n scores,
// m = ⌊FAR·n⌋) at each rate of the grid 0.1 … 0.0001 that n resolves (at
// least 1/FAR scores). The result depends only on the input.
func MeasureEncoderCalibration(classes [][][]float32, shots int, source string) (*EncoderCalibration, error) {
	if shots < 1 {
		return nil, fmt.Errorf("%w: %d shots, need at least 1", ErrInvalidOptions, shots)
	}
	if len(classes) < 2 {
		return nil, fmt.Errorf("%w: %d background classes, need at least 2", ErrInvalidOptions, len(classes))
	}
	if err := checkSource(source); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	dim, total := -1, 0
	for c, es := range classes {
		if len(es) < shots {
			return nil, fmt.Errorf("%w: background class %d has %d embeddings, need at least %d (shots)", ErrInvalidOptions, c, len(es), shots)
		}
		total += len(es)
		if total > MaxCalibrationScores {
			break // the score check below refuses it
		}
		if dim < 0 && len(es) > 0 {
			dim = len(es[0])
		}
	}
	// total·(C−1) scores; both factors are bounded before multiplying.
	if total > MaxCalibrationScores || int64(total)*int64(len(classes)-1) > MaxCalibrationScores {
		return nil, fmt.Errorf("%w: more than %d impostor scores (%d classes); use fewer background images", ErrInvalidOptions, MaxCalibrationScores, len(classes))
	}
	if dim < 1 || dim > maxDim {
		return nil, fmt.Errorf("%w: embedding size %d outside 1..%d", ErrDim, dim, maxDim)
	}
	unit, protos, err := unitBackground(classes, dim, shots, "embedding")
	if err != nil {
		return nil, err
	}
	n := total * (len(classes) - 1)
	scores := make([]float32, 0, n)
	for c, p := range protos {
		for o, es := range unit {
			if o == c {
				continue
			}
			for _, e := range es {
				scores = append(scores, cosine64(p, e))
			}
		}
	}
	slices.Sort(scores)
	slices.Reverse(scores)
	cal := &EncoderCalibration{Version: 1, Shots: shots, Classes: len(classes), Embeddings: total, Scores: n, Source: source}
	for _, far := range calibrationFARs {
		if !resolvesFAR(n, far) {
			break
		}
		cal.Points = append(cal.Points, CalibrationPoint{FAR: far, Threshold: thresholdInDescending(scores, far)})
	}
	if len(cal.Points) == 0 {
		return nil, fmt.Errorf("%w: %d impostor scores resolve no false-accept rate (FAR %g needs %d)", ErrInvalidOptions, n, calibrationFARs[0], int(math.Ceil(1/calibrationFARs[0])))
	}
	return cal, nil
}

// MeasureMirror measures the chirality margin (c.Mirror) on the background
// c was measured on: classes[c][i] as for MeasureEncoderCalibration and
// mirrored[c][i] the embedding of the same image mirrored left to right
// (engine.Session.EmbedMirrored). For each genuine query (embedding i ≥
// c.Shots of a class) it takes d = cos(mirrored, prototype) − cos(query,
// prototype); Margin is the smallest float32 above all but ⌊knownLoss·n⌋
// of the n values of d (Calibrate's threshold rule), so at most knownLoss
// of genuine queries would be rejected as mirror images. n must resolve
// knownLoss (at least 1/knownLoss queries).
func (c *EncoderCalibration) MeasureMirror(classes, mirrored [][][]float32, knownLoss float64) error {
	switch {
	case !(knownLoss > 0 && knownLoss < 1):
		return fmt.Errorf("%w: known loss %v outside (0,1)", ErrInvalidOptions, knownLoss)
	case len(classes) != len(mirrored):
		return fmt.Errorf("%w: %d classes, %d mirrored classes", ErrInvalidOptions, len(classes), len(mirrored))
	}
	dim := 0
	for k, es := range classes {
		if len(mirrored[k]) != len(es) {
			return fmt.Errorf("%w: background class %d has %d embeddings, %d mirrored", ErrInvalidOptions, k, len(es), len(mirrored[k]))
		}
		if dim == 0 && len(es) > 0 {
			dim = len(es[0])
		}
	}
	if dim < 1 || dim > maxDim {
		return fmt.Errorf("%w: embedding size %d outside 1..%d", ErrDim, dim, maxDim)
	}
	unit, protos, err := unitBackground(classes, dim, c.Shots, "embedding")
	if err != nil {
		return err
	}
	mir, _, err := unitBackground(mirrored, dim, 0, "mirrored embedding")
	if err != nil {
		return err
	}
	var ds []float32
	for k, p := range protos {
		for i := c.Shots; i < len(unit[k]); i++ {
			ds = append(ds, cosine64(p, mir[k][i])-cosine64(p, unit[k][i]))
		}
	}
	if !resolvesFAR(len(ds), knownLoss) {
		return fmt.Errorf("%w: %d genuine queries do not resolve a known loss of %g (need %d)", ErrInvalidOptions, len(ds), knownLoss, int(math.Ceil(1/knownLoss)))
	}
	slices.Sort(ds)
	slices.Reverse(ds)
	c.Mirror = &MirrorCalibration{Margin: thresholdInDescending(ds, knownLoss), KnownLoss: knownLoss, Queries: len(ds)}
	return c.Validate()
}

// unitBackground L2-normalises every background embedding (dim values
// each; what names them in errors) and, for shots > 0, builds each class's
// prototype as a gallery's mean prototype of its first shots embeddings.
func unitBackground(classes [][][]float32, dim, shots int, what string) (unit [][][]float32, protos [][]float32, err error) {
	unit = make([][][]float32, len(classes))
	for c, es := range classes {
		if len(es) < shots {
			return nil, nil, fmt.Errorf("%w: background class %d has %d embeddings, need at least %d (shots)", ErrInvalidOptions, c, len(es), shots)
		}
		unit[c] = make([][]float32, len(es))
		for i, e := range es {
			if unit[c][i], err = normalized(e, dim); err != nil {
				return nil, nil, fmt.Errorf("background class %d, %s %d: %w", c, what, i, err)
			}
		}
		if shots > 0 {
			protos = append(protos, meanRow(unit[c][:shots], dim))
		}
	}
	return unit, protos, nil
}

// cosine64 is the dot product of two unit vectors accumulated in float64:
// each float32 product is exact in float64, so the result is the same on
// every architecture.
func cosine64(a, b []float32) float32 {
	var s float64
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return float32(s)
}

// ParseEncoderCalibration decodes and checks a stored calibration (the
// value under EncoderCalibrationKey). It refuses, with an error wrapping
// ErrInvalidCalibration, text over MaxCalibrationBytes, unknown fields,
// trailing data and any broken invariant (see Validate).
func ParseEncoderCalibration(s string) (*EncoderCalibration, error) {
	if len(s) > MaxCalibrationBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidCalibration, len(s), MaxCalibrationBytes)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var c EncoderCalibration
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCalibration, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidCalibration)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the invariants a usable calibration keeps: version 1, at
// least 1 shot and 2 classes, Scores = Embeddings·(Classes−1) within
// MaxCalibrationScores, a valid UTF-8 Source without control characters,
// and 1 to 64 points whose rates lie in (0,1), strictly decreasing, each
// resolved by Scores, with finite thresholds in [-1, 1+ulp],
// non-decreasing; a mirror margin, when present, in [-2, 2] with a known
// loss in (0,1) that its queries (at most Embeddings) resolve. Errors wrap
// ErrInvalidCalibration.
func (c *EncoderCalibration) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidCalibration, fmt.Sprintf(format, a...))
	}
	switch {
	case c == nil:
		return bad("missing")
	case c.Version != 1:
		return bad("version %d, want 1", c.Version)
	case c.Shots < 1 || c.Shots > MaxCalibrationScores:
		return bad("%d shots", c.Shots)
	case c.Classes < 2 || c.Classes > MaxCalibrationScores:
		return bad("%d classes", c.Classes)
	case int64(c.Embeddings) < int64(c.Shots)*int64(c.Classes) || c.Embeddings > MaxCalibrationScores:
		return bad("%d embeddings for %d classes of at least %d", c.Embeddings, c.Classes, c.Shots)
	case c.Scores < 1 || c.Scores > MaxCalibrationScores || int64(c.Embeddings)*int64(c.Classes-1) != int64(c.Scores):
		return bad("%d scores, want embeddings·(classes−1) = %d·%d, at most %d", c.Scores, c.Embeddings, c.Classes-1, MaxCalibrationScores)
	case len(c.Points) < 1 || len(c.Points) > maxCalibrationPoints:
		return bad("%d points, want 1 to %d", len(c.Points), maxCalibrationPoints)
	}
	if err := checkSource(c.Source); err != nil {
		return bad("%v", err)
	}
	for i, p := range c.Points {
		switch {
		case !(p.FAR > 0 && p.FAR < 1):
			return bad("point %d: FAR %v outside (0,1)", i, p.FAR)
		case i > 0 && !(p.FAR < c.Points[i-1].FAR):
			return bad("point %d: FAR %v not below %v", i, p.FAR, c.Points[i-1].FAR)
		case !resolvesFAR(c.Scores, p.FAR):
			return bad("point %d: FAR %v needs more than %d scores", i, p.FAR, c.Scores)
		case !validThreshold(p.Threshold):
			return bad("point %d: threshold %v outside [-1,1]", i, p.Threshold)
		case i > 0 && p.Threshold < c.Points[i-1].Threshold:
			return bad("point %d: threshold %v below %v at a higher FAR", i, p.Threshold, c.Points[i-1].Threshold)
		}
	}
	if m := c.Mirror; m != nil {
		switch {
		case !(m.Margin >= -2 && m.Margin <= 2):
			return bad("mirror margin %v outside [-2,2]", m.Margin)
		case !(m.KnownLoss > 0 && m.KnownLoss < 1):
			return bad("mirror known loss %v outside (0,1)", m.KnownLoss)
		case m.Queries < 1 || m.Queries > c.Embeddings || !resolvesFAR(m.Queries, m.KnownLoss):
			return bad("mirror margin from %d queries (of %d embeddings) for a known loss of %v", m.Queries, c.Embeddings, m.KnownLoss)
		}
	}
	return nil
}

// checkSource keeps Source printable as it is (textsafe's rule: no
// control, line-separator or bidirectional-override characters, valid
// UTF-8), since tools print it.
func checkSource(s string) error {
	if len(s) > MaxCalibrationSource {
		return fmt.Errorf("source of %d bytes, limit %d", len(s), MaxCalibrationSource)
	}
	if i := textsafe.Check(s); i >= 0 {
		return fmt.Errorf("source has a character not safe to print at byte %d", i)
	}
	return nil
}

// Encode validates c and returns the JSON stored under
// EncoderCalibrationKey.
func (c *EncoderCalibration) Encode() (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidCalibration, err)
	}
	return string(b), nil
}

// String returns Encode's JSON, or a line naming the broken invariant.
func (c *EncoderCalibration) String() string {
	s, err := c.Encode()
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// ThresholdAt returns the threshold for a target false-accept rate per
// class: that of the largest tabulated rate at or below far, so the rate
// achieved (returned) never exceeds the one asked for. A rate outside
// (0,1) wraps ErrInvalidOptions; one below every tabulated rate wraps
// ErrUnresolvedFAR.
func (c *EncoderCalibration) ThresholdAt(far float64) (thr float32, achievedFAR float64, err error) {
	if !(far > 0 && far < 1) {
		return 0, 0, fmt.Errorf("%w: FAR %v outside (0,1)", ErrInvalidOptions, far)
	}
	if c == nil || len(c.Points) == 0 {
		return 0, 0, fmt.Errorf("%w: the calibration has no points", ErrUnresolvedFAR)
	}
	for _, p := range c.Points {
		if p.FAR <= far {
			return p.Threshold, p.FAR, nil
		}
	}
	last := c.Points[len(c.Points)-1]
	return 0, 0, fmt.Errorf("%w: FAR %g is below %g, the smallest %d impostor scores resolve", ErrUnresolvedFAR, far, last.FAR, c.Scores)
}

// Calibration returns the impostor calibration stored in the engine's model
// metadata (EncoderCalibrationKey), or nil and no error when the model
// carries none.
func (x *EngineEncoder) Calibration() (*EncoderCalibration, error) {
	s, ok := x.e.Model().Meta.Extra[EncoderCalibrationKey]
	if !ok {
		return nil, nil
	}
	return ParseEncoderCalibration(s)
}
