package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
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

// walkJSON calls f with every object key in v and the value under it.
func walkJSON(v any, f func(key string, val any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f(k, e)
			walkJSON(e, f)
		}
	case []any:
		for _, e := range x {
			walkJSON(e, f)
		}
	}
}

// The retention JSON uses lower_snake keys throughout, as the correlation
// JSON does, and writes an empty list as [], never null — for a full
// report and for one below the threshold, which has no figures.
func TestRetentionJSONKeysAreLowerSnakeAndListsNeverNull(t *testing.T) {
	full := retentionOrg(5)
	small := retentionOrg(5)
	small.Scope = 99
	lists := []string{"periods", "units", "tenure", "survival", "engagement_and_turnover", "warnings", "points"}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for name, in := range map[string]RetentionInput{"full": full, "below k": small} {
		b, err := json.Marshal(BuildRetention(in))
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		walkJSON(doc, func(k string, v any) {
			seen[k] = true
			if !snake.MatchString(k) {
				t.Errorf("%s: key %q is not lower_snake", name, k)
			}
		})
		top := doc.(map[string]any)
		for _, k := range lists {
			v, ok := top[k]
			if k == "points" {
				for _, c := range top["survival"].([]any) {
					v, ok = c.(map[string]any)[k]
				}
				if len(top["survival"].([]any)) == 0 {
					continue
				}
			}
			if _, isList := v.([]any); !ok || !isList {
				t.Errorf("%s: %q is %v, want a list", name, k, v)
			}
		}
		for _, k := range []string{"periods", "tenure", "warnings", "trailing_12_months"} {
			if !seen[k] {
				t.Errorf("%s: no key %q in %s", name, k, b)
			}
		}
		if name == "full" {
			for _, k := range []string{"headcount_start", "involuntary", "unknown_type", "points"} {
				if !seen[k] {
					t.Errorf("full: no key %q", k)
				}
			}
		}
	}
}

// A blank exit type is counted as unknown in the report, apart from
// voluntary and involuntary exits, in the periods, the trailing twelve
// months and the units.
func TestRetentionCountsBlankExitTypeAsUnknown(t *testing.T) {
	in := retentionOrg(9)
	// Everyone who left in the last three months: the first half voluntary
	// as planted, the next quarter involuntary, the rest with no type.
	var recent []int
	for i := range in.Stints {
		if s := in.Stints[i]; !s.Exited.IsZero() && !s.Exited.Before(in.Today.AddDate(0, -3, 0)) && s.Exited.Before(in.Today) {
			recent = append(recent, i)
		}
	}
	if len(recent) < 8 {
		t.Fatalf("only %d recent exits in the test organisation", len(recent))
	}
	wantVol, wantInv, wantUnknown := 0, 0, 0
	for j, i := range recent {
		s := &in.Stints[i]
		switch {
		case j < len(recent)/2:
			wantVol++
		case j < 3*len(recent)/4:
			s.Voluntary, s.Involuntary = false, true
			wantInv++
		default:
			s.Voluntary = false
			wantUnknown++
		}
	}
	in.Period, in.From = "month", in.Today.AddDate(0, -3, 0)
	r := BuildRetention(in)
	var vol, inv, unk, exits int
	for _, p := range r.Periods {
		vol, inv, unk, exits = vol+p.Voluntary, inv+p.Involuntary, unk+p.Unknown, exits+p.Exits
	}
	if vol != wantVol || inv != wantInv || unk != wantUnknown || exits != len(recent) {
		t.Errorf("periods: %d exits (%d voluntary, %d involuntary, %d unknown), want %d (%d, %d, %d)",
			exits, vol, inv, unk, len(recent), wantVol, wantInv, wantUnknown)
	}
	if r.TTM.Unknown != wantUnknown || r.TTM.Exits != r.TTM.Voluntary+r.TTM.Involuntary+r.TTM.Unknown {
		t.Errorf("trailing 12 months: %+v, want %d of unknown type and exits = voluntary + involuntary + unknown", r.TTM, wantUnknown)
	}
	units, teams := -1, 0
	for _, u := range r.Units {
		if u.Name == "Acme" {
			units = u.TTM.Unknown
		} else {
			teams += u.TTM.Unknown
		}
	}
	if units != wantUnknown || teams == 0 || teams > wantUnknown {
		t.Errorf("units: Acme shows %d exits of unknown type and its shown teams %d, want %d and 1…%d", units, teams, wantUnknown, wantUnknown)
	}
}

// TestRetentionLinksAreTheSameOnEveryBuild: many teams share a score
// (scores rounded to tens), so which team-months fall in the bottom and top
// quartiles, and the order the correlation sums them in, must not follow
// Go's map order. Twenty builds of the same input give the same bytes.
func TestRetentionLinksAreTheSameOnEveryBuild(t *testing.T) {
	in := retentionOrg(5)
	for i := range in.TeamScores {
		v := in.TeamScores[i].Values
		v[0] = math.Round(v[0]/10) * 10
	}
	first, err := json.Marshal(BuildRetention(in).Links)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, _ := json.Marshal(BuildRetention(in).Links)
		if string(again) != string(first) {
			t.Fatalf("build %d differs from the first:\n%s\nwant\n%s", i+2, again, first)
		}
	}
}
