package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// randomScoreInput is an organisation of one root and teams, weekly
// rounds of which several fall in one week (so that a team-period adds up
// more than two rounds, where the order of the additions shows), and score
// rows in a shuffled order with NaN values, drivers no unit of a round
// has, and rows shorter than the measures.
func randomScoreInput(seed uint64) CorrelationInput {
	rng := rand.New(rand.NewPCG(seed, 19))
	units := []tandem.Unit{{ID: 1, Name: "Co"}}
	const teams = 12
	for t := range teams {
		units = append(units, tandem.Unit{ID: int64(10 + t), ParentID: 1, Name: "Team " + string(rune('A'+t))})
	}
	nm := len(pulse.TeamScoreMeasures())
	var rounds []pulse.Round
	resp := map[int64]pulse.UnitCounts{}
	var rows []pulse.TeamScoreRow
	for r := range 14 {
		id := int64(100 + r)
		day := week0.AddDate(0, 0, 7*(r/3)+r%3) // three rounds a week
		rounds = append(rounds, pulse.Round{ID: id, ProgramID: 1, ScheduledAt: day.Add(9 * time.Hour), Period: tandem.FormatDate(day), MinGroup: 3, Closed: true})
		resp[id] = pulse.UnitCounts{}
		asked := rng.Perm(nm)[:3+rng.IntN(nm-3)] // the measures this round has
		for t := range teams {
			if rng.IntN(8) == 0 {
				continue
			}
			unit := int64(10 + t)
			resp[id][unit] = 3 + rng.IntN(9)
			vals := make([]float64, nm-rng.IntN(3))
			for m := range vals {
				vals[m] = math.NaN()
			}
			for _, m := range asked {
				if m < len(vals) && rng.IntN(6) != 0 {
					vals[m] = 100 * rng.Float64()
				}
			}
			rows = append(rows, pulse.TeamScoreRow{RoundID: id, UnitID: unit, Values: vals})
		}
	}
	// Rounds' rows interleaved in places, as a database's hash
	// aggregation may return them.
	for i := range rows {
		if j := i + rng.IntN(4); j < len(rows) && rng.IntN(3) == 0 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	p := weekParams(6)
	p.MinRatings = 1
	return CorrelationInput{Tree: tandem.NewTree(units), Params: p, Rounds: rounds, Respondents: resp, TeamScores: rows}
}

func TestPanelFromScoreColumnsAddsEveryValueInTheRowsOrder(t *testing.T) {
	for seed := range uint64(40) {
		in := randomScoreInput(seed)
		pn := newPanel(in, in.Params)
		for m := range pulse.TeamScoreMeasures() {
			pn.fill(m)
		}
		// The rule as it read the rows one by one before the columns.
		measures := pulse.TeamScoreMeasures()
		type key struct {
			unit int64
			m, p int
		}
		sum, weight := map[key]float64{}, map[key]int32{}
		for _, s := range in.TeamScores {
			r, ok := pn.rounds[s.RoundID]
			if !ok {
				continue
			}
			n, ok := r.usable(s.UnitID, pn.inScope)
			if !ok {
				continue
			}
			for m, v := range s.Values {
				if m >= len(measures) || math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				sum[key{s.UnitID, m, r.pi}] += v * float64(n)
				weight[key{s.UnitID, m, r.pi}] += int32(n)
			}
		}
		cells := 0
		for _, tm := range pn.teams {
			for m := range measures {
				for p := range pn.periodDays {
					k := key{tm.unit.ID, m, p}
					var gs float64
					var gw int32
					if tm.sum[m] != nil {
						gs, gw = tm.sum[m][p], tm.weight[m][p]
					}
					if math.Float64bits(gs) != math.Float64bits(sum[k]) || gw != weight[k] {
						t.Fatalf("seed %d, unit %d, measure %d, period %d: got %v (%d), want %v (%d)", seed, k.unit, m, p, gs, gw, sum[k], weight[k])
					}
					if gw > 0 {
						cells++
					}
				}
			}
		}
		if cells == 0 || len(pn.teams) == 0 {
			t.Fatalf("seed %d: the fixture gives no team-periods", seed)
		}
		// The loader's form: the same rows, one block per round as it keeps
		// them, in the order of the rows' runs.
		in.scores, in.TeamScores = scoreColumns(in.TeamScores), nil
		got := newPanel(in, in.Params)
		for m := range pulse.TeamScoreMeasures() {
			got.fill(m)
		}
		if !samePanelSums(got, pn) {
			t.Fatalf("seed %d: the panel from the loader's columns differs", seed)
		}
		// Let go and laid out again, in the other order: each measure
		// now lands in a block another measure filled before.
		for m := range pulse.TeamScoreMeasures() {
			got.drop(m)
		}
		for m := len(measures) - 1; m >= 0; m-- {
			got.fill(m)
		}
		if !samePanelSums(got, pn) {
			t.Fatalf("seed %d: measures laid out again in blocks let go of differ", seed)
		}
	}
}

func samePanelSums(a, b *panel) bool {
	if len(a.teams) != len(b.teams) {
		return false
	}
	for i := range a.teams {
		ta, tb := a.teams[i], b.teams[i]
		if ta.unit.ID != tb.unit.ID {
			return false
		}
		for m := range ta.sum {
			if (ta.sum[m] == nil) != (tb.sum[m] == nil) {
				return false
			}
			for p := range ta.sum[m] {
				if math.Float64bits(ta.sum[m][p]) != math.Float64bits(tb.sum[m][p]) || ta.weight[m][p] != tb.weight[m][p] {
					return false
				}
			}
		}
	}
	return true
}

func TestScoreColumnsKeepEveryValue(t *testing.T) {
	in := randomScoreInput(7)
	cols := scoreColumns(in.TeamScores)
	i := 0
	for _, rs := range cols {
		for k, unit := range rs.units {
			row := in.TeamScores[i]
			i++
			if row.RoundID != rs.round || row.UnitID != unit {
				t.Fatalf("row %d: got round %d unit %d, want %d %d", i, rs.round, unit, row.RoundID, row.UnitID)
			}
			for m := range len(pulse.TeamScoreMeasures()) + 2 {
				want := math.NaN()
				if m < len(row.Values) {
					want = row.Values[m]
				}
				got := math.NaN()
				if j := rs.col(m); j >= 0 {
					got = rs.at(k, j)
				}
				if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("row %d, measure %d: got %v, want %v", i, m, got, want)
				}
			}
		}
		if len(rs.cols) == len(pulse.TeamScoreMeasures()) {
			t.Errorf("round %d keeps a column for every measure; the fixture asks only some", rs.round)
		}
	}
	if i != len(in.TeamScores) {
		t.Fatalf("got %d rows back, want %d", i, len(in.TeamScores))
	}
}

func TestRetentionScoresFromColumnsAddEveryValueInTheRowsOrder(t *testing.T) {
	for seed := range uint64(20) {
		ci := randomScoreInput(seed)
		in := RetentionInput{Tree: ci.Tree, Rounds: ci.Rounds, Respondents: ci.Respondents, TeamScores: ci.TeamScores, K: 3}
		today := week0.AddDate(1, 0, 0)
		for mi := -1; mi <= len(pulse.TeamScoreMeasures()); mi++ {
			lt := newLinkTables(in, today)
			// The rule as it read the rows one by one before the columns,
			// deciding each round with privacy.Decide.
			vis := map[int64]*privacy.Visibility{}
			for _, r := range in.Rounds {
				vis[r.ID] = privacy.Decide(in.Tree, in.Respondents[r.ID], r.MinGroup)
			}
			sum, weight := map[teamMonth]float64{}, map[teamMonth]float64{}
			for _, row := range in.TeamScores {
				v := vis[row.RoundID]
				if v == nil || mi < 0 || mi >= len(row.Values) || math.IsNaN(row.Values[mi]) || !v.Shown(row.UnitID) {
					continue
				}
				n := in.Respondents[row.RoundID][row.UnitID]
				if v.Count(row.UnitID) != n {
					continue
				}
				kk := teamMonth{row.UnitID, lt.month[row.RoundID]}
				sum[kk] += row.Values[mi] * float64(n)
				weight[kk] += float64(n)
			}
			for _, form := range []string{"rows", "columns"} {
				in := in
				if form == "columns" {
					in.scores, in.TeamScores = scoreColumns(in.TeamScores), nil
				}
				gs, gw := newLinkTables(in, today).scores(in, mi)
				if len(gs) != len(sum) || len(gw) != len(weight) {
					t.Fatalf("seed %d, measure %d, %s: %d team-months, want %d", seed, mi, form, len(gs), len(sum))
				}
				for k, s := range sum {
					if math.Float64bits(gs[k]) != math.Float64bits(s) || gw[k] != weight[k] {
						t.Fatalf("seed %d, measure %d, %s, %v: got %v (%v), want %v (%v)", seed, mi, form, k, gs[k], gw[k], s, weight[k])
					}
				}
			}
		}
	}
}
