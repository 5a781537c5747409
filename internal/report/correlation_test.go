package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// Reference tools (Debian 12 packages):
//
//	Python 3.11 /usr/bin/python3, SciPy 1.10.1, NumPy 1.24.2 (python3-scipy)
//	R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9
//
// Python values are repr() of the float; R ran with options(digits = 17).

const within = 1e-9

func assertNear(t *testing.T, name string, got Num, want float64) {
	t.Helper()
	g := float64(got)
	if math.IsNaN(want) || math.IsNaN(g) {
		if math.IsNaN(want) != math.IsNaN(g) {
			t.Errorf("%s: got %v, want %v", name, g, want)
		}
		return
	}
	diff := math.Abs(g - want)
	if want != 0 {
		diff /= math.Abs(want)
	}
	if diff > within {
		t.Errorf("%s: got %.17g, want %.17g", name, g, want)
	}
}

var (
	qIndex   = pulse.Question{ID: 1, Key: "eng.proud", Kind: pulse.Likert5, Driver: pulse.DriverEngagement, InIndex: true}
	qGrowth  = pulse.Question{ID: 2, Key: "grow.skills", Kind: pulse.Likert5, Driver: "growth"}
	qManager = pulse.Question{ID: 3, Key: "mgr.obstacles", Kind: pulse.Likert5, Driver: "manager"}
	qENPS    = pulse.Question{ID: 4, Key: "enps", Kind: pulse.Scale010, Driver: pulse.DriverENPS}
)

// fixture builds a report's inputs by hand: units, weekly rounds, the
// direct respondents and answer totals of each unit in each round, and
// customer totals.
type fixture struct {
	units    []tandem.Unit
	rounds   []pulse.Round
	resp     map[int64]pulse.UnitCounts
	scores   []pulse.ScoreRow
	qs       map[int64][]pulse.Question
	customer []CustomerCell
}

func newFixture() *fixture {
	return &fixture{resp: map[int64]pulse.UnitCounts{}, qs: map[int64][]pulse.Question{}}
}

func (f *fixture) unit(id, parent int64, name string) {
	f.units = append(f.units, tandem.Unit{ID: id, ParentID: parent, Name: name})
}

var week0 = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC) // a Monday

// round adds round id on the Monday of week w (k = 5).
func (f *fixture) round(id int64, w int) {
	day := week0.AddDate(0, 0, 7*w)
	f.rounds = append(f.rounds, pulse.Round{ID: id, ProgramID: 1, ScheduledAt: day.Add(9 * time.Hour), Period: tandem.FormatDate(day), MinGroup: 5})
	f.qs[id] = []pulse.Question{qIndex, qGrowth, qManager, qENPS}
	f.resp[id] = pulse.UnitCounts{}
}

// answers records that n people of unit answered round with these sums of
// their answers to each question (question id → sum).
func (f *fixture) answers(round, unit int64, n int, sums map[int64]float64) {
	f.resp[round][unit] += n
	for q, s := range sums {
		f.scores = append(f.scores, pulse.ScoreRow{RoundID: round, UnitID: unit, QuestionID: q, N: n, Sum: s})
	}
}

func (f *fixture) csat(unit int64, w, n, top int) {
	f.customer = append(f.customer, CustomerCell{Period: week0.AddDate(0, 0, 7*w), UnitID: unit,
		CustomerTotals: tandem.CustomerTotals{N: n, Top: top, Sum: float64(4*top + 2*(n-top))}})
}

func (f *fixture) input(p CorrelationParams) CorrelationInput {
	return CorrelationInput{Tree: tandem.NewTree(f.units), Params: p, Rounds: f.rounds, Respondents: f.resp,
		ScoreRows: f.scores, Questions: f.qs, Customer: f.customer}
}

func weekParams(weeks int) CorrelationParams {
	return CorrelationParams{Measure: pulse.MeasureIndex, Customer: tandem.MetricCSAT, Period: tandem.Week,
		From: week0, To: week0.AddDate(0, 0, 7*weeks-1), MinRatings: DefaultMinRatings}
}

// referenceFixture: five teams of five people, four weekly rounds. Each
// team's index item sum (5 answers), driver item sums and CSAT top-box
// count (of 10 ratings) per week; week 4 has CSAT only, for lag 1.
func referenceFixture() *fixture {
	eng := [][]float64{{20, 18, 21, 19}, {12, 14, 11, 15}, {16, 16, 18, 17}, {22, 23, 20, 24}, {9, 13, 10, 12}}
	top := [][]int{{8, 7, 9, 8, 8}, {5, 6, 4, 7, 6}, {7, 6, 8, 6, 7}, {9, 9, 8, 10, 9}, {4, 6, 5, 5, 5}}
	growth := [][]float64{{17, 18, 16, 19}, {13, 12, 14, 12}, {15, 17, 15, 16}, {20, 19, 21, 20}, {11, 10, 12, 13}}
	manager := [][]float64{{14, 15, 13, 16}, {16, 15, 17, 14}, {12, 14, 13, 15}, {15, 16, 14, 13}, {17, 15, 16, 14}}
	f := newFixture()
	f.unit(1, 0, "Co")
	for w := 0; w < 4; w++ {
		f.round(int64(101+w), w)
	}
	for t := 0; t < 5; t++ {
		id := int64(11 + t)
		f.unit(id, 1, "Team "+string(rune('1'+t)))
		for w := 0; w < 4; w++ {
			f.answers(int64(101+w), id, 5, map[int64]float64{1: eng[t][w], 2: growth[t][w], 3: manager[t][w]})
		}
		for w := 0; w < 5; w++ {
			f.csat(id, w, 10, top[t][w])
		}
	}
	return f
}

// The pair values (x = engagement index (sum/5−1)/4·100, y = CSAT 10·top)
// and every expected figure below were computed from the fixture's numbers
// in SciPy and R:
//
//	x = [75,65,80,70, 35,45,30,50, 55,55,65,60, 85,90,75,95, 20,40,25,35]
//	y = [80,70,90,80, 50,60,40,70, 70,60,80,60, 90,90,80,100, 40,60,50,50]
//	r = scipy.stats.pearsonr(x, y); r.confidence_interval(0.95)
//	scipy.stats.spearmanr(x, y); scipy.stats.linregress(x, y)
//	-> 0.961691507231465 1.4683260694704803e-11 0.9037991565015752 0.9850191773207619
//	   0.9638408389521413 8.801272579405018e-12; 24.799999999999997 0.76
//	lag 1 (y of the following week):
//	-> 0.7343080921677867 0.00022745664374399248 0.43224329549311724 0.8882085376564615
//	growth vs CSAT; manager vs CSAT (then pearsonr(driver, x).statistic):
//	-> 0.7457913738092147 0.00016007002491073052 0.4526617143242694 0.8934488546853971 r_eng 0.8572795516429118
//	-> -0.5408559504313191 0.01380140336537669 -0.7934680830105045 -0.12927611291406385 r_eng -0.46347236145670445
//
//	# R: rmcorr as the ANCOVA fit, interval by psych::r.con(r, df + 2)
//	team <- factor(rep(1:5, each = 4)); m <- lm(y ~ team + x); a <- anova(m)
//	ssx <- a["x", "Sum Sq"]; ssr <- a["Residuals", "Sum Sq"]
//	r <- sign(coef(m)["x"]) * sqrt(ssx / (ssx + ssr)); c(r, m$df.residual, a["x", "Pr(>F)"])
//	-> 0.88159540650578749 14 6.3624413177539890e-06
//	psych::r.con(r, m$df.residual + 2, p = 0.95)  -> 0.68543159460802905 0.95844792913026566
//	p.adjust(c(0.00016007002491073052, 0.01380140336537669), method = "BH")
//	-> 0.00032014004982146104 0.01380140336537668926
func TestCorrelationMatchesSciPyAndR(t *testing.T) {
	f := referenceFixture()
	c, err := BuildCorrelation(f.input(weekParams(4)))
	if err != nil {
		t.Fatal(err)
	}
	if c.NPairs != 20 || c.NTeams != 5 || c.NPeriods != 4 {
		t.Fatalf("n_pairs %d, n_teams %d, n_periods %d; want 20, 5, 4", c.NPairs, c.NTeams, c.NPeriods)
	}
	assertNear(t, "pearson r", c.Pearson.R, 0.961691507231465)
	assertNear(t, "pearson p", c.Pearson.P, 1.4683260694704803e-11)
	assertNear(t, "pearson ci low", c.Pearson.CILow, 0.9037991565015752)
	assertNear(t, "pearson ci high", c.Pearson.CIHigh, 0.9850191773207619)
	assertNear(t, "spearman rho", c.Spearman.R, 0.9638408389521413)
	assertNear(t, "spearman p", c.Spearman.P, 8.801272579405018e-12)
	assertNear(t, "rmcorr r", c.RMCorr.R, 0.88159540650578749)
	assertNear(t, "rmcorr p", c.RMCorr.P, 6.3624413177539890e-06)
	assertNear(t, "rmcorr ci low", c.RMCorr.CILow, 0.68543159460802905)
	assertNear(t, "rmcorr ci high", c.RMCorr.CIHigh, 0.95844792913026566)
	if c.RMCorr.DF != 14 || c.RMCorr.Teams != 5 {
		t.Errorf("rmcorr df %d, teams %d; want 14, 5", c.RMCorr.DF, c.RMCorr.Teams)
	}
	if c.Fit == nil {
		t.Fatal("no fit line")
	}
	assertNear(t, "fit intercept", c.Fit.Intercept, 24.799999999999997)
	assertNear(t, "fit slope", c.Fit.Slope, 0.76)
	if len(c.Lags) != MaxLag+1 {
		t.Fatalf("%d lags, want %d", len(c.Lags), MaxLag+1)
	}
	assertNear(t, "lag 0 r", c.Lags[0].R, 0.961691507231465)
	assertNear(t, "lag 1 r", c.Lags[1].R, 0.7343080921677867)
	assertNear(t, "lag 1 p", c.Lags[1].P, 0.00022745664374399248)
	assertNear(t, "lag 1 ci low", c.Lags[1].CILow, 0.43224329549311724)
	assertNear(t, "lag 1 ci high", c.Lags[1].CIHigh, 0.8882085376564615)
	if c.Lags[1].N != 20 || c.Lags[2].N != 15 || c.Lags[5].N != 0 {
		t.Errorf("lag 1, 2, 5: n %d, %d, %d; want 20, 15, 0 (CSAT ends one week after the last round)", c.Lags[1].N, c.Lags[2].N, c.Lags[5].N)
	}
	if len(c.Drivers) != 2 || c.Drivers[0].Driver != "growth" || c.Drivers[1].Driver != "manager" {
		t.Fatalf("drivers %+v, want growth then manager (ranked by |r|)", c.Drivers)
	}
	g, m := c.Drivers[0], c.Drivers[1]
	assertNear(t, "growth r", g.R, 0.7457913738092147)
	assertNear(t, "growth p", g.P, 0.00016007002491073052)
	assertNear(t, "growth ci low", g.CILow, 0.4526617143242694)
	assertNear(t, "growth ci high", g.CIHigh, 0.8934488546853971)
	assertNear(t, "growth q", g.Q, 0.00032014004982146104)
	assertNear(t, "growth r_engagement", g.REngagement, 0.8572795516429118)
	assertNear(t, "manager r", m.R, -0.5408559504313191)
	assertNear(t, "manager q", m.Q, 0.01380140336537668926)
	assertNear(t, "manager r_engagement", m.REngagement, -0.46347236145670445)
	if c.DriverComparisons != 2 {
		t.Errorf("driver comparisons %d, want 2", c.DriverComparisons)
	}
	want := "Across 5 teams over 4 weeks, teams with higher engagement had higher CSAT: r = 0.96, 95 % CI 0.90 to 0.99. This is a correlation, not proof of cause."
	if !strings.HasPrefix(c.Summary, want) {
		t.Errorf("summary\n%s\nwant it to start with\n%s", c.Summary, want)
	}
	if !strings.Contains(c.Summary, "Within teams") || !strings.Contains(c.Summary, "moved together with it: r_rm = 0.88") {
		t.Errorf("summary lacks the within-team sentence: %s", c.Summary)
	}
	if strings.Contains(strings.ToLower(c.Summary), "cause") && !strings.Contains(c.Summary, "not proof of cause") {
		t.Errorf("summary speaks of causes: %s", c.Summary)
	}
	joined := strings.Join(c.Warnings, "\n")
	if !strings.Contains(joined, "fewer than 10") || !strings.Contains(joined, "not independent") || strings.Contains(joined, "includes 0") {
		t.Errorf("warnings: %q; want the few-teams and independence warnings, not the CI one", c.Warnings)
	}
	p0 := c.Pairs()[0]
	if p0.Team != "Co / Team 1" || p0.Period != "2025-01-06" || float64(p0.Engagement) != 75 || float64(p0.Customer) != 80 || p0.Ratings != 10 || p0.Respondents != 5 {
		t.Errorf("first pair %+v", p0)
	}
}

func TestSummarySaysLowerForANegativeLinkAndLaterForALag(t *testing.T) {
	f := referenceFixture()
	p := weekParams(4)
	p.Measure, p.Lag = "driver:manager", 1
	c, err := BuildCorrelation(f.input(p))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Summary, "teams with higher manager support scores had lower CSAT 1 week later: r = -") {
		t.Errorf("summary: %s", c.Summary)
	}
}

func TestJSONWritesUndefinedNumbersAsNull(t *testing.T) {
	f := newFixture()
	f.unit(1, 0, "Co")
	c, err := BuildCorrelation(f.input(weekParams(4)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"pearson":{"r":null,"ci_low":null,"ci_high":null,"p":null,"n":0}`, `"fit":null`,
		`"params":{"measure":"index","customer":"csat","period":"week","from":"2025-01-06","to":"2025-02-02"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, `"pairs"`) {
		t.Errorf("the report's JSON carries the pairs:\n%s", s)
	}
	if len(c.Warnings) == 0 || !strings.HasPrefix(c.Warnings[0], "No data to correlate.") || !strings.Contains(c.Summary, "not enough data") {
		t.Errorf("no-data summary %q, warnings %q", c.Summary, c.Warnings)
	}
	var back Correlation
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back.Pearson.R)) {
		t.Errorf("round trip: %v, r %v", err, back.Pearson.R)
	}
}

// privacyFixture: Co → Ops → {Alpha 6, Bravo 5, Tiny 2}; Co → Care →
// {C1, C2, C3 6 each, C4 6 in week 0 and 3 in week 1}; Co → Hub (6 direct)
// → Sub (5). With k = 5:
//   - Tiny is hidden (2 < 5) in both rounds.
//   - Bravo is hidden by complementary suppression in both rounds: Ops
//     minus Alpha and Bravo would leave Tiny's 2.
//   - in week 1 C4 (3) is hidden, and so is C1 (the smallest shown
//     sibling, lowest id), or Care minus C2 and C3 would be C1 + C4 …
//     leaving Care's remainder at 3.
//   - Hub is shown, but its direct people are only part of it (Sub
//     answered too): its direct-only value is not the shown aggregate.
func privacyFixture() *fixture {
	f := newFixture()
	f.unit(1, 0, "Co")
	f.unit(2, 1, "Ops")
	f.unit(3, 1, "Care")
	f.unit(4, 1, "Hub")
	f.unit(21, 2, "Alpha")
	f.unit(22, 2, "Bravo")
	f.unit(23, 2, "Tiny")
	f.unit(31, 3, "C1")
	f.unit(32, 3, "C2")
	f.unit(33, 3, "C3")
	f.unit(34, 3, "C4")
	f.unit(41, 4, "Sub")
	sizes := map[int64][2]int{21: {6, 6}, 22: {5, 5}, 23: {2, 2}, 31: {6, 6}, 32: {6, 6}, 33: {6, 6}, 34: {6, 3}, 4: {6, 6}, 41: {5, 5}}
	for w := 0; w < 2; w++ {
		f.round(int64(101+w), w)
		for u, n := range sizes {
			v := float64(n[w]) * (3 + float64(u%7)/4)
			f.answers(int64(101+w), u, n[w], map[int64]float64{1: v, 2: v, 4: float64(n[w]) * 8})
			f.csat(u, w, 20, 10+int(u%9))
		}
	}
	return f
}

func TestReportNeverShowsAUnitTheRoundHides(t *testing.T) {
	f := privacyFixture()
	c, err := BuildCorrelation(f.input(weekParams(2)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range c.Pairs() {
		got[p.Team+" "+p.Period] = true
	}
	want := []string{
		"Co / Ops / Alpha 2025-01-06", "Co / Ops / Alpha 2025-01-13",
		"Co / Care / C1 2025-01-06", "Co / Care / C2 2025-01-06", "Co / Care / C2 2025-01-13",
		"Co / Care / C3 2025-01-06", "Co / Care / C3 2025-01-13", "Co / Care / C4 2025-01-06",
		"Co / Hub / Sub 2025-01-06", "Co / Hub / Sub 2025-01-13",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("pair %q missing", w)
		}
	}
	if len(c.Pairs()) != len(want) {
		t.Errorf("%d pairs, want %d: %v", len(c.Pairs()), len(want), got)
	}
	for _, measure := range []string{pulse.MeasureIndex, pulse.MeasureENPS, "driver:growth"} {
		p := weekParams(2)
		p.Measure = measure
		c, err := BuildCorrelation(f.input(p))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		b, _ := json.Marshal(c)
		out.Write(b)
		if err := WriteCorrelationCSV(&out, c); err != nil {
			t.Fatal(err)
		}
		for _, hidden := range []string{"Bravo", "Tiny"} {
			if strings.Contains(out.String(), hidden) {
				t.Errorf("%s: the output names %s, hidden in every round", measure, hidden)
			}
		}
		for _, p := range c.Pairs() {
			if p.TeamID == 22 || p.TeamID == 23 || p.TeamID == 4 || (p.Period == "2025-01-13" && (p.TeamID == 31 || p.TeamID == 34)) {
				t.Errorf("%s: pair of a unit hidden in that round: %+v", measure, p)
			}
		}
	}
}

func TestUnitScopeKeepsOnlyItsSubtree(t *testing.T) {
	f := privacyFixture()
	p := weekParams(2)
	p.UnitID = 3 // Care
	c, err := BuildCorrelation(f.input(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range c.Pairs() {
		if !strings.HasPrefix(pr.Team, "Co / Care / ") {
			t.Errorf("pair outside the scope: %+v", pr)
		}
	}
	if c.NPairs != 6 {
		t.Errorf("%d pairs in Care, want 6", c.NPairs)
	}
}

func TestTwoRoundsInOneWeekAreWeightedByRespondents(t *testing.T) {
	f := newFixture()
	f.unit(1, 0, "Co")
	f.unit(2, 1, "A")
	f.unit(3, 1, "B")
	f.round(101, 0)
	f.round(102, 0)
	f.rounds[1].Period = "2025-01-08" // Wednesday of the same week
	// A: 5 people at index 100 (all 5s), then 10 people at 0 (all 1s):
	// (5·100 + 10·0) / 15.
	f.answers(101, 2, 5, map[int64]float64{1: 25})
	f.answers(102, 2, 10, map[int64]float64{1: 10})
	f.answers(101, 3, 5, map[int64]float64{1: 15})
	f.csat(2, 0, 10, 5)
	f.csat(3, 0, 10, 5)
	c, err := BuildCorrelation(f.input(weekParams(1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pairs()) != 2 {
		t.Fatalf("pairs %+v", c.Pairs())
	}
	a := c.Pairs()[0]
	if math.Abs(float64(a.Engagement)-100.0/3) > 1e-12 || a.Respondents != 15 {
		t.Errorf("A's week: engagement %v from %d respondents, want 33.33 from 15", a.Engagement, a.Respondents)
	}
}

func TestMonthPeriodPoolsTheMonthsRounds(t *testing.T) {
	f := referenceFixture()
	p := weekParams(4)
	p.Period = tandem.Month
	// CSAT totals are per month then; give each team January's sum.
	f.customer = nil
	for u := int64(11); u <= 15; u++ {
		f.customer = append(f.customer, CustomerCell{Period: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), UnitID: u,
			CustomerTotals: tandem.CustomerTotals{N: 40, Top: 20 + int(u)}})
	}
	c, err := BuildCorrelation(f.input(p))
	if err != nil {
		t.Fatal(err)
	}
	if c.NPairs != 5 || c.NPeriods != 1 || c.Pairs()[0].Period != "2025-01-01" || c.Pairs()[0].Respondents != 20 {
		t.Fatalf("month pairs: %+v", c.Pairs())
	}
	// Team 1's January: the mean of its four weeks (equal respondents).
	if got, want := float64(c.Pairs()[0].Engagement), (75.0+65+80+70)/4; math.Abs(got-want) > 1e-9 {
		t.Errorf("Team 1 January engagement %v, want %v", got, want)
	}
	if !strings.Contains(c.Summary, "over 1 month") {
		t.Errorf("summary: %s", c.Summary)
	}
}

func TestMinRatingsDropsThinCustomerPeriods(t *testing.T) {
	f := referenceFixture()
	p := weekParams(4)
	p.MinRatings = 11 // every week has 10 ratings
	c, err := BuildCorrelation(f.input(p))
	if err != nil {
		t.Fatal(err)
	}
	if c.NPairs != 0 {
		t.Errorf("%d pairs with min_ratings 11, want 0", c.NPairs)
	}
}

// Customer satisfaction three weeks after a team's engagement follows it
// (customer(t+3) = 20 + 0.5·engagement(t) + noise); engagement itself is
// independent from week to week, so only lag 3 links the two.
func TestLagChartPeaksAtThePlantedLag(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	f := newFixture()
	f.unit(1, 0, "Co")
	const teams, weeks, lag = 12, 30, 3
	for w := 0; w < weeks; w++ {
		f.round(int64(1000+w), w)
	}
	for t := 0; t < teams; t++ {
		u := int64(10 + t)
		f.unit(u, 1, "T"+string(rune('A'+t)))
		eng := make([]float64, weeks)
		for w := 0; w < weeks; w++ {
			// 10 respondents, item sums 15…45: index 25…87.5.
			sum := float64(15 + rng.IntN(31))
			eng[w] = (sum/10 - 1) / 4 * 100
			f.answers(int64(1000+w), u, 10, map[int64]float64{1: sum})
		}
		for w := 0; w < weeks+lag; w++ {
			v := 35 + 20*rng.Float64()
			if w >= lag {
				v = 20 + 0.5*eng[w-lag] + rng.NormFloat64()*3
			}
			f.customer = append(f.customer, CustomerCell{Period: week0.AddDate(0, 0, 7*w), UnitID: u,
				CustomerTotals: tandem.CustomerTotals{N: 1000, Top: int(math.Round(v * 10))}})
		}
	}
	c, err := BuildCorrelation(f.input(weekParams(weeks)))
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for _, l := range c.Lags {
		if float64(l.R) > float64(c.Lags[best].R) {
			best = l.Lag
		}
	}
	if best != lag {
		t.Fatalf("lag chart peaks at %d, want %d: %+v", best, lag, c.Lags)
	}
	if r := float64(c.Lags[lag].R); r < 0.8 {
		t.Errorf("r at lag %d is %.2f, want a strong link", lag, r)
	}
	for _, l := range c.Lags {
		if l.Lag != lag && math.Abs(float64(l.R)) > 0.25 {
			t.Errorf("r at lag %d is %.2f, want near 0", l.Lag, float64(l.R))
		}
	}
}

func TestParamsAreCheckedWithMessagesThatSayWhatIsAllowed(t *testing.T) {
	today := time.Date(2025, 6, 18, 15, 0, 0, 0, time.UTC) // a Wednesday
	p, err := ParseCorrelationParams(func(string) string { return "" }, today)
	if err != nil {
		t.Fatal(err)
	}
	if p.Measure != "index" || p.Customer != "csat" || p.Period != "week" || p.Lag != 0 || p.MinRatings != 5 ||
		tandem.FormatDate(p.From) != "2024-12-23" || tandem.FormatDate(p.To) != "2025-06-18" {
		t.Errorf("defaults: %+v", p)
	}
	p, _ = ParseCorrelationParams(func(n string) string { return map[string]string{"period": "month"}[n] }, today)
	if tandem.FormatDate(p.From) != "2024-07-01" {
		t.Errorf("month default from %s, want 2024-07-01 (12 months)", tandem.FormatDate(p.From))
	}
	for _, tc := range []struct {
		name, value, want string
	}{
		{"measure", "happiness", `measure must be index, enps or driver:<key>; got "happiness"`},
		{"measure", "driver:snacks", `"snacks" is not a driver`},
		{"customer", "ces7", `customer must be csat, nps or ces; got "ces7"`},
		{"period", "day", `period must be week or month; got "day"`},
		{"lag", "7", `lag must be a whole number of periods from -6 to 6 (negative: customers before engagement); got "7"`},
		{"lag", "x", `lag must be a whole number`},
		{"lag", "-7", `lag must be a whole number of periods from -6 to 6`},
		{"min_ratings", "0", `min_ratings must be a whole number of at least 1; got "0"`},
		{"program", "-3", `program must be a program id`},
		{"from", "01/02/2025", `from must be a date written YYYY-MM-DD; got "01/02/2025"`},
		{"to", "2025-02-30", `to must be a date written YYYY-MM-DD`},
		{"from", "2025-07-01", `from (2025-07-01) must not be after to (2025-06-18)`},
		{"from", "2001-01-01", `longer than 10 years`},
	} {
		_, err := ParseCorrelationParams(func(n string) string {
			if n == tc.name {
				return tc.value
			}
			return ""
		}, today)
		var te *tandem.Error
		if !errors.As(err, &te) || te.Code != tandem.EINVALID || !strings.Contains(te.Message, tc.want) || te.Field != tc.name {
			t.Errorf("%s=%q: error %v, want invalid %s: %s", tc.name, tc.value, err, tc.name, tc.want)
		}
	}
}

func TestResolveUnitByIDOrPathWithinScope(t *testing.T) {
	tree := tandem.NewTree(privacyFixture().units)
	for _, tc := range []struct {
		ref   string
		scope int64
		want  int64
		ok    bool
	}{
		{"", 0, 0, true}, {"", 3, 3, true}, {"31", 3, 31, true}, {"Co/Care/C2", 0, 32, true}, {"Co / Care / C2", 3, 32, true},
		{"21", 3, 0, false}, {"Co/Ops", 3, 0, false}, {"999", 0, 0, false}, {"Co/Nope", 0, 0, false},
	} {
		got, err := ResolveUnit(tree, tc.ref, tc.scope)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ResolveUnit(%q, %d) = %d, %v; want %d", tc.ref, tc.scope, got, err, tc.want)
		}
		if !tc.ok && tandem.ErrorCode(err) != tandem.ENOTFOUND {
			t.Errorf("ResolveUnit(%q, %d): %v, want not found", tc.ref, tc.scope, err)
		}
	}
}

// openStore opens a fresh SQLite store in a temporary directory.
func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "tandem.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// benchData fills a new store with teams teams under ten divisions, one
// weekly program with weeks rounds (the default program's question
// rotation), 12–18 respondents per team and round with their per-question
// totals, and weekly and monthly CSAT totals for every team. Rows are
// written straight into the tables in one transaction, as many answers
// would have left them: the report reads totals, not answers.
func benchData(tb testing.TB, teams, weeks int) (*store.Store, time.Time) {
	tb.Helper()
	ctx := context.Background()
	st := openStore(tb)
	// Five people a team: a round needs an audience, and storage groups of
	// at least k (5) keep each team its own group.
	var csv strings.Builder
	csv.WriteString("email,name,team\n")
	for i := 0; i < teams; i++ {
		for j := 0; j < 5; j++ {
			fmt.Fprintf(&csv, "t%dp%d@example.com,Person %d.%d,Acme Group/Division %d/Team %d\n", i+1, j+1, i+1, j+1, i%10+1, i+1)
		}
	}
	plan, err := st.PlanRoster(ctx, strings.NewReader(csv.String()), roster.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.ApplyRoster(ctx, plan, tandem.Today(testNow).AddDate(-3, 0, 0)); err != nil {
		tb.Fatal(err)
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	root := tree.Roots()[0]
	var teamIDs []int64
	for i := 0; i < teams; i++ {
		teamIDs = append(teamIDs, tree.ByPath([]string{"Acme Group", fmt.Sprintf("Division %d", i%10+1), fmt.Sprintf("Team %d", i+1)}).ID)
	}
	p := pulse.Defaults()
	p.AudienceUnitID = root
	if err := st.SaveProgram(ctx, &p); err != nil {
		tb.Fatal(err)
	}
	last := tandem.PeriodStart(tandem.Week, testNow)
	first := last.AddDate(0, 0, -7*(weeks-1))
	type roundQs struct {
		id int64
		qs []pulse.Question
	}
	var rounds []roundQs
	for w := 0; w < weeks; w++ {
		slot := first.AddDate(0, 0, 7*w).Add(9 * time.Hour)
		r, _, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			tb.Fatal(err)
		}
		qs, _ := st.RoundQuestions(ctx, r.ID)
		rounds = append(rounds, roundQs{r.ID, qs})
	}

	db, err := sql.Open("sqlite3", "file:"+st.Path()+"?_busy_timeout=5000&_txlock=immediate&_foreign_keys=on")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	insResp, _ := tx.Prepare("INSERT INTO responses (id, round_id, unit_id) VALUES (?, ?, ?)")
	insScore, _ := tx.Prepare("INSERT INTO round_scores (round_id, unit_id, question_id, n, sum, promoters, detractors) VALUES (?, ?, ?, ?, ?, ?, ?)")
	insCSAT, _ := tx.Prepare("INSERT INTO csat_totals (kind, period, unit_id, metric, n, sum, top) VALUES (?, ?, ?, 'csat', ?, ?, ?) " +
		"ON CONFLICT (kind, period, unit_id, metric) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum, top = top + excluded.top")
	rng := rand.New(rand.NewPCG(7, 7))
	level := make([]float64, len(teamIDs))
	for i := range level {
		level[i] = rng.NormFloat64() * 0.4
	}
	respID := int64(1)
	for w, r := range rounds {
		for i, u := range teamIDs {
			level[i] = 0.9*level[i] + rng.NormFloat64()*0.1
			n := 12 + rng.IntN(7)
			for j := 0; j < n; j++ {
				if _, err := insResp.Exec(respID, r.id, u); err != nil {
					tb.Fatal(err)
				}
				respID++
			}
			for _, q := range r.qs {
				mean := 3.6 + level[i] + rng.NormFloat64()*0.15
				switch q.Kind {
				case pulse.Likert5:
					_, err = insScore.Exec(r.id, u, q.ID, n, float64(n)*math.Max(1, math.Min(5, mean)), 0, 0)
				case pulse.Scale010:
					prom := max(0, min(n, int(float64(n)*(0.35+level[i]/2))))
					det := max(0, min(n-prom, int(float64(n)*(0.25-level[i]/2))))
					_, err = insScore.Exec(r.id, u, q.ID, n, float64(n)*7.5, prom, det)
				default:
					continue
				}
				if err != nil {
					tb.Fatal(err)
				}
			}
			day := first.AddDate(0, 0, 7*w)
			ratings := 30 + rng.IntN(40)
			share := math.Max(0, math.Min(1, 0.75+0.3*level[i]+rng.NormFloat64()*0.05))
			top := int(share * float64(ratings))
			for _, kind := range []struct{ k, period string }{{"W", tandem.FormatDate(day)}, {"M", tandem.FormatDate(tandem.PeriodStart(tandem.Month, day))}} {
				if _, err := insCSAT.Exec(kind.k, kind.period, u, ratings, float64(4*top+3*(ratings-top)), top); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return st, last
}

// testNow is the clock of the tests that build a store's data (benchData
// and its callers): a fixed date, so that which rounds have closed, and
// where weeks and months begin, never depend on the day the tests run.
var testNow = tandemtest.Date

// BenchmarkCorrelationReport times the whole report — its queries and its
// statistics — on 500 teams with 104 weekly rounds and 104 weeks of CSAT
// totals, for the default range (26 weeks) and for all 104 weeks: "warm"
// with a server's loader that has served the report once (the report
// cached), "cold" reading everything each time.
func BenchmarkCorrelationReport(b *testing.B) {
	st, last := benchData(b, 500, 104)
	ctx := context.Background()
	// Results are released at close: close every round, this week's too.
	if _, err := st.CloseDueRounds(ctx, testNow.AddDate(0, 0, 14)); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		weeks int
		warm  bool
	}{{"warm/26weeks", 26, true}, {"warm/104weeks", 104, true}, {"cold/26weeks", 26, false}, {"cold/104weeks", 104, false}} {
		b.Run(tc.name, func(b *testing.B) {
			p, err := ParseCorrelationParams(func(n string) string {
				if n == "from" {
					return tandem.FormatDate(last.AddDate(0, 0, -7*(tc.weeks-1)))
				}
				return ""
			}, last.AddDate(0, 0, 6))
			if err != nil {
				b.Fatal(err)
			}
			loader := NewCorrelationLoader(st)
			c, err := loader.Load(ctx, p, 0)
			if err != nil {
				b.Fatal(err)
			}
			if c.NTeams != 500 || c.NPeriods != tc.weeks {
				b.Fatalf("%d teams over %d weeks, want 500 over %d", c.NTeams, c.NPeriods, tc.weeks)
			}
			b.ReportMetric(float64(c.NPairs), "pairs")
			// CPU time per report as well as wall time: on a shared machine
			// the wall time includes waiting for a core.
			cpu0 := cpuTime()
			for b.Loop() {
				if !tc.warm {
					loader = NewCorrelationLoader(st)
				}
				if _, err := loader.Load(ctx, p, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
