package report

import (
	"math"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// TestEngagementAndCSATMatchesEachRoundWithItsWeek: the dashboard chart's
// roll-up (formerly written in web) puts a unit's engagement, hidden below
// k, beside the CSAT of its subtree's customers in the week of the round's
// period; a week without ratings has no CSAT.
func TestEngagementAndCSATMatchesEachRoundWithItsWeek(t *testing.T) {
	tree := tandem.NewTree([]tandem.Unit{{ID: 1, Name: "Acme"}, {ID: 2, ParentID: 1, Name: "B"}, {ID: 3, ParentID: 1, Name: "C"}, {ID: 4, Name: "Other"}})
	q := pulse.Question{ID: 9, Kind: pulse.Likert5, InIndex: true, Driver: pulse.DriverEngagement}
	set := pulse.RoundSet{
		Rounds: []pulse.Round{
			{ID: 1, Period: "2026-06-10", MinGroup: 5, Closed: true}, // a Wednesday: the week of Monday 8 June
			{ID: 2, Period: "2026-06-17", MinGroup: 5, Closed: true},
		},
		Questions:   map[int64][]pulse.Question{1: {q}, 2: {q}},
		Respondents: map[int64]pulse.UnitCounts{1: {2: 5, 3: 5}, 2: {2: 2}},
		Scores: []pulse.ScoreRow{
			{RoundID: 1, UnitID: 2, QuestionID: 9, N: 5, Sum: 20}, // mean 4
			{RoundID: 1, UnitID: 3, QuestionID: 9, N: 5, Sum: 10}, // mean 2
			{RoundID: 2, UnitID: 2, QuestionID: 9, N: 2, Sum: 10},
		},
	}
	week := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	csat := []tandem.CustomerTotalsRow{
		{Period: week(2026, 6, 8), UnitID: 2, Metric: tandem.MetricCSAT, CustomerTotals: tandem.CustomerTotals{N: 4, Top: 3}},
		{Period: week(2026, 6, 8), UnitID: 3, Metric: tandem.MetricCSAT, CustomerTotals: tandem.CustomerTotals{N: 4, Top: 1}},
		{Period: week(2026, 6, 8), UnitID: 4, Metric: tandem.MetricCSAT, CustomerTotals: tandem.CustomerTotals{N: 100, Top: 100}}, // not Acme's
	}
	got := EngagementAndCSAT(tree, 1, set, csat)
	if len(got) != 2 {
		t.Fatalf("%d points, want 2", len(got))
	}
	// Round 1: 10 respondents; mean 3 on 1–5 is 50 on 0–100; CSAT 4 of 8.
	if p := got[0]; p.Period != "2026-06-10" || math.Abs(p.Engagement-50) > 1e-9 || math.Abs(p.CSAT-50) > 1e-9 {
		t.Errorf("round 1 = %+v, want period 2026-06-10, engagement 50, CSAT 50", p)
	}
	// Round 2: 2 respondents, below k = 5: no engagement; no ratings that week.
	if p := got[1]; p.Period != "2026-06-17" || !math.IsNaN(p.Engagement) || !math.IsNaN(p.CSAT) {
		t.Errorf("round 2 = %+v, want engagement and CSAT both NaN", p)
	}
}
