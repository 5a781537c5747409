package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/retention"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func day(s string) time.Time {
	d, err := tandem.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// retentionOrg: Acme (1) with 20 teams (ids 10…29) of 8 people and one
// team "Tiny" (99) of 3. Team i's engagement is 40 + 2i; its people leave
// voluntarily with a monthly hazard that falls with engagement.
func retentionOrg(seed uint64) RetentionInput {
	rng := rand.New(rand.NewPCG(seed, 1))
	units := []tandem.Unit{{ID: 1, Name: "Acme"}, {ID: 99, ParentID: 1, Name: "Tiny"}}
	for i := 0; i < 20; i++ {
		units = append(units, tandem.Unit{ID: int64(10 + i), ParentID: 1, Name: fmt.Sprintf("Team %02d", i)})
	}
	tree := tandem.NewTree(units)
	start, today := day("2024-01-01"), day("2026-07-01")
	var stints []retention.Stint
	id := int64(0)
	hire := func(unit int64, from time.Time, hazard float64) {
		for slot := 0; slot < 8; slot++ {
			h := from
			for h.Before(today) {
				id++
				s := retention.Stint{EmployeeID: id, Hired: h, Units: []retention.UnitFrom{{From: h, UnitID: unit}}}
				for m := h.AddDate(0, 1, 0); m.Before(today); m = m.AddDate(0, 1, 0) {
					if rng.Float64() < hazard {
						s.Exited, s.Voluntary = m, true
						break
					}
				}
				stints = append(stints, s)
				if s.Exited.IsZero() {
					break
				}
				h = s.Exited // replaced the same day
			}
		}
	}
	for i := 0; i < 20; i++ {
		hire(int64(10+i), start.AddDate(-2, 0, 0), 0.06-0.0025*float64(i))
	}
	for j := 0; j < 3; j++ {
		id++
		stints = append(stints, retention.Stint{EmployeeID: id, Hired: start, Units: []retention.UnitFrom{{From: start, UnitID: 99}}})
	}
	// Monthly pulse rounds, every team shown with 8 respondents.
	var rounds []pulse.Round
	resp := map[int64]pulse.UnitCounts{}
	var scores []pulse.TeamScoreRow
	nm := len(pulse.TeamScoreMeasures())
	for m, rid := start, int64(1); m.Before(today); m, rid = m.AddDate(0, 1, 0), rid+1 {
		rounds = append(rounds, pulse.Round{ID: rid, Period: tandem.FormatDate(m), MinGroup: 5})
		resp[rid] = pulse.UnitCounts{99: 3}
		for i := 0; i < 20; i++ {
			resp[rid][int64(10+i)] = 8
			v := make([]float64, nm)
			for j := range v {
				v[j] = math.NaN()
			}
			v[0] = 40 + 2*float64(i) + rng.NormFloat64()*3
			scores = append(scores, pulse.TeamScoreRow{RoundID: rid, UnitID: int64(10 + i), Values: v})
		}
	}
	return RetentionInput{Tree: tree, Scope: 0, Stints: stints, Period: "quarter", From: day("2025-07-01"), To: today, Today: today,
		K: 5, Rounds: rounds, Respondents: resp, TeamScores: scores}
}

func TestMonthlyTableAgreesWithTurnoverCounting(t *testing.T) {
	in := retentionOrg(7)
	table := monthlyTable(in.Stints, day("2024-01-01"), in.Today)
	for _, unit := range []int64{10, 17, 29, 99} {
		for m := day("2024-01-01"); m.Before(in.Today); m = m.AddDate(0, 1, 0) {
			want := retention.Compute(in.Stints, func(u int64) bool { return u == unit }, m, m.AddDate(0, 1, 0))
			got := table.at(unit, m)
			if got.start != want.HeadcountStart || got.end != want.HeadcountEnd || got.voluntary != want.Voluntary {
				t.Fatalf("unit %d %s: table %+v, Compute %+v", unit, m.Format("2006-01"), got, want)
			}
		}
	}
}

func TestLowerEngagementTeamsLoseMorePeopleAndTheReportSaysSo(t *testing.T) {
	r := BuildRetention(retentionOrg(11))
	if len(r.Links) != 4 {
		t.Fatalf("%d links, want index and intent at 3 and 6 months", len(r.Links))
	}
	for _, l := range r.Links {
		if l.Measure != pulse.MeasureIndex {
			if l.Pearson.N != 0 {
				t.Errorf("intent to stay was never asked but has %d pairs", l.Pearson.N)
			}
			continue
		}
		// Tiny (3) is hidden, and so is one team of 8: otherwise Acme minus
		// the shown teams would reveal Tiny.
		if l.NTeams != 19 {
			t.Errorf("horizon %d: %d teams, want 19", l.Horizon, l.NTeams)
		}
		if !(l.Pearson.R < -0.1) || !(l.Pearson.CIHigh < 0) {
			t.Errorf("horizon %d: r = %.2f (CI %.2f…%.2f), want clearly negative", l.Horizon, l.Pearson.R, l.Pearson.CILow, l.Pearson.CIHigh)
		}
		if !(l.RateRatio > 1.5) || !(l.RateRatioLow > 1) {
			t.Errorf("horizon %d: bottom/top rate ratio %.2f (%.2f…%.2f), want clearly above 1", l.Horizon, l.RateRatio, l.RateRatioLow, l.RateRatioHi)
		}
	}
}

func TestRetentionNeverShowsAUnitBelowK(t *testing.T) {
	r := BuildRetention(retentionOrg(3))
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "Tiny") {
		t.Error("the report names Tiny, a team of 3")
	}
	if r.Hidden != 2 {
		t.Errorf("%d hidden units, want 2 (Tiny, and one team so that Tiny cannot be worked out)", r.Hidden)
	}
	for _, c := range r.Survival {
		if c.Stints < 5 {
			t.Errorf("a retention curve over %d stints", c.Stints)
		}
	}
	in := retentionOrg(3)
	in.Scope = 99
	small := BuildRetention(in)
	if len(small.Periods) != 0 || len(small.Survival) != 0 || len(small.Warnings) == 0 {
		t.Errorf("a report on Tiny alone shows figures: %+v", small)
	}
}
