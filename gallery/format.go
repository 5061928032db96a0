package gallery

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"

	"github.com/signet-go/signet/internal/fileerr"
	"github.com/signet-go/signet/model"
)

// Gallery file layout, version 1. All integers little-endian.
//
//	off  size  field
//	0    8     magic "SIGNETGL"
//	8    2     format version (1)
//	10   2     flags (bit 0: Int8 storage; any other bit is rejected)
//	12   8     payload length P
//	20   P     payload
//	20+P 4     CRC-32C (Castagnoli) of bytes [0, 20+P)
//
// The file is exactly 24+P bytes. Payload:
//
//	fingerprint [32]byte; dim u32; mode u8; K u32; threshold f32;
//	min margin f32; validation share f64; flip budget f64; keep versions u32;
//	next id u64; gallery version u64; class count u32; classes…
//
// Class: id u64; label str; flags u8 (bit 0: own threshold); threshold f32;
// genuine-accept rate f64; genuine samples u32; meta count u32, (key str,
// value str)…; exemplar count u32; exemplars…
//
// Exemplar: flags u8 (bit 0: validation); source str; dim × f32 embedding;
// crop str (PNG bytes, may be empty).
//
// str is a u32 byte length followed by the bytes. Classes are stored in
// increasing id order; prototypes are not stored, they are rebuilt on load
// (and quantised again for Int8 storage: quantisation is deterministic, so
// the rows match what was saved bit for bit). A Float32 gallery's file is
// byte for byte what readers without Int8 storage wrote and read; an Int8
// gallery sets flag bit 0, which such readers refuse rather than score it
// with scores its thresholds were not calibrated on.

const (
	fileMagic   = "SIGNETGL"
	fileVersion = 1
	headerSize  = 20
	trailerSize = 4
	// flagInt8 marks a gallery with Int8 storage.
	flagInt8 = 1 << 0
)

// Errors for malformed gallery files; all wrap ErrCorrupt, which wraps
// model.ErrCorrupt, and each specific one also wraps the model package's
// error of the same kind (ErrTruncated wraps model.ErrTruncated, ...): one
// errors.Is(err, model.ErrCorrupt) covers corrupt models, galleries and
// bundles alike.
var (
	ErrCorrupt   = fileerr.New("gallery: corrupt file", model.ErrCorrupt)
	ErrTruncated = fileerr.New("gallery: corrupt file: truncated", ErrCorrupt, model.ErrTruncated)
	ErrChecksum  = fileerr.New("gallery: corrupt file: checksum mismatch", ErrCorrupt, model.ErrChecksum)
	ErrVersion   = fileerr.New("gallery: corrupt file: unsupported format version", ErrCorrupt, model.ErrVersion)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode serialises the gallery's current snapshot.
func (g *Gallery) Encode() []byte { return encodeSnapshot(g.load()) }

func encodeSnapshot(s *snapshot) []byte {
	n := headerSize + 32 + 4 + 1 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 4 + trailerSize
	for _, c := range s.classes {
		n += 8 + 4 + len(c.label) + 1 + 4 + 8 + 4 + 4 + 4
		for k, v := range c.meta {
			n += 8 + len(k) + len(v)
		}
		for _, e := range c.exemplars {
			n += 1 + 4 + len(e.Source) + 4*s.dim + 4 + len(e.Crop)
		}
	}
	b := make([]byte, 0, n)
	le := binary.LittleEndian
	b = append(b, fileMagic...)
	b = le.AppendUint16(b, fileVersion)
	var flags uint16
	if s.opts.Storage == Int8 {
		flags |= flagInt8
	}
	b = le.AppendUint16(b, flags)
	b = le.AppendUint64(b, uint64(n-headerSize-trailerSize))
	b = append(b, s.fingerprint[:]...)
	b = le.AppendUint32(b, uint32(s.dim))
	b = append(b, byte(s.opts.Mode))
	b = le.AppendUint32(b, uint32(s.opts.K))
	b = le.AppendUint32(b, math.Float32bits(s.opts.Threshold))
	b = le.AppendUint32(b, math.Float32bits(s.opts.MinMargin))
	b = le.AppendUint64(b, math.Float64bits(s.opts.ValidationShare))
	b = le.AppendUint64(b, math.Float64bits(s.opts.FlipBudget))
	b = le.AppendUint32(b, uint32(s.opts.KeepVersions))
	b = le.AppendUint64(b, s.nextID)
	b = le.AppendUint64(b, s.version)
	b = le.AppendUint32(b, uint32(len(s.classes)))
	str := func(x string) {
		b = le.AppendUint32(b, uint32(len(x)))
		b = append(b, x...)
	}
	for _, c := range s.classes {
		b = le.AppendUint64(b, c.id)
		str(c.label)
		var fl byte
		if c.hasThr {
			fl = 1
		}
		b = append(b, fl)
		b = le.AppendUint32(b, math.Float32bits(c.threshold))
		b = le.AppendUint64(b, math.Float64bits(c.gar))
		b = le.AppendUint32(b, uint32(c.garN))
		b = le.AppendUint32(b, uint32(len(c.meta)))
		for _, k := range slices.Sorted(maps.Keys(c.meta)) { // the same gallery always encodes to the same bytes
			str(k)
			str(c.meta[k])
		}
		b = le.AppendUint32(b, uint32(len(c.exemplars)))
		for _, e := range c.exemplars {
			fl = 0
			if e.Validation {
				fl = 1
			}
			b = append(b, fl)
			str(e.Source)
			for _, x := range e.Embedding {
				b = le.AppendUint32(b, math.Float32bits(x))
			}
			str(string(e.Crop))
		}
	}
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// reader is a bounds-checked cursor: every read checks the bytes present
// first, so a declared length can never make it allocate or index past the
// data.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" (at byte %d)", append([]any{ErrCorrupt}, append(args, r.off)...)...)
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("%w: need %d bytes at byte %d, %d left", ErrTruncated, n, r.off, len(r.b)-r.off)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() byte {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (r *reader) f32() float32 { return math.Float32frombits(r.u32()) }
func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

func (r *reader) str(limit int, what string) string {
	n := r.u32()
	if r.err == nil && int64(n) > int64(limit) {
		r.fail("%s length %d over limit %d", what, n, limit)
		return ""
	}
	return string(r.take(int(n)))
}

// count reads an element count and checks that count elements of at least
// minSize bytes each fit in what is left.
func (r *reader) count(minSize int, what string) int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if left := len(r.b) - r.off; int64(n)*int64(minSize) > int64(left) {
		r.err = fmt.Errorf("%w: %d %s need at least %d bytes, %d left", ErrTruncated, n, what, int64(n)*int64(minSize), left)
		return 0
	}
	return int(n)
}

// Decode parses a gallery file. It does not check the encoder fingerprint;
// Open does.
func Decode(data []byte) (*Gallery, error) {
	s, err := decodeSnapshot(data)
	if err != nil {
		return nil, err
	}
	g := &Gallery{}
	g.snap.Store(s)
	return g, nil
}

func decodeSnapshot(data []byte) (*snapshot, error) {
	if len(data) < headerSize+trailerSize {
		return nil, fmt.Errorf("%w: %d bytes, a gallery file has at least %d", ErrTruncated, len(data), headerSize+trailerSize)
	}
	if string(data[:8]) != fileMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrCorrupt, data[:8])
	}
	le := binary.LittleEndian
	if v := le.Uint16(data[8:]); v != fileVersion {
		return nil, fmt.Errorf("%w: version %d, this reader knows %d", ErrVersion, v, fileVersion)
	}
	flags := le.Uint16(data[10:])
	if f := flags &^ flagInt8; f != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, f)
	}
	p := le.Uint64(data[12:])
	if want := uint64(len(data) - headerSize - trailerSize); p != want {
		if p > want {
			return nil, fmt.Errorf("%w: payload length %d, %d bytes present", ErrTruncated, p, want)
		}
		return nil, fmt.Errorf("%w: payload length %d but %d bytes present (trailing data)", ErrCorrupt, p, want)
	}
	body := data[:len(data)-trailerSize]
	if got, want := crc32.Checksum(body, castagnoli), le.Uint32(data[len(data)-trailerSize:]); got != want {
		return nil, fmt.Errorf("%w: computed %08x, stored %08x", ErrChecksum, got, want)
	}
	r := &reader{b: body, off: headerSize}
	s := &snapshot{}
	copy(s.fingerprint[:], r.take(32))
	dim := r.u32()
	o := Options{}
	o.Mode = Mode(r.u8())
	o.K = int(r.u32())
	o.Threshold = r.f32()
	o.MinMargin = r.f32()
	o.ValidationShare = r.f64()
	o.FlipBudget = r.f64()
	o.KeepVersions = int(r.u32())
	if flags&flagInt8 != 0 {
		o.Storage = Int8
	}
	s.nextID = r.u64()
	s.version = r.u64()
	if r.err != nil {
		return nil, r.err
	}
	if dim < 1 || dim > maxDim {
		return nil, fmt.Errorf("%w: dim %d outside 1..%d", ErrCorrupt, dim, maxDim)
	}
	s.dim = int(dim)
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	s.opts = o
	const minClass = 8 + 4 + 1 + 4 + 8 + 4 + 4 + 4
	minExemplar := 1 + 4 + 4*s.dim + 4
	nc := r.count(minClass, "classes")
	s.classes = make([]*class, 0, nc)
	labels := make(map[string]bool, nc)
	var lastID uint64
	for ci := 0; ci < nc && r.err == nil; ci++ {
		c := &class{}
		c.id = r.u64()
		c.label = r.str(maxLabelBytes, "label")
		fl := r.u8()
		c.threshold = r.f32()
		c.gar = r.f64()
		c.garN = int(r.u32())
		if r.err != nil {
			break
		}
		switch {
		case c.id == 0 || c.id <= lastID || c.id >= s.nextID:
			r.fail("class id %d out of order or ≥ next id %d", c.id, s.nextID)
		case c.label == "":
			r.fail("class %d has an empty label", c.id)
		case labels[c.label]:
			r.fail("duplicate label %q", c.label)
		case fl > 1:
			r.fail("class %d: unknown flags %#x", c.id, fl)
		case !validThreshold(c.threshold):
			r.fail("class %d: threshold %v", c.id, c.threshold)
		case !(c.gar == -1 || (c.gar >= 0 && c.gar <= 1)):
			r.fail("class %d: genuine-accept rate %v", c.id, c.gar)
		}
		lastID, labels[c.label], c.hasThr = c.id, true, fl == 1
		nm := r.count(8, "metadata entries")
		if nm > 0 {
			c.meta = make(map[string]string, nm)
		}
		for i := 0; i < nm && r.err == nil; i++ {
			k := r.str(len(r.b), "metadata key")
			v := r.str(len(r.b), "metadata value")
			if _, dup := c.meta[k]; dup && r.err == nil {
				r.fail("class %d: duplicate metadata key %q", c.id, k)
			}
			c.meta[k] = v
		}
		ne := r.count(minExemplar, "exemplars")
		if ne == 0 && r.err == nil {
			r.fail("class %d has no exemplars", c.id)
		}
		c.exemplars = make([]Exemplar, 0, ne)
		train := 0
		for i := 0; i < ne && r.err == nil; i++ {
			efl := r.u8()
			src := r.str(len(r.b), "source")
			raw := r.take(4 * s.dim)
			crop := r.str(len(r.b), "crop")
			if r.err != nil {
				break
			}
			if efl > 1 {
				r.fail("class %d exemplar %d: unknown flags %#x", c.id, i, efl)
				break
			}
			emb := make([]float32, s.dim)
			for j := range emb {
				emb[j] = math.Float32frombits(le.Uint32(raw[4*j:]))
			}
			// Stored embeddings are unit length; they are kept bit for bit
			// (renormalising is not idempotent in float32) after checking.
			if err := checkUnit(emb); err != nil {
				r.fail("class %d exemplar %d: %v", c.id, i, err)
				break
			}
			e := Exemplar{Embedding: emb, Source: src, Validation: efl == 1}
			if crop != "" {
				e.Crop = []byte(crop)
			}
			if !e.Validation {
				train++
			}
			c.exemplars = append(c.exemplars, e)
		}
		if r.err == nil && train == 0 {
			r.fail("class %d has no training exemplars", c.id)
		}
		if r.err == nil {
			c.rows = prototypeRows(c.training(), s.dim, o.Mode, o.K)
			s.classes = append(s.classes, c)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(r.b) {
		return nil, fmt.Errorf("%w: %d unread payload bytes", ErrCorrupt, len(r.b)-r.off)
	}
	s.build()
	return s, nil
}

// checkUnit accepts a finite vector of length 1 up to float32 rounding.
func checkUnit(v []float32) error {
	var ss float64
	for _, x := range v {
		if !finite32(x) {
			return ErrNonFinite
		}
		ss += float64(x) * float64(x)
	}
	if math.Abs(ss-1) > 1e-4 {
		return fmt.Errorf("embedding norm² %v, want 1", ss)
	}
	return nil
}
