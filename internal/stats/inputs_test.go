package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The statistics scale their own copies in place (scaleInPlace); the
// caller's arrays must come back as they went in.
func TestStatisticsLeaveTheirInputsAlone(t *testing.T) {
	for _, gaps := range []bool{true, false} {
		statisticsLeaveTheirInputsAlone(t, gaps)
	}
}

// statisticsLeaveTheirInputsAlone checks on a panel with NaN gaps in x,
// or none (where a copy could be skipped).
func statisticsLeaveTheirInputsAlone(t *testing.T, gaps bool) {
	rng := rand.New(rand.NewPCG(19, 3))
	const teams, periods = 12, 30
	var team []string
	var period []int
	var x, y []float64
	for ti := range teams {
		for p := range periods {
			team, period = append(team, string(rune('A'+ti))), append(period, p)
			x = append(x, 1e3*rng.NormFloat64()+float64(ti))
			y = append(y, 1e-3*rng.NormFloat64()+x[len(x)-1]*1e-6)
			if gaps && rng.IntN(10) == 0 {
				x[len(x)-1] = math.NaN()
			}
		}
	}
	x0, y0 := slices.Clone(x), slices.Clone(y)
	same := func(name string) {
		t.Helper()
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(x0[i]) || math.Float64bits(y[i]) != math.Float64bits(y0[i]) {
				t.Fatalf("%s changed its input at %d: x %v → %v, y %v → %v", name, i, x0[i], x[i], y0[i], y[i])
			}
		}
	}
	if c := Pearson(x, y); math.IsNaN(c.R) {
		t.Fatal("the fixture gives no Pearson r")
	}
	same("Pearson")
	Spearman(x, y)
	same("Spearman")
	if _, ok := LeastSquares(x, y); !ok {
		t.Fatal("the fixture gives no line")
	}
	same("LeastSquares")
	if r := RMCorr(team, x, y); math.IsNaN(r.R) {
		t.Fatal("the fixture gives no rmcorr")
	}
	same("RMCorr")
	if r := TwoWayWithin(team, period, x, y); math.IsNaN(r.R) {
		t.Fatalf("the fixture gives no within fit: %s", r.Reason)
	}
	same("TwoWayWithin")
	if s := ScanLags(team, period, x, y); s.Reason != "" {
		t.Fatalf("the fixture gives no lag scan: %s", s.Reason)
	}
	same("ScanLags")
}
