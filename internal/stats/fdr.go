package stats

import (
	"math"
	"slices"
)

// BenjaminiHochberg returns the Benjamini–Hochberg (1995) adjusted p-values
// (q-values) of p, in the order of p, as R's p.adjust(p, method = "BH"):
// with the m valid p-values sorted ascending, p(1) ≤ … ≤ p(m),
//
//	q(i) = min over j ≥ i of min(1, m/j · p(j)).
//
// Rejecting every hypothesis whose q ≤ α controls the false discovery rate at
// α for independent (or positively dependent) tests. Tied p-values get equal
// q-values.
//
// NaN p-values stay NaN and are not counted in m, as R does with NA. Values
// outside [0, 1] are not p-values: they are treated like NaN (R would adjust
// them anyway). A nil or empty p gives an empty slice.
func BenjaminiHochberg(p []float64) []float64 {
	q := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			q[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	m := float64(len(idx))
	running := 1.0
	for rank := len(idx); rank >= 1; rank-- {
		i := idx[rank-1]
		running = math.Min(running, m/float64(rank)*p[i])
		q[i] = running
	}
	return q
}
