package gallery

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"testing"

	"github.com/signet-go/signet/kernels"
)

func TestQuantize(t *testing.T) {
	for _, c := range []struct {
		x     []float32
		want  []int8
		scale float32
	}{
		{[]float32{0, 0, 0}, []int8{0, 0, 0}, 0},
		{[]float32{1, -1, 0.5}, []int8{127, -127, 64}, 1.0 / 127}, // 63.5 ties to even
		{[]float32{-2, 1, 0}, []int8{-127, 64, 0}, 2.0 / 127},     // 63.5 again, from the negative maximum
		{[]float32{0.254, 1.27}, []int8{25, 127}, 0.01},           // 25.4 rounds down
	} {
		got := make([]int8, len(c.x))
		if s := quantize(got, c.x); s != c.scale || string(int8Bytes(got)) != string(int8Bytes(c.want)) {
			t.Errorf("quantize(%v) = %v, scale %v; want %v, %v", c.x, got, s, c.want, c.scale)
		}
	}
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// int8Gallery is a multi-prototype gallery (several rows per class, so the
// per-class maximum runs too) with Int8 storage.
func int8Gallery(t testing.TB) (*Gallery, *clusters) {
	t.Helper()
	o := noHoldout()
	o.Mode, o.K, o.Storage = MultiPrototype, 2, Int8
	g := mustNew(t, 48, o)
	cl := newClusters(91, 48, 12)
	for i := range 12 {
		if _, err := g.AddClass(string(rune('a'+i)), nil, cl.exemplars(i, 4, 0.3, "s")); err != nil {
			t.Fatal(err)
		}
	}
	return g, cl
}

// TestInt8Scores: with Int8 storage a match scores from the int8 rows,
// bit for bit what Plan and Calibrate compute (maxRow), identically on
// every tier and after a save and load, and within 0.02 of float32.
func TestInt8Scores(t *testing.T) {
	g, cl := int8Gallery(t)
	s := g.load()
	if s.rows != nil || len(s.rows8) != 24*48 || len(s.rowScale) != 24 {
		t.Fatalf("int8 snapshot holds %d float32, %d int8 values and %d scales", len(s.rows), len(s.rows8), len(s.rowScale))
	}
	h, err := Decode(g.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if h.Options().Storage != Int8 {
		t.Fatalf("decoded storage %v", h.Options().Storage)
	}
	f32 := scorerFor(kernels.Generic)
	r := NewResult(12)
	var want []float32
	var qs [][]float32
	for i := range 12 {
		q, err := normalized(cl.sample(i, 0.5), s.dim)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
		if err := g.MatchInto(q, r); err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Candidates {
			rows := s.classes[s.byID[c.ID]].rows
			if own := clampCos(maxRow(s.dot, q, rows, s.dim)); own != c.Score {
				t.Fatalf("class %s: match scores %v, maxRow %v", c.Label, c.Score, own)
			}
			if d := math.Abs(float64(c.Score - maxRow(f32, q, rows, s.dim))); d > 0.02 {
				t.Errorf("class %s: int8 score %v is %v from float32", c.Label, c.Score, d)
			}
			want = append(want, c.Score)
		}
	}
	for _, gal := range []*Gallery{g, h} {
		for _, tier := range kernels.Available() {
			if got := gal.SetTier(tier); got != tier {
				t.Fatalf("SetTier(%v) scores on %v", tier, got)
			}
			k := 0
			for _, q := range qs {
				if err := gal.MatchInto(q, r); err != nil {
					t.Fatal(err)
				}
				for _, c := range r.Candidates {
					if math.Float32bits(c.Score) != math.Float32bits(want[k]) {
						t.Fatalf("%v: score %v, want %v", tier, c.Score, want[k])
					}
					k++
				}
			}
		}
	}
}

// TestInt8Decisions: the unknown threshold, Plan/Commit and Calibrate
// work on Int8 storage, and switching storage back restores float32
// scores.
func TestInt8Decisions(t *testing.T) {
	g, cl := int8Gallery(t)
	q := unit(cl.sample(3, 0.2))
	r, err := g.Match(q)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Known || r.Label != "d" {
		t.Fatalf("match %+v, want d", r)
	}
	if err := g.SetThreshold(r.Score + 1e-3); err != nil {
		t.Fatal(err)
	}
	if r, _ = g.Match(q); r.Known || r.Reason != BelowThreshold {
		t.Fatalf("over the threshold: %+v", r)
	}
	p, err := g.Plan("m", cl.exemplars(0, 3, 0.9, "n"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.ForceCommit(p); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Calibrate(0.01, CalibrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if g.Len() != 13 {
		t.Fatalf("%d classes after commit", g.Len())
	}
	if err := g.SetStorage(Float32); err != nil {
		t.Fatal(err)
	}
	if s := g.load(); s.rows8 != nil || len(s.rows) == 0 || s.dot.int8 {
		t.Fatal("Float32 storage still scores from int8 rows")
	}
	if err := g.SetStorage(Storage(2)); err == nil {
		t.Fatal("SetStorage accepted an unknown storage")
	}
}

// TestStorageFlag: Float32 files keep flags 0 (readers without Int8
// storage load them), Int8 sets bit 0.
func TestStorageFlag(t *testing.T) {
	g, _ := int8Gallery(t)
	if b := g.Encode(); b[10] != 1 || b[11] != 0 {
		t.Fatalf("int8 gallery flags %#x %#x", b[10], b[11])
	}
	if err := g.SetStorage(Float32); err != nil {
		t.Fatal(err)
	}
	if b := g.Encode(); b[10] != 0 || b[11] != 0 {
		t.Fatalf("float32 gallery flags %#x %#x", b[10], b[11])
	}
}

func TestInt8MatchAllocs(t *testing.T) {
	g, cl := int8Gallery(t)
	q := cl.sample(1, 0.2)
	r := NewResult(3)
	g.MatchInto(q, r)
	if n := testing.AllocsPerRun(20, func() { g.MatchInto(q, r) }); n != 0 {
		t.Errorf("int8 MatchInto: %v allocations", n)
	}
}

// TestInt8ScoreError measures the cosine error of Int8 storage against
// float32 on 128-d unit vectors (queries near the rows and far from them),
// and of the alternative that keeps the query in float32 (Σ q·r8 · scale),
// which avoids the query's rounding but needs a float dot product whose
// sum order differs between tiers.
func TestInt8ScoreError(t *testing.T) {
	const dim, rows, queries = 128, 200, 50
	cl := newClusters(17, dim, rows)
	q8, r8 := make([]int8, dim), make([]int8, dim)
	out := make([]float32, 1)
	var maxBoth, maxRow, sumBoth, sumRow float64
	n := 0
	for qi := 0; qi < queries; qi++ {
		q := cl.sample(qi%rows, 0.6)
		qs := quantize(q8, q)
		for i := 0; i < rows; i++ {
			row := cl.sample(i, 0.3)
			rs := quantize(r8, row)
			var exact, both, rowOnly float64
			var acc int32
			for j := range q {
				exact += float64(q[j]) * float64(row[j])
				acc += int32(q8[j]) * int32(r8[j])
				rowOnly += float64(q[j]) * float64(r8[j])
			}
			scale8(out, []int32{acc}, qs, []float32{rs})
			both = float64(out[0])
			rowOnly *= float64(rs)
			eb, er := math.Abs(both-exact), math.Abs(rowOnly-exact)
			maxBoth, maxRow = max(maxBoth, eb), max(maxRow, er)
			sumBoth, sumRow = sumBoth+eb, sumRow+er
			n++
		}
	}
	t.Logf("int8 query and rows: mean |error| %.5f, max %.5f; float32 query: mean %.5f, max %.5f",
		sumBoth/float64(n), maxBoth, sumRow/float64(n), maxRow)
	if maxBoth > 0.01 {
		t.Errorf("cosine error up to %v, bound 0.01", maxBoth)
	}
}

// TestInt8ScoresPinned: the int8 scores of a fixed gallery hash to one
// value on every architecture and tier (the integer dot product and the
// float64 scaling round the same way everywhere).
func TestInt8ScoresPinned(t *testing.T) {
	g, cl := int8Gallery(t)
	var qs [][]float32
	for i := range 40 {
		qs = append(qs, cl.sample(i%12, 0.5))
	}
	r := NewResult(12)
	for _, tier := range kernels.Available() {
		g.SetTier(tier)
		h := fnv.New64a()
		for _, q := range qs {
			if err := g.MatchInto(q, r); err != nil {
				t.Fatal(err)
			}
			for _, c := range r.Candidates {
				binary.Write(h, binary.LittleEndian, math.Float32bits(c.Score))
			}
		}
		if got, want := h.Sum64(), uint64(0x950b5fd73772c9f6); got != want {
			t.Errorf("%v: int8 scores hash to %#x, pinned %#x", tier, got, want)
		}
	}
}
