package gallery

import "math"

// prototypeRows turns a class's training embeddings (unit length) into its
// prototype rows, concatenated.
func prototypeRows(train [][]float32, dim int, mode Mode, k int) []float32 {
	if len(train) == 0 {
		return nil
	}
	switch mode {
	case KNN:
		out := make([]float32, 0, len(train)*dim)
		for _, e := range train {
			out = append(out, e...)
		}
		return out
	case MultiPrototype:
		return sphericalKMeans(train, dim, k)
	}
	return meanRow(train, dim)
}

// meanRow is the normalised mean. If the exemplars cancel out exactly (the
// mean is the zero vector), the first exemplar stands in: a class must keep
// a usable direction.
func meanRow(train [][]float32, dim int) []float32 {
	acc := make([]float64, dim)
	for _, e := range train {
		for i, x := range e {
			acc[i] += float64(x)
		}
	}
	out := make([]float32, dim)
	if !normalizeInto(out, acc) {
		copy(out, train[0])
	}
	return out
}

func normalizeInto(dst []float32, v []float64) bool {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	if ss < 1e-24 {
		return false
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		dst[i] = float32(x * inv)
	}
	return true
}

func dot(a, b []float32) float32 {
	var s float32
	b = b[:len(a)]
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// sphericalKMeans clusters unit vectors by cosine into at most k centroids.
// Seeding is deterministic farthest-point: the first centroid is the
// exemplar closest to the mean, each next one the exemplar least similar to
// all chosen so far (lowest index on ties); duplicates stop the seeding early
// so no two centroids coincide. Lloyd iterations follow until assignments
// settle (at most 25). The same exemplars in the same order always give the
// same rows.
func sphericalKMeans(train [][]float32, dim, k int) []float32 {
	n := len(train)
	if k > n {
		k = n
	}
	if k <= 1 {
		return meanRow(train, dim)
	}
	mean := meanRow(train, dim)
	first, best := 0, float32(-2)
	for i, e := range train {
		if c := dot(mean, e); c > best {
			first, best = i, c
		}
	}
	seeds := []int{first}
	minDist := make([]float32, n)
	for i, e := range train {
		minDist[i] = 1 - dot(train[first], e)
	}
	for len(seeds) < k {
		far, fd := -1, float32(1e-6)
		for i, d := range minDist {
			if d > fd {
				far, fd = i, d
			}
		}
		if far < 0 {
			break
		}
		seeds = append(seeds, far)
		for i, e := range train {
			if d := 1 - dot(train[far], e); d < minDist[i] {
				minDist[i] = d
			}
		}
	}
	k = len(seeds)
	cent := make([]float32, k*dim)
	for j, s := range seeds {
		copy(cent[j*dim:], train[s])
	}
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	acc := make([]float64, dim)
	for iter := 0; iter < 25; iter++ {
		changed := false
		for i, e := range train {
			bj, bc := 0, float32(-2)
			for j := 0; j < k; j++ {
				if c := dot(e, cent[j*dim:(j+1)*dim]); c > bc {
					bj, bc = j, c
				}
			}
			if assign[i] != bj {
				assign[i], changed = bj, true
			}
		}
		if !changed {
			break
		}
		for j := 0; j < k; j++ {
			for i := range acc {
				acc[i] = 0
			}
			m := 0
			for i, e := range train {
				if assign[i] != j {
					continue
				}
				m++
				for d, x := range e {
					acc[d] += float64(x)
				}
			}
			if m > 0 {
				// A degenerate (zero) mean keeps the previous centroid.
				normalizeInto(cent[j*dim:(j+1)*dim], acc)
			}
		}
	}
	return cent
}
