package report

import (
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// riskFixture: Acme (1) with teams A (2), B (3) and C (4, three people).
// Four weekly rounds ask the index item (q1) and intent to stay (q2).
func riskFixture(aScores []float64, aN []int) (*tandem.Tree, pulse.RoundSet) {
	tree := tandem.NewTree([]tandem.Unit{{ID: 1, Name: "Acme"}, {ID: 2, ParentID: 1, Name: "A"}, {ID: 3, ParentID: 1, Name: "B"}, {ID: 4, ParentID: 1, Name: "C"}})
	qs := []pulse.Question{{ID: 1, Kind: pulse.Likert5, Driver: pulse.DriverEngagement, InIndex: true}, {ID: 2, Kind: pulse.Likert5, Driver: pulse.DriverIntent}}
	var rounds []pulse.Round
	questions := map[int64][]pulse.Question{}
	resp := map[int64]pulse.UnitCounts{}
	var scores []pulse.ScoreRow
	t0 := time.Date(2026, 9, 7, 9, 0, 0, 0, time.UTC)
	for i := 0; i < len(aScores); i++ {
		id := int64(i + 1)
		rounds = append(rounds, pulse.Round{ID: id, Seq: i + 1, ScheduledAt: t0.AddDate(0, 0, 7*i), MinGroup: 5})
		questions[id] = qs
		resp[id] = pulse.UnitCounts{2: aN[i], 3: 6, 4: 3}
		for _, q := range []int64{1, 2} {
			// A: aScores on the 1–5 scale; B steady at 4; C drops hard.
			scores = append(scores,
				pulse.ScoreRow{RoundID: id, UnitID: 2, QuestionID: q, N: aN[i], Sum: aScores[i] * float64(aN[i])},
				pulse.ScoreRow{RoundID: id, UnitID: 3, QuestionID: q, N: 6, Sum: 4 * 6},
				pulse.ScoreRow{RoundID: id, UnitID: 4, QuestionID: q, N: 3, Sum: []float64{4.5, 4.5, 4.5, 1}[i%4] * 3})
		}
	}
	return tree, pulse.RoundSet{Rounds: rounds, Questions: questions, Respondents: resp, Scores: scores}
}

func TestATeamWhoseEngagementFallsTenPointsIsFlaggedWithItsEvidence(t *testing.T) {
	// A: 4, 4, 4 (75 on 0–100) then 3.4 (60): 15 points below. A has 7
	// people and B 6, so that hiding C (3) costs B, not A, its row
	// (complementary suppression hides the smaller sibling).
	tree, set := riskFixture([]float64{4, 4, 4, 3.4}, []int{7, 7, 7, 7})
	got := FlightRisks(tree, 0, set, DefaultFlightRisk)
	flagged := map[string]FlightRisk{}
	for _, r := range got {
		flagged[r.Unit.Name+"/"+r.Measure] = r
	}
	a, ok := flagged["A/"+MeasureEngagement]
	if !ok {
		t.Fatalf("A's 15-point fall was not flagged; got %v", got)
	}
	if !closeTo(a.Latest, 60, 1e-9) || !closeTo(a.Trailing, 75, 1e-9) || !closeTo(a.Drop, 15, 1e-9) || len(a.Rounds) != 4 {
		t.Errorf("evidence %+v, want latest 60, trailing 75, drop 15 over 4 rounds", a)
	}
	if _, ok := flagged["A/"+MeasureIntent]; !ok {
		t.Error("A's intent to stay fell the same way but was not flagged")
	}
	if _, ok := flagged["B/"+MeasureEngagement]; ok {
		t.Error("B was flagged although it is steady (and hidden to protect C)")
	}
	for k := range flagged {
		if k[0] == 'C' {
			t.Errorf("C (3 respondents, below k) was flagged: %s", k)
		}
	}
}

func TestAFallOfNinePointsOrAHiddenRoundIsNotFlagged(t *testing.T) {
	// 4, 4, 4 then 3.64: 9 points.
	tree, set := riskFixture([]float64{4, 4, 4, 3.64}, []int{7, 7, 7, 7})
	for _, r := range FlightRisks(tree, 0, set, DefaultFlightRisk) {
		if r.Unit.Name == "A" {
			t.Errorf("a 9-point fall was flagged: %+v", r)
		}
	}
	// A hidden in round 2 (4 respondents): the trailing three are not
	// all shown, so no signal.
	tree, set = riskFixture([]float64{4, 4, 4, 3}, []int{7, 4, 7, 7})
	for _, r := range FlightRisks(tree, 0, set, DefaultFlightRisk) {
		if r.Unit.Name == "A" {
			t.Errorf("flagged although A was below k in a compared round: %+v", r)
		}
	}
}

func TestFlightRisksOfALeaderStayInTheirSubtree(t *testing.T) {
	tree, set := riskFixture([]float64{4, 4, 4, 3.4}, []int{7, 7, 7, 7})
	for _, r := range FlightRisks(tree, 3, set, DefaultFlightRisk) {
		if r.Unit.ID != 3 {
			t.Errorf("a leader of B sees a signal about %s", r.Unit.Name)
		}
	}
}

func closeTo(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
