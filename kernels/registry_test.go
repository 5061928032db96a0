package kernels

import (
	"slices"
	"testing"

	"github.com/signet-go/signet/kernels/internal/impl"
)

// TestTierNames: every defined tier has a name ParseTier maps back, so a
// tier added after NEON cannot vanish from ParseTier or Available.
func TestTierNames(t *testing.T) {
	seen := map[string]bool{}
	for _, tr := range Tiers() {
		name := tr.String()
		if name == "" || seen[name] {
			t.Errorf("tier %d: name %q empty or repeated", uint8(tr), name)
		}
		seen[name] = true
		if got, err := ParseTier(name); err != nil || got != tr {
			t.Errorf("ParseTier(%q) = %v, %v; want %v", name, got, err, tr)
		}
	}
	if len(Tiers()) != int(numTiers) {
		t.Errorf("Tiers() lists %d of %d tiers", len(Tiers()), numTiers)
	}
	if _, err := ParseTier("sse9"); err == nil {
		t.Error("ParseTier accepted an unknown name")
	}
}

// TestAvailableIsWhatTheCPURuns: Available is the tiers the CPU runs, in
// order, Generic first and Best last, whatever the kernel families
// register.
func TestAvailableIsWhatTheCPURuns(t *testing.T) {
	var want []Tier
	for _, tr := range Tiers() {
		if cpuRuns(tr) {
			want = append(want, tr)
		}
	}
	got := Available()
	if !slices.Equal(got, want) || got[0] != Generic || Best() != got[len(got)-1] {
		t.Errorf("Available() = %v, Best() = %v; the CPU runs %v", got, Best(), want)
	}
	if (Elem{}).Tier() != Best() || (Dot{}).Tier() != Best() {
		t.Errorf("the zero Elem runs on %v, the zero Dot on %v; Best() is %v", (Elem{}).Tier(), (Dot{}).Tier(), Best())
	}
}

// TestEveryFamilyHasEveryRunningTier: no family falls back on a tier this
// machine runs (a fast path silently not taken), and every family has a
// Generic base.
func TestEveryFamilyHasEveryRunningTier(t *testing.T) {
	for _, tr := range Available() {
		for _, k := range Resolve(tr) {
			if k.Tier != tr {
				t.Errorf("%s: a request for %v runs %s on %v", k.Family, tr, k.Name, k.Tier)
			}
		}
	}
	families := map[string]bool{}
	for _, k := range impl.Families() {
		if k.Tier == uint8(Generic) {
			families[k.Family] = true
		}
		if k.Available != Tier(k.Tier).Runs() {
			t.Errorf("%s %v: available %v, tier runs %v", k.Family, Tier(k.Tier), k.Available, Tier(k.Tier).Runs())
		}
	}
	for _, f := range []string{"gemm", "dot", "elem", "depthwise"} {
		if !families[f] {
			t.Errorf("family %s has no generic implementation", f)
		}
	}
}

// TestFallbackIsReported: a tier the machine does not run (or one no family
// has) gives Generic, and every accessor says so.
func TestFallbackIsReported(t *testing.T) {
	var missing []Tier
	for _, tr := range Tiers() {
		if !tr.Runs() {
			missing = append(missing, tr)
		}
	}
	missing = append(missing, numTiers, 255)
	for _, tr := range missing {
		if g := Gemm(tr); g.Tier != Generic {
			t.Errorf("Gemm(%v) runs %s on %v", tr, g.Name, g.Tier)
		}
		if d := DotFor(tr); d.Tier() != Generic {
			t.Errorf("DotFor(%v) runs on %v", tr, d.Tier())
		}
		if e := ElemFor(tr); e.Tier() != Generic {
			t.Errorf("ElemFor(%v) runs on %v", tr, e.Tier())
		}
		p := ConvParams{N: 1, C: 4, H: 5, W: 5, K: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 4}
		p.Resolve()
		if d := NewDepthwiseTier(p, make([]float32, 36), nil, Act{}, tr); d.Tier() != Generic {
			t.Errorf("NewDepthwiseTier(%v) runs on %v", tr, d.Tier())
		}
		for _, k := range Resolve(tr) {
			if k.Tier != Generic {
				t.Errorf("Resolve(%v): %s on %v", tr, k.Family, k.Tier)
			}
		}
	}
}

// TestSelectHidesTiers: Select makes the machine look smaller (defaults and
// fallbacks follow), Reset restores it. This is how a test checks, on a
// big CPU, what a small one does.
func TestSelectHidesTiers(t *testing.T) {
	best := Best()
	defer impl.Reset()
	impl.Select(uint8(Generic))
	if got := Available(); !slices.Equal(got, []Tier{Generic}) {
		t.Errorf("after Select(generic): Available() = %v", got)
	}
	if g := Gemm(best); g.Tier != Generic {
		t.Errorf("after Select(generic): Gemm(%v) runs on %v", best, g.Tier)
	}
	if (Dot{}).Tier() != Generic || (Elem{}).Tier() != Generic {
		t.Errorf("after Select(generic): defaults on %v and %v", (Dot{}).Tier(), (Elem{}).Tier())
	}
	impl.Select(uint8(best))
	if Best() != best || Gemm(best).Tier != best {
		t.Errorf("after Select(%v): Best() = %v, Gemm on %v", best, Best(), Gemm(best).Tier)
	}
	impl.Reset()
	if Best() != best {
		t.Errorf("after Reset: Best() = %v, want %v", Best(), best)
	}
}
