package stats

import (
	"fmt"
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

	// The code forms leave their codes alone too: a report computes from
	// the same team and period columns it keeps for its pairs.
	codes := make([]int, len(team))
	for i, name := range team {
		codes[i] = int(name[0] - 'A')
	}
	codes0, period0 := slices.Clone(codes), slices.Clone(period)
	sameCodes := func(name string) {
		t.Helper()
		same(name)
		if !slices.Equal(codes, codes0) || !slices.Equal(period, period0) {
			t.Fatalf("%s changed its team or period codes", name)
		}
	}
	if r := RMCorrCodes(codes, teams, x, y); math.IsNaN(r.R) {
		t.Fatal("the fixture gives no rmcorr")
	}
	sameCodes("RMCorrCodes")
	if r := NewFECache().TwoWayWithinCodes(codes, teams, period, periods, x, y); math.IsNaN(r.R) {
		t.Fatalf("the fixture gives no within fit: %s", r.Reason)
	}
	sameCodes("TwoWayWithinCodes")
	if s := NewFECache().ScanLagsCodes(codes, teams, period, x, y); s.Reason != "" {
		t.Fatalf("the fixture gives no lag scan: %s", s.Reason)
	}
	sameCodes("ScanLagsCodes")
}

// TwoWayWithinCodes is TwoWayWithin, to the bit, whatever codes stand for
// the names (here shuffled, with unused codes), on unbalanced panels with
// gaps.
func TestTwoWayWithinCodesEqualsTwoWayWithin(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 4))
	for trial := range 200 {
		teams, periods := 2+rng.IntN(30), 2+rng.IntN(40)
		teamCode, periodCode := rng.Perm(teams+3), rng.Perm(periods+5)
		var names []string
		var codes, period, pcodes []int
		var x, y []float64
		for i := range 2 + rng.IntN(600) {
			ti, p := rng.IntN(teams), rng.IntN(periods)
			if i%7 == 0 {
				ti = i % teams // every team now and then
			}
			names, codes = append(names, string(rune('a'+ti))), append(codes, teamCode[ti])
			period, pcodes = append(period, 100+p), append(pcodes, periodCode[p])
			x = append(x, float64(ti)+rng.NormFloat64()+float64(p)/10)
			y = append(y, 0.3*x[len(x)-1]+rng.NormFloat64())
			if rng.IntN(12) == 0 {
				y[len(y)-1] = math.NaN()
			}
		}
		want := TwoWayWithin(names, period, slices.Clone(x), slices.Clone(y))
		got := TwoWayWithinCodes(codes, teams+3, pcodes, periods+5, slices.Clone(x), slices.Clone(y))
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Fatalf("trial %d: codes\n%#v\nnames\n%#v", trial, got, want)
		}
		got32 := TwoWayWithinCodesIn(NewFECache(), int32s(codes), teams+3, int32s(pcodes), periods+5, x, y)
		if fmt.Sprintf("%#v", got32) != fmt.Sprintf("%#v", want) {
			t.Fatalf("trial %d: int32 codes\n%#v\nnames\n%#v", trial, got32, want)
		}
	}
	if r := TwoWayWithinCodes([]int{0, 1, 2}, 2, []int{0, 1, 0}, 2, []float64{1, 2, 3}, []float64{1, 2, 3}); r.Reason == "" {
		t.Error("a team code out of range gave no reason")
	}
	if r := TwoWayWithinCodesIn(nil, []int32{0, 1, 0}, 2, []int32{0, -1, 0}, 2, []float64{1, 2, 3}, []float64{1, 2, 3}); r.Reason == "" {
		t.Error("a negative int32 period code gave no reason")
	}
}

// int32s is s as int32 codes.
func int32s(s []int) []int32 {
	out := make([]int32, len(s))
	for i, v := range s {
		out[i] = int32(v)
	}
	return out
}
