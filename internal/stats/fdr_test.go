package stats

import (
	"math"
	"testing"
)

func TestBenjaminiHochbergMatchesRWithTiesAndNaN(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		p    []float64
		want []float64
	}{
		{
			name: "ties and NaN",
			// R 4.2.2:
			//   p.adjust(c(0.01, 0.04, 0.03, NA, 0.04, 0.20, 0.001, NaN, 0.04, 0.5), "BH")
			//   -> 0.0400000000000000008 0.0533333333333333298 0.0533333333333333298 NA
			//      0.0533333333333333298 0.2285714285714285643 0.0080000000000000002 NaN
			//      0.0533333333333333298 0.5
			// (m = 8: the NA and NaN are not counted.)
			p: []float64{0.01, 0.04, 0.03, nan, 0.04, 0.20, 0.001, nan, 0.04, 0.5},
			want: []float64{0.0400000000000000008, 0.0533333333333333298, 0.0533333333333333298, nan,
				0.0533333333333333298, 0.2285714285714285643, 0.0080000000000000002, nan,
				0.0533333333333333298, 0.5},
		},
		{
			name: "all large",
			// R 4.2.2: p.adjust(c(0.9, 0.8, 0.95, 0.85), "BH")
			//   -> 0.94999999999999996 0.94999999999999996 0.94999999999999996 0.94999999999999996
			p:    []float64{0.9, 0.8, 0.95, 0.85},
			want: []float64{0.95, 0.95, 0.95, 0.95},
		},
		{
			name: "capped at one",
			// m/j·p(j) = 2·0.7 = 1.4 for the smaller; R: p.adjust(c(0.7, 1), "BH") -> 1 1
			p:    []float64{0.7, 1},
			want: []float64{1, 1},
		},
		{
			name: "single",
			p:    []float64{0.03},
			want: []float64{0.03},
		},
		{
			name: "not p-values become NaN",
			// Out-of-range values are not counted: m = 2 for 0.01 and 0.02.
			p:    []float64{-0.1, 0.01, 1.5, 0.02, math.Inf(1)},
			want: []float64{nan, 0.02, nan, 0.02, nan},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := BenjaminiHochberg(tc.p)
			if len(got) != len(tc.want) {
				t.Fatalf("len: got %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				assertClose(t, "q", got[i], tc.want[i], within)
			}
		})
	}
}

func TestBenjaminiHochbergOfNothingIsEmpty(t *testing.T) {
	t.Parallel()
	if got := BenjaminiHochberg(nil); got == nil || len(got) != 0 {
		t.Errorf("got %#v, want empty non-nil slice", got)
	}
}

func TestBenjaminiHochbergDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	p := []float64{0.04, 0.01, 0.03}
	BenjaminiHochberg(p)
	if p[0] != 0.04 || p[1] != 0.01 || p[2] != 0.03 {
		t.Errorf("input changed to %v", p)
	}
}
