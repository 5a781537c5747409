package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Six people in Acme/Support answer two weekly rounds: every agreement
// item 5 (100 on 0–100) in the first round and 2 (25) in the second; eNPS
// 10, 9, 3, 10, 9, 3 (four promoters, two detractors: +33.3). The rounds'
// scores are read once they are released.
func TestTeamScoresAggregateEachUnitsRoundInSQL(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		tree, p, rounds := weeklyLogRounds(t, st, fiveInSupport+"f@example.com,F,Acme/Support\n", 2)
		for w, agree := range []float64{5, 2} {
			r := rounds[w]
			qs, _ := st.RoundQuestions(ctx, r.ID)
			invs, _ := st.RoundInvitations(ctx, r.ID)
			var rs []RecordedResponse
			for i, inv := range invs {
				rec := RecordedResponse{InvitationID: inv.ID}
				for _, q := range qs {
					v := agree
					if q.Kind == pulse.Scale010 {
						v = []float64{10, 9, 3}[i%3]
					}
					if q.Kind == pulse.Likert5 || q.Kind == pulse.Scale010 {
						rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: v, HasValue: true})
					}
				}
				rs = append(rs, rec)
			}
			if err := st.RecordResponses(ctx, r.ID, rs); err != nil {
				t.Fatal(err)
			}
		}

		if got, err := st.TeamScores(ctx, []int64{rounds[0].ID, rounds[1].ID}); err != nil || len(got) != 0 {
			t.Fatalf("open rounds' team scores: %d rows (%v), want none before they close", len(got), err)
		}
		if _, err := st.CloseDueRounds(ctx, today.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		counts, err := st.ProgramRoundCounts(ctx)
		if err != nil || counts[p.ID] != 2 {
			t.Fatalf("round counts %v, %v; want 2 for program %d", counts, err, p.ID)
		}
		got, err := st.RoundsBetween(ctx, p.ID, today.AddDate(0, 0, 1), today.AddDate(0, 0, 7))
		if err != nil || len(got) != 1 || got[0].ID != rounds[1].ID {
			t.Fatalf("rounds between: %+v, %v; want only the second round", got, err)
		}
		rows, err := st.TeamScores(ctx, []int64{rounds[0].ID, rounds[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("%d rows, want one per round (one unit answered)", len(rows))
		}
		m := pulse.TeamScoreMeasures()
		for _, r := range rows {
			want := 100.0
			if r.RoundID == rounds[1].ID {
				want = 25
			}
			if r.UnitID != tree.ByPath([]string{"Acme", "Support"}).ID {
				t.Errorf("row of unit %d", r.UnitID)
			}
			if got := r.Values[0]; math.Abs(got-want) > 1e-9 || m[0] != pulse.MeasureIndex {
				t.Errorf("round %d: %s %v, want %v", r.RoundID, m[0], got, want)
			}
			if got := r.Values[1]; math.Abs(got-100.0/3) > 1e-9 || m[1] != pulse.MeasureENPS {
				t.Errorf("round %d: %s %v, want 33.3", r.RoundID, m[1], got)
			}
			asked := 0
			for i, v := range r.Values[2:] {
				if !math.IsNaN(v) {
					asked++
					if math.Abs(v-want) > 1e-9 {
						t.Errorf("round %d: driver %s %v, want %v", r.RoundID, m[2+i], v, want)
					}
				}
			}
			if asked == 0 {
				t.Errorf("round %d: no driver scored", r.RoundID)
			}
		}
	})
}

// MetricTotals reads the same totals as CustomerTotalsRows, one metric at
// a time, with the counts that metric's headline needs.
func TestMetricTotalsAgreeWithCustomerTotalsRows(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, "email,name,team\na@example.com,A,Acme/Support\nb@example.com,B,Acme/Sales\n", false)
		tree, _ := st.Tree(ctx)
		var rs []tandem.Rating
		for i := 0; i < 60; i++ {
			unit := tree.ByPath([]string{"Acme", []string{"Support", "Sales"}[i%2]}).ID
			at := today.AddDate(0, 0, -i)
			rs = append(rs,
				tandem.Rating{Source: "t", ExternalID: fmt.Sprint("c", i), OccurredAt: at, UnitID: unit, Metric: tandem.MetricCSAT, Score: float64(1 + i%5)},
				tandem.Rating{Source: "t", ExternalID: fmt.Sprint("n", i), OccurredAt: at, UnitID: unit, Metric: tandem.MetricNPS, Score: float64(i % 11)},
				tandem.Rating{Source: "t", ExternalID: fmt.Sprint("e", i), OccurredAt: at, UnitID: unit, Metric: tandem.MetricCES, Score: float64(1 + i%7)})
		}
		if _, err := st.IngestRatings(ctx, rs, today); err != nil {
			t.Fatal(err)
		}
		from, to := today.AddDate(0, 0, -40), today.AddDate(0, 0, 1)
		for _, kind := range []string{tandem.Week, tandem.Month} {
			for _, metric := range []string{tandem.MetricCSAT, tandem.MetricNPS, tandem.MetricCES} {
				want, err := st.CustomerTotalsRows(ctx, kind, metric, from, to)
				if err != nil {
					t.Fatal(err)
				}
				got, err := st.MetricTotals(ctx, kind, metric, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) || len(got) == 0 {
					t.Fatalf("%s %s: %d rows, want %d", kind, metric, len(got), len(want))
				}
				for i := range got {
					g, w := got[i], want[i]
					if !g.Period.Equal(w.Period) || g.UnitID != w.UnitID || g.N != w.N || g.Headline(metric) != w.Headline(metric) {
						t.Errorf("%s %s row %d: %+v, want %+v", kind, metric, i, g, w)
					}
				}
			}
		}
	})
}

// The store aggregates TeamScores in SQL; they must equal what the results
// rule says from the per-question totals (pulse.Score, through pulse.TeamScoresOf), measure by
// measure, on answers stored the ordinary way.
func TestStoreTeamScoresEqualTheScoringRule(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		week0 := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC) // a Monday
		var csvText strings.Builder
		csvText.WriteString("email,name,team\n")
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&csvText, "p%d@example.com,P %d,Co/Team %d\n", i, i, i%3)
		}
		plan, err := st.PlanRoster(ctx, strings.NewReader(csvText.String()), roster.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApplyRoster(ctx, plan, week0.AddDate(0, 0, -30)); err != nil {
			t.Fatal(err)
		}
		tree, _ := st.Tree(ctx)
		p := pulse.Defaults()
		p.AudienceUnitID = tree.Roots()[0]
		if err := st.SaveProgram(ctx, &p); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var ids []int64
		questions := map[int64][]pulse.Question{}
		for w := 0; w < 4; w++ {
			slot := week0.AddDate(0, 0, 7*w).Add(9 * time.Hour)
			r, _, err := st.CreateRound(ctx, &p, slot, false, slot)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
			qs, _ := st.RoundQuestions(ctx, r.ID)
			questions[r.ID] = qs
			invs, _ := st.RoundInvitations(ctx, r.ID)
			var rs []RecordedResponse
			for _, inv := range invs {
				if rng.IntN(4) == 0 {
					continue
				}
				rec := RecordedResponse{InvitationID: inv.ID}
				for _, q := range qs {
					switch q.Kind {
					case pulse.Likert5:
						rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: float64(1 + rng.IntN(5)), HasValue: true})
					case pulse.Scale010:
						rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: float64(rng.IntN(11)), HasValue: true})
					}
				}
				rs = append(rs, rec)
			}
			if err := st.RecordResponses(ctx, r.ID, rs); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.CloseDueRounds(ctx, week0.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		rows, err := st.Scores(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		measures := pulse.TeamScoreMeasures()
		want := map[string]float64{}
		for _, r := range pulse.TeamScoresOf(rows, questions) {
			for i, v := range r.Values {
				if !math.IsNaN(v) {
					want[fmt.Sprintf("%d/%d/%s", r.RoundID, r.UnitID, measures[i])] = v
				}
			}
		}
		got, err := st.TeamScores(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		covered := map[string]bool{}
		for _, r := range got {
			for i, v := range r.Values {
				k := fmt.Sprintf("%d/%d/%s", r.RoundID, r.UnitID, measures[i])
				w, ok := want[k]
				if math.IsNaN(v) {
					if ok {
						t.Errorf("%s: SQL has no value, pulse.Score %v", k, w)
					}
					continue
				}
				n++
				covered[measures[i]] = true
				if !ok || math.Abs(w-v) > 1e-9 {
					t.Errorf("%s: SQL %v, pulse.Score %v (present %v)", k, v, w, ok)
				}
			}
		}
		if n != len(want) || n < 30 {
			t.Errorf("%d values from SQL, %d from pulse.Score", n, len(want))
		}
		if !covered[pulse.MeasureIndex] || !covered[pulse.MeasureENPS] || len(covered) < 4 {
			t.Errorf("measures covered: %v", covered)
		}
	})
}
