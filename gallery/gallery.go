package gallery

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/imagedec"
	"github.com/signet-go/signet/internal/textsafe"
)

// Sentinel errors. Every error returned by this package wraps one of them, so
// callers branch with errors.Is.
var (
	ErrDuplicateLabel  = errors.New("gallery: duplicate label")
	ErrNoExemplars     = errors.New("gallery: no exemplars")
	ErrDim             = errors.New("gallery: wrong embedding size")
	ErrNonFinite       = errors.New("gallery: NaN or Inf in embedding")
	ErrZeroEmbedding   = errors.New("gallery: zero embedding")
	ErrUnknownClass    = errors.New("gallery: unknown class")
	ErrEmptyLabel      = errors.New("gallery: empty label")
	ErrInvalidOptions  = errors.New("gallery: invalid options")
	ErrStale           = errors.New("gallery: plan is stale")
	ErrFlipBudget      = errors.New("gallery: negative flip rate over budget")
	ErrNoCrop          = errors.New("gallery: exemplar has no stored crop")
	ErrEncoderMismatch = errors.New("gallery: encoder mismatch")
	ErrIDsExhausted    = errors.New("gallery: class ids exhausted")
	// ErrNilImage: a nil image (also a typed nil such as (*image.RGBA)(nil))
	// was given to NewExemplar, MatchImage or an Encoder. It is
	// engine.ErrNilImage itself, so errors.Is answers the same whichever
	// package noticed.
	ErrNilImage = engine.ErrNilImage
	// ErrInvalidText: a label or metadata key is not valid UTF-8 or holds a
	// control character (ESC, newline, tab, C1, bidi override...), which
	// would reach the terminal of whoever lists the gallery.
	ErrInvalidText = errors.New("gallery: invalid UTF-8 or control character")
	// ErrImageTooLarge: a stored crop's header claims more pixels than
	// Reembed decodes (see MaxCropPixels).
	ErrImageTooLarge = imagedec.ErrTooLarge
	// ErrLocked: TryLockFile found the gallery locked by another writer.
	ErrLocked = errors.New("gallery: locked by another writer")
)

// MaxCropPixels is the largest crop (width × height) Reembed decodes, the
// limit of every image decoder in signet; see internal/imagedec for the
// memory it bounds (up to 8 bytes per pixel for the decoded image, about 24
// while decoding the worst JPEG).
const MaxCropPixels = imagedec.MaxPixels

// Mode selects how a class's exemplars become prototype rows.
type Mode uint8

// Prototype modes; the values are stored in gallery files.
const (
	MeanPrototype  Mode = 0 // one row: normalised mean of the training exemplars
	MultiPrototype Mode = 1 // up to Options.K rows from spherical k-means
	KNN            Mode = 2 // one row per training exemplar; class score = nearest exemplar
)

func (m Mode) String() string {
	switch m {
	case MeanPrototype:
		return "mean"
	case MultiPrototype:
		return "multi"
	case KNN:
		return "knn"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// Options configure a gallery. They are stored in the gallery file. Start
// from DefaultOptions: several zero values are meaningful (a threshold of 0,
// no validation split) and are therefore not replaced by defaults.
type Options struct {
	Mode Mode
	// K is the number of prototypes per class in MultiPrototype mode.
	K int
	// Threshold is the cosine a class's best score must reach for a match to
	// be accepted, for classes without their own (calibrated) threshold.
	Threshold float32
	// MinMargin additionally requires best − runner-up ≥ MinMargin.
	MinMargin float32
	// ValidationShare of each class's enrolled exemplars is held out as
	// validation (excluded from prototypes, used by Plan and Calibrate).
	// The k-th exemplar of a class (1-based) is held out when
	// ⌊k·share⌋ > ⌊(k−1)·share⌋, so 0.2 holds out the 5th, 10th, …; the first
	// exemplar is always kept for training.
	ValidationShare float64
	// FlipBudget is the negative flip rate above which Commit refuses.
	FlipBudget float64
	// KeepVersions is how many previous files Save keeps (path.1 … path.N).
	KeepVersions int
	// Storage is how the prototype rows matching scans are held: Float32
	// (the default) or Int8, a quarter of the memory and faster to scan
	// for large galleries (see the package documentation).
	Storage Storage
}

// DefaultOptions returns the options a gallery starts with.
func DefaultOptions() Options {
	return Options{
		Mode:            MeanPrototype,
		K:               3,
		Threshold:       0.5,
		MinMargin:       0,
		ValidationShare: 0.2,
		FlipBudget:      0.005,
		KeepVersions:    3,
	}
}

const (
	maxDim        = 1 << 16
	maxK          = 64
	maxLabelBytes = 1024
	maxKeep       = 100
)

func (o Options) validate() error {
	switch {
	case o.Mode > KNN:
		return fmt.Errorf("%w: unknown mode %d", ErrInvalidOptions, o.Mode)
	case o.K < 1 || o.K > maxK:
		return fmt.Errorf("%w: K=%d, want 1..%d", ErrInvalidOptions, o.K, maxK)
	case !validThreshold(o.Threshold):
		return fmt.Errorf("%w: threshold %v outside [-1,1]", ErrInvalidOptions, o.Threshold)
	case !finite32(o.MinMargin) || o.MinMargin < 0 || o.MinMargin > 2:
		return fmt.Errorf("%w: min margin %v outside [0,2]", ErrInvalidOptions, o.MinMargin)
	case !(o.ValidationShare >= 0 && o.ValidationShare <= 0.5):
		return fmt.Errorf("%w: validation share %v outside [0,0.5]", ErrInvalidOptions, o.ValidationShare)
	case !(o.FlipBudget >= 0 && o.FlipBudget <= 1):
		return fmt.Errorf("%w: flip budget %v outside [0,1]", ErrInvalidOptions, o.FlipBudget)
	case o.KeepVersions < 0 || o.KeepVersions > maxKeep:
		return fmt.Errorf("%w: keep versions %d outside 0..%d", ErrInvalidOptions, o.KeepVersions, maxKeep)
	case o.Storage > Int8:
		return fmt.Errorf("%w: unknown storage %d", ErrInvalidOptions, o.Storage)
	}
	return nil
}

// Exemplar is one enrolled sample of a class.
type Exemplar struct {
	// Embedding is normalised to unit length on enrolment.
	Embedding []float32
	// Crop is the source image as PNG, kept for Reembed. Nil opts out.
	Crop []byte
	// Source names where the sample came from (file name, capture id); it
	// appears in reports.
	Source string
	// Validation marks the exemplar as held out: it is not part of the
	// prototypes and serves Plan and Calibrate. Options.ValidationShare may
	// also set it on enrolment.
	Validation bool
}

// ClassInfo describes a class; it is a copy and safe to keep.
type ClassInfo struct {
	ID    uint64
	Label string
	Meta  map[string]string
	// Exemplars counts all exemplars, Validation the held-out ones among them.
	Exemplars  int
	Validation int
	// Threshold is the class's own acceptance threshold; 0 with
	// HasThreshold false means the gallery default applies.
	Threshold    float32
	HasThreshold bool
	// GenuineAcceptRate is the share of genuine scores at or above the
	// threshold measured by the last Calibrate (-1: never calibrated or no
	// genuine pairs); GenuineSamples is how many scores it rests on.
	GenuineAcceptRate float64
	GenuineSamples    int
}

// class is immutable once published; writers replace it wholesale.
type class struct {
	id        uint64
	label     string
	meta      map[string]string
	exemplars []Exemplar // embeddings normalised; never mutated after publication
	threshold float32
	hasThr    bool
	gar       float64
	garN      int
	rows      []float32 // prototype rows, len = nrows*dim
}

func (c *class) clone() *class {
	d := *c
	return &d
}

func (c *class) info() ClassInfo {
	ci := ClassInfo{
		ID: c.id, Label: c.label, Meta: make(map[string]string, len(c.meta)),
		Exemplars: len(c.exemplars), Threshold: c.threshold, HasThreshold: c.hasThr,
		GenuineAcceptRate: c.gar, GenuineSamples: c.garN,
	}
	for k, v := range c.meta {
		ci.Meta[k] = v
	}
	for i := range c.exemplars {
		if c.exemplars[i].Validation {
			ci.Validation++
		}
	}
	return ci
}

// training returns the embeddings that make up the prototypes.
func (c *class) training() [][]float32 {
	out := make([][]float32, 0, len(c.exemplars))
	for i := range c.exemplars {
		if !c.exemplars[i].Validation {
			out = append(out, c.exemplars[i].Embedding)
		}
	}
	return out
}

// snapshot is one immutable state of the gallery. Matching reads it without
// locks; every change publishes a fresh one.
type snapshot struct {
	version     uint64 // bumped by every change; Plan/Commit use it
	dim         int
	fingerprint [32]byte
	opts        Options
	nextID      uint64
	classes     []*class // sorted by id
	byLabel     map[string]int
	byID        map[uint64]int
	rows        []float32 // all prototype rows, contiguous, nrows*dim (Float32 storage)
	rows8       []int8    // the same rows quantised (Int8 storage), nrows*dim
	rowScale    []float32 // scale of each rows8 row
	rowClass    []int32   // class index of each row
	thr         []float32 // effective threshold per class index

	// dot is the product every score runs on, of one kernel tier (tier.go)
	// and the storage; the zero value runs in float32 on kernels.Best().
	dot scorer
}

func (s *snapshot) nrows() int { return len(s.rowClass) }

// index rebuilds the label and id maps from classes.
func (s *snapshot) index() {
	s.byLabel = make(map[string]int, len(s.classes))
	s.byID = make(map[uint64]int, len(s.classes))
	for i, c := range s.classes {
		s.byLabel[c.label] = i
		s.byID[c.id] = i
	}
}

// build fills every derived field from classes.
func (s *snapshot) build() {
	s.index()
	n := 0
	for _, c := range s.classes {
		n += len(c.rows) / s.dim
	}
	s.dot.int8 = s.opts.Storage == Int8
	s.rows = make([]float32, 0, n*s.dim)
	s.rowClass = make([]int32, 0, n)
	s.thr = make([]float32, len(s.classes))
	for i, c := range s.classes {
		s.rows = append(s.rows, c.rows...)
		for r := 0; r < len(c.rows)/s.dim; r++ {
			s.rowClass = append(s.rowClass, int32(i))
		}
		s.thr[i] = s.opts.Threshold
		if c.hasThr {
			s.thr[i] = c.threshold
		}
	}
	s.rows8, s.rowScale = nil, nil
	if s.dot.int8 {
		// The float32 matrix is dropped: the int8 one is what matching scans.
		s.rows8, s.rowScale = make([]int8, n*s.dim), make([]float32, n)
		quantizeRows(s.rows8, s.rowScale, s.rows, s.dim)
		s.rows = nil
	}
}

// derive copies s for modification: the class slice is copied, the classes
// themselves are shared until a writer replaces one.
func (s *snapshot) derive() *snapshot {
	d := &snapshot{
		version: s.version + 1, dim: s.dim, fingerprint: s.fingerprint,
		opts: s.opts, nextID: s.nextID, dot: s.dot,
		classes: append([]*class(nil), s.classes...),
	}
	d.index()
	return d
}

// Gallery is a set of classes with their exemplars. All methods are safe for
// concurrent use; reads (Match*, List, Class, Save) never wait for writers.
// Make one with New, Decode, Open or OpenForReembed; the zero value is not
// usable.
type Gallery struct {
	mu     sync.Mutex // serialises writers
	saveMu sync.Mutex // serialises saves, which rotate shared backup files
	snap   atomic.Pointer[snapshot]
}

// New returns an empty gallery for embeddings of size dim produced by the
// encoder with the given fingerprint.
func New(dim int, fingerprint [32]byte, opts Options) (*Gallery, error) {
	if dim < 1 || dim > maxDim {
		return nil, fmt.Errorf("%w: dim %d outside 1..%d", ErrDim, dim, maxDim)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &snapshot{dim: dim, fingerprint: fingerprint, opts: opts, nextID: 1}
	s.build()
	g := &Gallery{}
	g.snap.Store(s)
	return g, nil
}

func (g *Gallery) load() *snapshot { return g.snap.Load() }

// Dim returns the embedding size.
func (g *Gallery) Dim() int { return g.load().dim }

// Fingerprint returns the fingerprint of the encoder the embeddings came from.
func (g *Gallery) Fingerprint() [32]byte { return g.load().fingerprint }

// Options returns the gallery's options.
func (g *Gallery) Options() Options { return g.load().opts }

// Version returns a counter that changes with every modification.
func (g *Gallery) Version() uint64 { return g.load().version }

// Len returns the number of classes.
func (g *Gallery) Len() int { return len(g.load().classes) }

// List returns every class, ordered by id.
func (g *Gallery) List() []ClassInfo {
	s := g.load()
	out := make([]ClassInfo, len(s.classes))
	for i, c := range s.classes {
		out[i] = c.info()
	}
	return out
}

// Class returns one class by id.
func (g *Gallery) Class(id uint64) (ClassInfo, error) {
	s := g.load()
	i, ok := s.byID[id]
	if !ok {
		return ClassInfo{}, fmt.Errorf("%w: id %d", ErrUnknownClass, id)
	}
	return s.classes[i].info(), nil
}

// Lookup returns the class with the given label.
func (g *Gallery) Lookup(label string) (ClassInfo, error) {
	s := g.load()
	i, ok := s.byLabel[label]
	if !ok {
		return ClassInfo{}, fmt.Errorf("%w: label %q", ErrUnknownClass, label)
	}
	return s.classes[i].info(), nil
}

// Exemplars returns copies of a class's exemplars.
func (g *Gallery) Exemplars(id uint64) ([]Exemplar, error) {
	s := g.load()
	i, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownClass, id)
	}
	src := s.classes[i].exemplars
	out := make([]Exemplar, len(src))
	for j, e := range src {
		out[j] = Exemplar{
			Embedding: append([]float32(nil), e.Embedding...),
			Crop:      append([]byte(nil), e.Crop...),
			Source:    e.Source, Validation: e.Validation,
		}
	}
	return out, nil
}

// update runs fn on a derived snapshot under the writer lock and publishes
// the result if fn succeeds.
func (g *Gallery) update(fn func(s *snapshot) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.load().derive()
	if err := fn(s); err != nil {
		return err
	}
	s.build()
	g.snap.Store(s)
	return nil
}

// AddClass enrols a new class. It fails with ErrDuplicateLabel when the label
// exists. The exemplars' embeddings are copied and normalised.
func (g *Gallery) AddClass(label string, meta map[string]string, ex []Exemplar) (uint64, error) {
	var id uint64
	err := g.update(func(s *snapshot) error {
		var err error
		id, err = s.addClass(label, meta, ex)
		return err
	})
	return id, err
}

// NewClass describes one class for AddClasses.
type NewClass struct {
	Label     string
	Meta      map[string]string
	Exemplars []Exemplar
}

// AddClasses enrols several classes as one change: all or none, and one
// snapshot rebuild instead of one per class, which matters when importing
// thousands of classes (each publication copies every prototype row).
func (g *Gallery) AddClasses(batch []NewClass) ([]uint64, error) {
	ids := make([]uint64, len(batch))
	err := g.update(func(s *snapshot) error {
		for i, nc := range batch {
			id, err := s.addClass(nc.Label, nc.Meta, nc.Exemplars)
			if err != nil {
				return fmt.Errorf("batch entry %d: %w", i, err)
			}
			ids[i] = id
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// AddExemplars appends exemplars to an existing class.
func (g *Gallery) AddExemplars(id uint64, ex []Exemplar) error {
	return g.update(func(s *snapshot) error { return s.addExemplars(id, ex) })
}

// Enrol adds exemplars to the class with this label, creating the class when
// there is none, and returns its id.
func (g *Gallery) Enrol(label string, ex []Exemplar) (uint64, error) {
	var id uint64
	err := g.update(func(s *snapshot) error {
		if err := checkLabel(label); err != nil {
			return err
		}
		if i, ok := s.byLabelIndex(label); ok {
			id = s.classes[i].id
			return s.addExemplars(id, ex)
		}
		var err error
		id, err = s.addClass(label, nil, ex)
		return err
	})
	return id, err
}

// Remove deletes a class. Its id is never handed out again.
func (g *Gallery) Remove(id uint64) error {
	return g.update(func(s *snapshot) error {
		i, ok := s.byID[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrUnknownClass, id)
		}
		s.classes = append(s.classes[:i], s.classes[i+1:]...)
		s.index()
		return nil
	})
}

// Rename changes a class's label.
func (g *Gallery) Rename(id uint64, label string) error {
	return g.update(func(s *snapshot) error {
		i, ok := s.byID[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrUnknownClass, id)
		}
		if err := checkLabel(label); err != nil {
			return err
		}
		if j, ok := s.byLabel[label]; ok && j != i {
			return fmt.Errorf("%w: %q (class %d)", ErrDuplicateLabel, label, s.classes[j].id)
		}
		c := s.classes[i].clone()
		c.label = label
		s.classes[i] = c
		return nil
	})
}

// SetMeta replaces a class's metadata.
func (g *Gallery) SetMeta(id uint64, meta map[string]string) error {
	return g.update(func(s *snapshot) error {
		i, ok := s.byID[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrUnknownClass, id)
		}
		if err := checkMeta(meta); err != nil {
			return err
		}
		c := s.classes[i].clone()
		c.meta = copyMeta(meta)
		s.classes[i] = c
		return nil
	})
}

// SetThreshold sets the gallery-wide default threshold.
func (g *Gallery) SetThreshold(t float32) error {
	return g.update(func(s *snapshot) error {
		o := s.opts
		o.Threshold = t
		if err := o.validate(); err != nil {
			return err
		}
		s.opts = o
		return nil
	})
}

// SetClassThreshold gives a class its own threshold; ClearClassThreshold
// returns it to the gallery default.
func (g *Gallery) SetClassThreshold(id uint64, t float32) error {
	if !validThreshold(t) {
		return fmt.Errorf("%w: threshold %v outside [-1,1]", ErrInvalidOptions, t)
	}
	return g.update(func(s *snapshot) error {
		i, ok := s.byID[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrUnknownClass, id)
		}
		c := s.classes[i].clone()
		c.threshold, c.hasThr = t, true
		s.classes[i] = c
		return nil
	})
}

// ClearClassThreshold removes a class's own threshold.
func (g *Gallery) ClearClassThreshold(id uint64) error {
	return g.update(func(s *snapshot) error {
		i, ok := s.byID[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrUnknownClass, id)
		}
		c := s.classes[i].clone()
		c.threshold, c.hasThr = 0, false
		s.classes[i] = c
		return nil
	})
}

// SetMode switches the prototype mode (and K) and rebuilds every class's rows.
func (g *Gallery) SetMode(m Mode, k int) error {
	return g.update(func(s *snapshot) error {
		o := s.opts
		o.Mode, o.K = m, k
		if err := o.validate(); err != nil {
			return err
		}
		s.opts = o
		for i, c := range s.classes {
			c = c.clone()
			c.rows = prototypeRows(c.training(), s.dim, o.Mode, o.K)
			s.classes[i] = c
		}
		return nil
	})
}

func (s *snapshot) byLabelIndex(label string) (int, bool) {
	i, ok := s.byLabel[label]
	return i, ok
}

func (s *snapshot) addClass(label string, meta map[string]string, ex []Exemplar) (uint64, error) {
	if err := checkLabel(label); err != nil {
		return 0, err
	}
	if err := checkMeta(meta); err != nil {
		return 0, err
	}
	if i, ok := s.byLabel[label]; ok {
		return 0, fmt.Errorf("%w: %q (class %d)", ErrDuplicateLabel, label, s.classes[i].id)
	}
	exs, err := prepareExemplars(ex, s.dim, 0, s.opts.ValidationShare)
	if err != nil {
		return 0, fmt.Errorf("class %q: %w", label, err)
	}
	if s.nextID == math.MaxUint64 {
		return 0, ErrIDsExhausted
	}
	c := &class{id: s.nextID, label: label, meta: copyMeta(meta), exemplars: exs, gar: -1}
	c.rows = prototypeRows(c.training(), s.dim, s.opts.Mode, s.opts.K)
	s.nextID++
	s.classes = append(s.classes, c) // ids grow, so the slice stays sorted
	// byLabel is rebuilt by build(); keep it current for callers that chain.
	s.byLabel[label] = len(s.classes) - 1
	s.byID[c.id] = len(s.classes) - 1
	return c.id, nil
}

func (s *snapshot) addExemplars(id uint64, ex []Exemplar) error {
	i, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("%w: id %d", ErrUnknownClass, id)
	}
	c := s.classes[i].clone()
	exs, err := prepareExemplars(ex, s.dim, len(c.exemplars), s.opts.ValidationShare)
	if err != nil {
		return fmt.Errorf("class %q: %w", c.label, err)
	}
	c.exemplars = append(append([]Exemplar(nil), c.exemplars...), exs...)
	c.rows = prototypeRows(c.training(), s.dim, s.opts.Mode, s.opts.K)
	s.classes[i] = c
	return nil
}

func checkLabel(label string) error {
	if label == "" {
		return ErrEmptyLabel
	}
	if len(label) > maxLabelBytes {
		return fmt.Errorf("%w: label is %d bytes, limit %d", ErrInvalidOptions, len(label), maxLabelBytes)
	}
	if i := textsafe.Check(label); i >= 0 {
		return fmt.Errorf("%w in label %q at byte %d", ErrInvalidText, label, i)
	}
	return nil
}

// checkMeta refuses metadata keys that checkLabel would refuse as labels
// (empty keys aside). Values are free text: they are never printed in
// tables, and JSON output escapes them.
func checkMeta(meta map[string]string) error {
	for k := range meta {
		if i := textsafe.Check(k); i >= 0 {
			return fmt.Errorf("%w in metadata key %q at byte %d", ErrInvalidText, k, i)
		}
	}
	return nil
}

func copyMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// autoValidation reports whether the k-th exemplar (0-based index i) of a
// class is held out under the given share.
func autoValidation(i int, share float64) bool {
	if share <= 0 || i == 0 {
		return false
	}
	return math.Floor(float64(i+1)*share+1e-9) > math.Floor(float64(i)*share+1e-9)
}

// prepareExemplars validates and copies exemplars, normalising embeddings.
// have is the number of exemplars the class already holds.
func prepareExemplars(ex []Exemplar, dim, have int, share float64) ([]Exemplar, error) {
	if len(ex) == 0 {
		return nil, ErrNoExemplars
	}
	out := make([]Exemplar, len(ex))
	train := 0
	for j, e := range ex {
		v, err := normalized(e.Embedding, dim)
		if err != nil {
			return nil, fmt.Errorf("exemplar %d (%s): %w", j, e.Source, err)
		}
		out[j] = Exemplar{
			Embedding:  v,
			Crop:       append([]byte(nil), e.Crop...),
			Source:     e.Source,
			Validation: e.Validation || autoValidation(have+j, share),
		}
		if len(e.Crop) == 0 {
			out[j].Crop = nil
		}
		if !out[j].Validation {
			train++
		}
	}
	if have == 0 && train == 0 {
		return nil, fmt.Errorf("%w: every exemplar is marked validation", ErrNoExemplars)
	}
	return out, nil
}

// normalized checks v and returns a unit-length copy.
func normalized(v []float32, dim int) ([]float32, error) {
	if len(v) != dim {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrDim, len(v), dim)
	}
	out := make([]float32, dim)
	if err := normalizeVec(out, v); err != nil {
		return nil, err
	}
	return out, nil
}

// normalizeVec writes v/‖v‖ into dst (len(dst) == len(v)). Exemplars and
// queries both go through it, so a query equal to an exemplar's embedding is
// the same unit vector, bit for bit, and scores exactly as calibration
// scored that exemplar.
func normalizeVec(dst, v []float32) error {
	var ss float64
	for _, x := range v {
		if !finite32(x) {
			return ErrNonFinite
		}
		ss += float64(x) * float64(x)
	}
	if ss == 0 || math.IsInf(ss, 0) {
		return ErrZeroEmbedding
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		dst[i] = float32(float64(x) * inv)
	}
	return nil
}

func finite32(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}

// maxThreshold is the one value above 1 a threshold may take: "never
// accept", which Calibrate picks when an impostor scores exactly 1.
var maxThreshold = math.Nextafter32(1, 2)

func validThreshold(t float32) bool {
	return finite32(t) && t >= -1 && t <= maxThreshold
}
