package gallery

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentMatchAndEnrol runs matchers against writers (run it with
// -race). Every match must see one consistent snapshot: all candidate ids
// exist in it with the reported labels, scores equal a recomputation on that
// snapshot, versions never go backwards; and no enrolment may be lost.
func TestConcurrentMatchAndEnrol(t *testing.T) {
	const dim, initial, writers, perWriter, matchers = 16, 10, 3, 40, 4
	cl := newClusters(11, dim, initial+writers*perWriter)
	g := mustNew(t, dim, noHoldout())
	for i := 0; i < initial; i++ {
		if _, err := g.AddClass(fmt.Sprintf("base%d", i), nil, cl.exemplars(i, 3, 0.3, "")); err != nil {
			t.Fatal(err)
		}
	}
	// Pre-draw samples: the cluster generator is not safe for concurrent use.
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = cl.sample(i%initial, 0.5)
	}
	work := make([][][]Exemplar, writers)
	for w := range work {
		for k := 0; k < perWriter; k++ {
			work[w] = append(work[w], cl.exemplars(initial+w*perWriter+k, 2, 0.3, ""))
		}
	}

	var done atomic.Bool
	var wg sync.WaitGroup
	var matches atomic.Int64
	errs := make(chan error, matchers+writers)
	for m := 0; m < matchers; m++ {
		wg.Add(1)
		go func(m int) {
			defer wg.Done()
			r := NewResult(4)
			var last uint64
			for i := 0; !done.Load() || i < 100; i++ {
				q := queries[(i+m)%len(queries)]
				if err := g.MatchInto(q, r); err != nil {
					errs <- err
					return
				}
				if err := checkConsistent(r, q, last); err != nil {
					errs <- err
					return
				}
				last = r.Version
				matches.Add(1)
			}
		}(m)
	}
	var wwg sync.WaitGroup
	removed := make([][]string, writers)
	for w := 0; w < writers; w++ {
		wwg.Add(1)
		go func(w int) {
			defer wwg.Done()
			for k, ex := range work[w] {
				label := fmt.Sprintf("w%d-%d", w, k)
				id, err := g.AddClass(label, nil, ex)
				if err != nil {
					errs <- err
					return
				}
				switch k % 5 {
				case 3:
					if err := g.Remove(id); err != nil {
						errs <- err
						return
					}
					removed[w] = append(removed[w], label)
				case 4:
					if err := g.AddExemplars(id, ex[:1]); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wwg.Wait()
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for _, rs := range removed {
		for _, l := range rs {
			gone[l] = true
		}
	}
	for w := 0; w < writers; w++ {
		for k := 0; k < perWriter; k++ {
			label := fmt.Sprintf("w%d-%d", w, k)
			ci, err := g.Lookup(label)
			if gone[label] {
				if err == nil {
					t.Errorf("%s was removed but is present", label)
				}
				continue
			}
			if err != nil {
				t.Errorf("enrolment lost: %s", label)
				continue
			}
			if want := 2 + boolInt(k%5 == 4); ci.Exemplars != want {
				t.Errorf("%s: %d exemplars, want %d", label, ci.Exemplars, want)
			}
		}
	}
	if want := initial + writers*perWriter - len(gone); g.Len() != want {
		t.Errorf("%d classes, want %d", g.Len(), want)
	}
	if next := g.load().nextID; next != uint64(initial+writers*perWriter+1) {
		t.Errorf("next id %d", next)
	}
	t.Logf("%d matches checked during %d writes", matches.Load(), writers*perWriter)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkConsistent(r *Result, q []float32, last uint64) error {
	s := r.snap
	if s == nil || r.Version != s.version {
		return fmt.Errorf("result version %d does not name its snapshot", r.Version)
	}
	if r.Version < last {
		return fmt.Errorf("snapshot went backwards: %d after %d", r.Version, last)
	}
	if want := min(4, len(s.classes)); len(r.Candidates) != want {
		return fmt.Errorf("%d candidates from a snapshot of %d classes", len(r.Candidates), len(s.classes))
	}
	uq := unit(q)
	for _, c := range r.Candidates {
		i, ok := s.byID[c.ID]
		if !ok {
			return fmt.Errorf("candidate %d not in snapshot %d", c.ID, s.version)
		}
		if s.classes[i].label != c.Label {
			return fmt.Errorf("candidate %d label %q, snapshot says %q", c.ID, c.Label, s.classes[i].label)
		}
		if want := maxRow(s.dot, uq, s.classes[i].rows, s.dim); math.Abs(float64(want-c.Score)) > 1e-5 {
			return fmt.Errorf("candidate %d score %v, snapshot gives %v", c.ID, c.Score, want)
		}
	}
	return nil
}
