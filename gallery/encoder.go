package gallery

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"math"
	"reflect"
	"sort"

	"github.com/signet-go/signet/internal/imagedec"
)

// Encoder turns an image into an embedding. engine.Session satisfies it
// through EngineEncoder; tests use fakes.
type Encoder interface {
	Embed(img image.Image) ([]float32, error)
	Dim() int
	Fingerprint() [32]byte
}

// NewExemplar embeds img and, when keepCrop is set, stores it as PNG so the
// gallery can later be re-embedded with another encoder.
func NewExemplar(enc Encoder, img image.Image, source string, keepCrop bool) (Exemplar, error) {
	if isNil(img) {
		return Exemplar{}, fmt.Errorf("%w (%s)", ErrNilImage, source)
	}
	v, err := enc.Embed(img)
	if err != nil {
		return Exemplar{}, fmt.Errorf("gallery: embed %s: %w", source, err)
	}
	e := Exemplar{Embedding: append([]float32(nil), v...), Source: source}
	if keepCrop {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			return Exemplar{}, fmt.Errorf("gallery: encode crop %s: %w", source, err)
		}
		e.Crop = b.Bytes()
	}
	return e, nil
}

// CheckEncoder fails with ErrEncoderMismatch unless enc produced the
// gallery's embeddings.
func (g *Gallery) CheckEncoder(enc Encoder) error {
	s := g.load()
	fp := enc.Fingerprint()
	if fp != s.fingerprint || enc.Dim() != s.dim {
		return fmt.Errorf("%w: gallery embedded by %s (dim %d), encoder is %s (dim %d); Reembed the gallery",
			ErrEncoderMismatch, hex.EncodeToString(s.fingerprint[:]), s.dim, hex.EncodeToString(fp[:]), enc.Dim())
	}
	return nil
}

// MatchImage embeds img with enc and matches it into r.
func (g *Gallery) MatchImage(enc Encoder, img image.Image, r *Result) error {
	v, err := g.embedQuery(enc, img)
	if err != nil {
		return err
	}
	return g.MatchInto(v, r)
}

// embedQuery checks img and enc and embeds img.
func (g *Gallery) embedQuery(enc Encoder, img image.Image) ([]float32, error) {
	if isNil(img) {
		return nil, ErrNilImage
	}
	if err := g.CheckEncoder(enc); err != nil {
		return nil, err
	}
	v, err := enc.Embed(img)
	if err != nil {
		return nil, fmt.Errorf("gallery: embed: %w", err)
	}
	return v, nil
}

// MirrorEncoder is an Encoder that also embeds an image's mirror image
// (EngineEncoder does), for MatchImageMirrored.
type MirrorEncoder interface {
	Encoder
	EmbedMirrored(img image.Image) ([]float32, error)
}

// MatchImageMirrored embeds img and its mirror image with enc and matches
// them into r with MatchMirroredInto's chirality check: two inferences.
func (g *Gallery) MatchImageMirrored(enc MirrorEncoder, img image.Image, margin float32, r *Result) error {
	v, err := g.embedQuery(enc, img)
	if err != nil {
		return err
	}
	m, err := enc.EmbedMirrored(img)
	if err != nil {
		return fmt.Errorf("gallery: embed mirrored: %w", err)
	}
	return g.MatchMirroredInto(v, m, margin, r)
}

// ClassMove says how far re-embedding moved one class. Raw coordinates of
// two encoders are not comparable, so "moved" is measured by what each
// space does with the class:
//   - SelfAccuracy: closed-set leave-one-out top-1 accuracy of the class's
//     exemplars (training ones against prototypes rebuilt without them,
//     validation ones against the full prototypes), thresholds ignored.
//   - Neighbours: the class's nearest classes by mean-prototype cosine;
//     NeighbourOverlap is the share of the old list still in the new one.
//   - PrototypeCosine compares the old and new mean prototypes directly; it
//     is only meaningful when the new encoder shares the old one's space (a
//     fine-tune), and only computed when the dimensions agree.
//
// A class Moved when its neighbour list changed or its self-accuracy fell.
type ClassMove struct {
	ID                  uint64   `json:"id"`
	Label               string   `json:"label"`
	SelfAccuracyBefore  float64  `json:"self_accuracy_before"`
	SelfAccuracyAfter   float64  `json:"self_accuracy_after"`
	NeighboursBefore    []string `json:"neighbours_before"`
	NeighboursAfter     []string `json:"neighbours_after"`
	NeighbourOverlap    float64  `json:"neighbour_overlap"`
	PrototypeCosine     float32  `json:"prototype_cosine"`
	PrototypeComparable bool     `json:"prototype_comparable"`
	Moved               bool     `json:"moved"`
}

// ReembedReport summarises a Reembed.
type ReembedReport struct {
	OldFingerprint string      `json:"old_fingerprint"`
	NewFingerprint string      `json:"new_fingerprint"`
	OldDim         int         `json:"old_dim"`
	NewDim         int         `json:"new_dim"`
	Exemplars      int         `json:"exemplars"`
	Moved          int         `json:"moved"`
	Classes        []ClassMove `json:"classes"` // most moved first
}

const reembedNeighbours = 5

// Reembed rebuilds every exemplar from its stored crop with enc and
// publishes the result as one new snapshot; on any error nothing changes.
// Per-class thresholds are cleared because cosines of the old space mean
// nothing in the new one: run Calibrate afterwards.
func (g *Gallery) Reembed(enc Encoder) (*ReembedReport, error) {
	dim := enc.Dim()
	if dim < 1 || dim > maxDim {
		return nil, fmt.Errorf("%w: encoder dim %d outside 1..%d", ErrDim, dim, maxDim)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.load()
	missing := 0
	first := ""
	for _, c := range s.classes {
		for _, e := range c.exemplars {
			if len(e.Crop) == 0 {
				if missing == 0 {
					first = fmt.Sprintf("class %d %q, exemplar %s", c.id, c.label, orDash(e.Source))
				}
				missing++
			}
		}
	}
	if missing > 0 {
		return nil, fmt.Errorf("%w: %d exemplars without crops (first: %s); re-enrol them or remove them before re-embedding", ErrNoCrop, missing, first)
	}
	d := s.derive()
	d.dim, d.fingerprint = dim, enc.Fingerprint()
	n := 0
	for i, c := range s.classes {
		nc := c.clone()
		nc.exemplars = make([]Exemplar, len(c.exemplars))
		nc.hasThr, nc.threshold, nc.gar, nc.garN = false, 0, -1, 0
		for j, e := range c.exemplars {
			// Crops come from files anyone may have written: decode through
			// the size-checked decoder, never png.Decode directly.
			img, err := imagedec.DecodePNG(e.Crop)
			if err != nil {
				return nil, fmt.Errorf("%w: class %d %q exemplar %d: crop: %w", ErrCorrupt, c.id, c.label, j, err)
			}
			raw, err := enc.Embed(img)
			if err != nil {
				return nil, fmt.Errorf("gallery: reembed class %d %q exemplar %d: %w", c.id, c.label, j, err)
			}
			v, err := normalized(raw, dim)
			if err != nil {
				return nil, fmt.Errorf("gallery: reembed class %d %q exemplar %d: %w", c.id, c.label, j, err)
			}
			nc.exemplars[j] = Exemplar{Embedding: v, Crop: e.Crop, Source: e.Source, Validation: e.Validation}
			n++
		}
		nc.rows = prototypeRows(nc.training(), dim, d.opts.Mode, d.opts.K)
		d.classes[i] = nc
	}
	d.build()
	rep := &ReembedReport{
		OldFingerprint: hex.EncodeToString(s.fingerprint[:]), NewFingerprint: hex.EncodeToString(d.fingerprint[:]),
		OldDim: s.dim, NewDim: d.dim, Exemplars: n,
	}
	accB, accA := selfAccuracy(s), selfAccuracy(d)
	nbB, nbA := neighbours(s), neighbours(d)
	for i, c := range s.classes {
		m := ClassMove{ID: c.id, Label: c.label, SelfAccuracyBefore: accB[i], SelfAccuracyAfter: accA[i],
			NeighboursBefore: nbB[i], NeighboursAfter: nbA[i], NeighbourOverlap: 1}
		if len(nbB[i]) > 0 {
			common := 0
			for _, a := range nbB[i] {
				for _, b := range nbA[i] {
					if a == b {
						common++
					}
				}
			}
			m.NeighbourOverlap = float64(common) / float64(len(nbB[i]))
		}
		if s.dim == d.dim {
			m.PrototypeComparable = true
			m.PrototypeCosine = clampCos(dot(meanRow(c.training(), s.dim), meanRow(d.classes[i].training(), d.dim)))
		}
		m.Moved = m.NeighbourOverlap < 1 || m.SelfAccuracyAfter < m.SelfAccuracyBefore
		if m.Moved {
			rep.Moved++
		}
		rep.Classes = append(rep.Classes, m)
	}
	sort.SliceStable(rep.Classes, func(i, j int) bool {
		a, b := rep.Classes[i], rep.Classes[j]
		da, db := a.SelfAccuracyBefore-a.SelfAccuracyAfter, b.SelfAccuracyBefore-b.SelfAccuracyAfter
		if a.NeighbourOverlap != b.NeighbourOverlap {
			return a.NeighbourOverlap < b.NeighbourOverlap
		}
		return da > db
	})
	g.snap.Store(d)
	return rep, nil
}

// selfAccuracy is each class's closed-set leave-one-out accuracy. A class
// with a single training exemplar and no validation exemplars has nothing to
// test and counts as 1, so it can only be reported moved by its neighbours.
func selfAccuracy(s *snapshot) []float64 {
	out := make([]float64, len(s.classes))
	r := &Result{}
	others := make([][]float32, 0)
	for ci, c := range s.classes {
		ok, n := 0, 0
		train := c.training()
		check := func(e []float32, rows []float32) {
			scores := s.classScores(e, r)
			own := maxRow(s.dot, e, rows, s.dim)
			best, bs := ci, own
			for i, v := range scores {
				if i != ci && (v > bs || (v == bs && i < best)) {
					best, bs = i, v
				}
			}
			n++
			if best == ci {
				ok++
			}
		}
		if len(train) >= 2 {
			for i := range train {
				others = append(others[:0], train[:i]...)
				others = append(others, train[i+1:]...)
				check(train[i], prototypeRows(others, s.dim, s.opts.Mode, s.opts.K))
			}
		}
		for _, e := range c.exemplars {
			if e.Validation {
				check(e.Embedding, c.rows)
			}
		}
		out[ci] = 1
		if n > 0 {
			out[ci] = float64(ok) / float64(n)
		}
	}
	return out
}

// neighbours lists each class's nearest classes by mean-prototype cosine.
func neighbours(s *snapshot) [][]string {
	means := make([][]float32, len(s.classes))
	for i, c := range s.classes {
		means[i] = meanRow(c.training(), s.dim)
	}
	out := make([][]string, len(s.classes))
	type nb struct {
		i int
		c float32
	}
	for i := range s.classes {
		var list []nb
		for j := range s.classes {
			if j != i {
				list = append(list, nb{j, dot(means[i], means[j])})
			}
		}
		sort.SliceStable(list, func(a, b int) bool { return list[a].c > list[b].c })
		k := int(math.Min(reembedNeighbours, float64(len(list))))
		for _, x := range list[:k] {
			out[i] = append(out[i], s.classes[x.i].label)
		}
	}
	return out
}

// isNil reports a nil image, including a typed nil pointer such as
// (*image.RGBA)(nil), which an Encoder or png.Encode would dereference.
func isNil(img image.Image) bool {
	if img == nil {
		return true
	}
	rv := reflect.ValueOf(img)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
