package report

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
)

// TestAgreementIndexIsPulseScoreOfOneRespondent: the per-respondent
// engagement index the within-team agreement averages is what pulse.Score
// gives for that respondent alone, so the two can never drift apart.
func TestAgreementIndexIsPulseScoreOfOneRespondent(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	items := []int64{11, 12, 13, 14}
	var qs []pulse.Question
	for _, id := range items {
		qs = append(qs, pulse.Question{ID: id, Kind: pulse.Likert5, InIndex: true, Driver: pulse.DriverEngagement})
	}
	for i := 0; i < 200; i++ {
		values := make([]float64, len(items))
		totals := map[int64]pulse.Totals{}
		for j, id := range items {
			if rng.IntN(5) == 0 {
				values[j] = math.NaN() // not answered
				continue
			}
			values[j] = float64(1 + rng.IntN(5))
			totals[id] = pulse.Totals{N: 1, Sum: values[j]}
		}
		ua, _ := AgreementOf([]pulse.IndexAnswers{{RoundID: 1, UnitID: 2, Items: items, Values: values}})[1].Of(2)
		got := ua.Index
		want := pulse.Score(totals, qs, 1).Engagement
		if math.IsNaN(want) {
			if got.N != 0 {
				t.Errorf("values %v: agreement counts %d respondents with an index, pulse.Score has none", values, got.N)
			}
			continue
		}
		if got.N != 1 || math.Abs(got.Mean-want) > 1e-12 {
			t.Errorf("values %v: agreement index %v (n %d), pulse.Score %v", values, got.Mean, got.N, want)
		}
	}
}

// A round's agreement inputs come in unit id order, each unit once, however
// the answers are ordered, and Of finds each.
func TestRoundAgreementIsInUnitOrderAndOfFindsEveryUnit(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 2))
	items := []int64{1, 2, 3}
	var answers []pulse.IndexAnswers
	want := map[int64]map[int64]int{} // round → unit → respondents
	for range 400 {
		round, unit := int64(1+rng.IntN(3)), int64(100-rng.IntN(40))
		answers = append(answers, pulse.IndexAnswers{RoundID: round, UnitID: unit, Items: items,
			Values: []float64{float64(1 + rng.IntN(5)), float64(1 + rng.IntN(5)), float64(1 + rng.IntN(5))}})
		if want[round] == nil {
			want[round] = map[int64]int{}
		}
		want[round][unit]++
	}
	got := AgreementOf(answers)
	for round, units := range want {
		ra := got[round]
		if len(ra) != len(units) {
			t.Fatalf("round %d: %d units, want %d", round, len(ra), len(units))
		}
		for i := 1; i < len(ra); i++ {
			if ra[i-1].Unit >= ra[i].Unit {
				t.Fatalf("round %d: unit %d before %d", round, ra[i-1].Unit, ra[i].Unit)
			}
		}
		for unit, n := range units {
			if ua, ok := ra.Of(unit); !ok || ua.Unit != unit || ua.Index.N != n {
				t.Errorf("round %d, unit %d: got %+v, %v; want %d respondents", round, unit, ua, ok, n)
			}
		}
		if _, ok := ra.Of(1000); ok {
			t.Errorf("round %d: Of found a unit without answers", round)
		}
	}
}

// The loader keeps each round's agreement inputs in columns: every value
// comes back to the bit (NaN, −0 and the largest counts included), and
// rounds with the same units share one list of ids.
func TestKeptAgreementHoldsEveryInputToTheBit(t *testing.T) {
	ra := RoundAgreement{
		{Unit: 3, Index: stats.GroupMoments{N: 12, Mean: 71.25, SS: 1234.5}, RWG: 0.8125, RWGN: 11},
		{Unit: 7, Index: stats.GroupMoments{N: 1, Mean: math.Copysign(0, -1), SS: 0}, RWG: math.NaN(), RWGN: 1},
		{Unit: 9, Index: stats.GroupMoments{N: math.MaxInt32, Mean: math.NaN(), SS: math.Inf(1)}, RWG: -0.5, RWGN: math.MaxInt32},
	}
	var lists unitLists
	a, b := packAgreement(ra, &lists), packAgreement(slices.Clone(ra), &lists)
	if &a.units[0] != &b.units[0] {
		t.Error("two rounds with the same units keep two lists of ids")
	}
	same := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	for i, ua := range ra {
		if a.units[i] != ua.Unit || int(a.n[i]) != ua.Index.N || int(a.rwgN[i]) != ua.RWGN ||
			!same(a.mean[i], ua.Index.Mean) || !same(a.ss[i], ua.Index.SS) || !same(a.rwgs[i], ua.RWG) {
			t.Errorf("unit %d: kept %d %d %d %v %v %v, want %+v", i, a.units[i], a.n[i], a.rwgN[i], a.mean[i], a.ss[i], a.rwgs[i], ua)
		}
	}
}
