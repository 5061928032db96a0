package impl

import "testing"

func TestLookupFallsBackToBase(t *testing.T) {
	f := NewFamily[string]("test")
	f.Register(0, "base", true, "k0")
	f.Register(2, "two", true, "k2")
	f.Register(3, "three", false, "k3") // the CPU does not run it
	for _, c := range []struct {
		tier uint8
		want uint8
		k    string
	}{{0, 0, "k0"}, {1, 0, "k0"}, {2, 2, "k2"}, {3, 0, "k0"}, {200, 0, "k0"}} {
		im := f.Lookup(c.tier)
		if im.Tier != c.want || im.Kernels != c.k || im.Family != "test" {
			t.Errorf("Lookup(%d) = %+v, want tier %d (%s)", c.tier, im, c.want, c.k)
		}
	}
	regs := f.Registered()
	if len(regs) != 3 || regs[1].Name != "two" || !regs[1].Available || regs[2].Available {
		t.Errorf("Registered() = %+v", regs)
	}
}

func TestSelectReset(t *testing.T) {
	f := NewFamily[int]("select")
	f.Register(0, "base", true, 0)
	f.Register(1, "one", true, 1)
	f.Register(2, "two", true, 2)
	defer Reset()
	Select(1)
	if !f.Has(1) || f.Has(2) || !f.Has(0) || f.Lookup(2).Tier != 0 {
		t.Errorf("Select(1): has 0 %v, 1 %v, 2 %v", f.Has(0), f.Has(1), f.Has(2))
	}
	Select(0)
	if f.Has(1) || f.Has(2) || !f.Has(0) {
		t.Errorf("Select(0): has 1 %v, 2 %v", f.Has(1), f.Has(2))
	}
	Reset()
	if !f.Has(1) || !f.Has(2) {
		t.Errorf("Reset: has 1 %v, 2 %v", f.Has(1), f.Has(2))
	}
}

func TestLookupWithoutBasePanics(t *testing.T) {
	f := NewFamily[int]("nobase")
	f.Register(1, "one", true, 1)
	defer func() {
		if recover() == nil {
			t.Error("a family without a base implementation looked up without complaint")
		}
	}()
	f.Lookup(5)
}
