package report

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
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
		got := AgreementOf([]pulse.IndexAnswers{{RoundID: 1, UnitID: 2, Items: items, Values: values}})[1][2].Index
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
