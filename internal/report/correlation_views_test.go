package report

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// On a balanced panel (every team in every period) the two-way within
// estimator equals the correlation of the doubly demeaned series,
// x̃ = x − x̄_team − x̄_period + x̄ (exact algebra: Baltagi, Econometric
// Analysis of Panel Data, §3.1; the same fit as lm(y ~ x + team + period)),
// with df = N − teams − periods. The reference fixture is balanced at lag 0
// (5 teams × 4 weeks); the expected values are computed here from that
// formula, not by the report's solver.
func TestWithinViewEqualsTheDoublyDemeanedCorrelationOnABalancedPanel(t *testing.T) {
	c, err := BuildCorrelation(referenceFixture().input(weekParams(4)))
	if err != nil {
		t.Fatal(err)
	}
	x := [][]float64{{75, 65, 80, 70}, {35, 45, 30, 50}, {55, 55, 65, 60}, {85, 90, 75, 95}, {20, 40, 25, 35}}
	y := [][]float64{{80, 70, 90, 80}, {50, 60, 40, 70}, {70, 60, 80, 60}, {90, 90, 80, 100}, {40, 60, 50, 50}}
	demean := func(v [][]float64) []float64 {
		var grand float64
		rows, cols := make([]float64, len(v)), make([]float64, len(v[0]))
		for i := range v {
			for j := range v[i] {
				rows[i] += v[i][j] / float64(len(v[0]))
				cols[j] += v[i][j] / float64(len(v))
				grand += v[i][j] / float64(len(v)*len(v[0]))
			}
		}
		var out []float64
		for i := range v {
			for j := range v[i] {
				out = append(out, v[i][j]-rows[i]-cols[j]+grand)
			}
		}
		return out
	}
	xt, yt := demean(x), demean(y)
	var sxy, sxx, syy float64
	for i := range xt {
		sxy += xt[i] * yt[i]
		sxx += xt[i] * xt[i]
		syy += yt[i] * yt[i]
	}
	w := c.Within
	if w.N != 20 || w.Teams != 5 || w.Periods != 4 || w.DF != 20-5-4 {
		t.Fatalf("within: n %d, teams %d, periods %d, df %d; want 20, 5, 4, 11", w.N, w.Teams, w.Periods, w.DF)
	}
	assertNear(t, "within r", w.R, sxy/math.Sqrt(sxx*syy))
	assertNear(t, "within slope", w.Slope, sxy/sxx)
	// Fisher's z with n = df + 2, as rmcorr's interval.
	z := math.Atanh(sxy / math.Sqrt(sxx*syy))
	assertNear(t, "within CI low", w.CILow, math.Tanh(z-1.959963984540054/math.Sqrt(float64(w.DF-1))))
	assertNear(t, "within CI high", w.CIHigh, math.Tanh(z+1.959963984540054/math.Sqrt(float64(w.DF-1))))

	// Between teams: one point per team, the team means of the pairs.
	// SciPy: pearsonr([72.5, 40, 58.75, 86.25, 30], [80, 55, 67.5, 90, 50])
	// -> statistic 0.9930695227906577 (computed from the fixture's means).
	if c.BetweenTeams.N != 5 {
		t.Errorf("between teams: n %d, want 5 teams", c.BetweenTeams.N)
	}
	mx := []float64{72.5, 40, 58.75, 86.25, 30}
	my := []float64{80, 55, 67.5, 90, 50}
	assertNear(t, "between-team r", c.BetweenTeams.R, pearsonByHand(mx, my))
}

// pearsonByHand is the textbook formula, independent of package stats.
func pearsonByHand(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(len(x))
		my += y[i] / float64(len(y))
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// noLinkFixture: teams teams over weeks weeks, engagement and CSAT drawn
// independently.
func noLinkFixture(teams, weeks int, seed uint64) *fixture {
	rng := rand.New(rand.NewPCG(seed, 1))
	f := newFixture()
	f.unit(1, 0, "Co")
	for w := 0; w < weeks; w++ {
		f.round(int64(1000+w), w)
	}
	for t := 0; t < teams; t++ {
		u := int64(10 + t)
		f.unit(u, 1, "T"+strconv.Itoa(t))
		for w := 0; w < weeks; w++ {
			f.answers(int64(1000+w), u, 10, map[int64]float64{1: float64(20 + rng.IntN(21))})
		}
		for w := -MaxLag; w < weeks+MaxLag; w++ {
			f.csat(u, w, 20, 8+rng.IntN(9))
		}
	}
	return f
}

// The headline names no statistic, claims no link the intervals do not
// support, and says what the data could have found: with 11 teams only r ≥
// 0.74 would be found 8 times in 10, and about 85 teams would find r = 0.3
// (R: pwr::pwr.r.test(n = 11, power = 0.8)$r = 0.7428;
// pwr::pwr.r.test(r = 0.3, power = 0.8)$n = 84.07, the example of pwr's
// documentation).
func TestHeadlineSaysWhatElevenTeamsCouldFindAndNamesNoStatistic(t *testing.T) {
	var c *Correlation
	var err error
	// A seed whose between-team interval includes zero (checked below).
	for seed := uint64(1); seed < 20; seed++ {
		c, err = BuildCorrelation(noLinkFixture(11, 20, seed).input(weekParams(20)))
		if err != nil {
			t.Fatal(err)
		}
		if !sameSide(c.BetweenTeams.CILow, c.BetweenTeams.CIHigh) && !c.Within.excludesZero() {
			break
		}
	}
	if sameSide(c.BetweenTeams.CILow, c.BetweenTeams.CIHigh) || c.Within.excludesZero() {
		t.Fatalf("no seed without a chance link: %+v %+v", c.BetweenTeams, c.Within)
	}
	h := c.Headline
	for _, want := range []string{
		"with 11 teams, only a link of r ≥ 0.74 would be found 8 times in 10; about 85 teams would find r = 0.3.",
		"Whether a team's CSAT moves with its own engagement the data cannot tell yet",
		"not what causes what",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("headline lacks %q:\n%s", want, h)
		}
	}
	for _, claim := range []string{"was higher too", "was lower too", "those with higher engagement had"} {
		if strings.Contains(h, claim) {
			t.Errorf("headline claims a link (%q) that the intervals do not support:\n%s", claim, h)
		}
	}
	assertNoStatisticNames(t, h)
	if c.Power.BetweenN != 11 || c.Power.TeamsNeeded != 85 || math.Abs(float64(c.Power.BetweenMinR)-0.7428) > 5e-5 {
		t.Errorf("power: %+v; want 11 teams, r 0.7428, 85 teams for r = 0.3", c.Power)
	}
	if c.Power.WithinN != c.Within.DF+2 {
		t.Errorf("within n %d, want df + 2 = %d", c.Power.WithinN, c.Within.DF+2)
	}
	var terms []string
	for _, d := range c.Details {
		terms = append(terms, d.Term)
	}
	for _, want := range []string{"r_rm (rmcorr)", "p, q, df", "Minimum detectable r", "Driver priority", "rwg(j)", "ICC(1), ICC(2)"} {
		if !strings.Contains(strings.Join(terms, "|"), want) {
			t.Errorf("details lack %q: %v", want, terms)
		}
	}
}

func assertNoStatisticNames(t *testing.T, h string) {
	t.Helper()
	for _, word := range strings.FieldsFunc(h, func(r rune) bool {
		return r == ' ' || r == ',' || r == ':' || r == ';' || r == '(' || r == ')' || r == '.'
	}) {
		switch strings.ToLower(word) {
		case "r_rm", "rmcorr", "df", "q", "p", "icc", "rwg", "bonferroni":
			t.Errorf("headline uses %q, a name for the details:\n%s", word, h)
		}
	}
}

// A strong within-team link planted in every team is claimed in words; a
// one-team report says teams cannot be compared.
func TestHeadlineClaimsAWithinTeamLinkWhenBothIntervalsExcludeZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	f := newFixture()
	f.unit(1, 0, "Co")
	const weeks = 20
	for w := 0; w < weeks; w++ {
		f.round(int64(1000+w), w)
	}
	for t := 0; t < 12; t++ {
		u := int64(10 + t)
		f.unit(u, 1, "T"+strconv.Itoa(t))
		for w := 0; w < weeks; w++ {
			sum := float64(20 + rng.IntN(21))
			f.answers(int64(1000+w), u, 10, map[int64]float64{1: sum})
			f.csat(u, w, 100, int(math.Round(10+sum*1.5+rng.NormFloat64()*2)))
		}
	}
	c, err := BuildCorrelation(f.input(weekParams(weeks)))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Within.excludesZero() || !(c.Within.R > 0.8) {
		t.Fatalf("within: %+v; want a strong link whose intervals exclude zero", c.Within)
	}
	if !strings.Contains(c.Headline, "When a team's engagement was above its own usual level, beyond what moved every team that week, its CSAT was higher too: a strong link.") {
		t.Errorf("headline:\n%s", c.Headline)
	}
	assertNoStatisticNames(t, c.Headline)

	one := f.input(weekParams(weeks))
	one.Params.UnitRef, one.Params.UnitID = "", 10
	c, err = BuildCorrelation(one)
	if err != nil {
		t.Fatal(err)
	}
	if c.NTeams != 1 || !strings.Contains(c.Headline, "With 1 team, teams cannot be compared with one another") || strings.Contains(c.Headline, "teams with higher") {
		t.Errorf("one team: headline:\n%s", c.Headline)
	}
}

// A driver's score is the respondent-weighted mean over the teams in the
// last week with it, its change the difference from the week before, and
// its priority max(0, CI low) × (100 − score)/100. Reference fixture,
// growth: week 4 item sums 19, 12, 16, 20, 13 of 5 people → 70, 35, 55, 75,
// 40 on 0–100, mean 55; week 3: 16, 14, 15, 21, 12 → mean 53; the CI low
// of its r with CSAT is SciPy's 0.4526617143242694 (see the reference
// fixture's comment).
func TestDriverScoreChangeAndPriority(t *testing.T) {
	c, err := BuildCorrelation(referenceFixture().input(weekParams(4)))
	if err != nil {
		t.Fatal(err)
	}
	var growth, manager *DriverLink
	for i := range c.Drivers {
		switch c.Drivers[i].Driver {
		case "growth":
			growth = &c.Drivers[i]
		case "manager":
			manager = &c.Drivers[i]
		}
	}
	if growth == nil || manager == nil {
		t.Fatalf("drivers: %+v", c.Drivers)
	}
	assertNear(t, "growth score", growth.Score, 55)
	assertNear(t, "growth change", growth.Change, 2)
	assertNear(t, "growth priority", growth.Priority, 0.4526617143242694*(100-55)/100)
	if growth.ScorePeriod != "2025-01-27" || growth.ChangeFrom != "2025-01-20" {
		t.Errorf("growth periods %s, %s; want 2025-01-27, 2025-01-20", growth.ScorePeriod, growth.ChangeFrom)
	}
	// manager's link is negative: priority 0, and no action sentence.
	assertNear(t, "manager priority", manager.Priority, 0)
	if len(c.DriverActions) != 1 || !strings.HasPrefix(c.DriverActions[0], "Growth scores 55 of 100 (week of 2025-01-27, up 2 since 2025-01-20)") {
		t.Errorf("driver actions: %q", c.DriverActions)
	}
}

// ICC and rwg through the report, against R: psych::ICC on 6 teams × 4
// respondents (ICC1 0.68949771689497719, ICC1k 0.89880952380952384;
// stats' TestICCMatchesPsychOnEqualTeams), and multilevel::rwg.j on the
// teams of stats/testdata/responses.csv with at least 2k = 6 complete
// respondents (t2 0.83684…, t4 0.81355…, t5 0.73295…, t7 0.86577…, t9
// 0.83877…: all "strong", median t2's). A unit the round hides (two
// people) and the root's own respondents, whose count includes its
// children's, never enter: the values stay R's.
func TestAgreementThroughTheReportMatchesPsychAndMultilevel(t *testing.T) {
	f := newFixture()
	f.unit(1, 0, "Co")
	f.round(500, 0)
	f.round(501, 1)
	var answers []pulse.IndexAnswers
	add := func(round, unit int64, values ...float64) {
		answers = append(answers, pulse.IndexAnswers{RoundID: round, UnitID: unit, Items: []int64{1, 2, 3}[:len(values)], Values: values})
		f.resp[round][unit]++
	}
	psych := [][]float64{{4, 5, 4, 4}, {2, 3, 2, 3}, {5, 5, 4, 5}, {3, 4, 2, 3}, {4, 4, 5, 3}, {1, 2, 2, 3}}
	for i, row := range psych {
		u := int64(10 + i)
		f.unit(u, 1, "P"+strconv.Itoa(i))
		for _, v := range row {
			add(500, u, v)
		}
	}
	f.unit(99, 1, "Two people")
	add(500, 99, 1)
	add(500, 99, 1)
	for range 3 {
		add(500, 1, 5)
	}
	byTeam := map[string]int64{}
	team, items := readReferenceResponses(t)
	for i, row := range items {
		if team[i] == "t6" { // two people: hidden at k = 3
			continue
		}
		u, ok := byTeam[team[i]]
		if !ok {
			u = int64(200 + len(byTeam))
			byTeam[team[i]] = u
			f.unit(u, 1, "R"+team[i])
		}
		add(501, u, row...)
	}
	for i := range f.rounds {
		f.rounds[i].MinGroup = 3
	}
	in := f.input(weekParams(2))
	in.Agreement = AgreementOf(answers)

	// Round 500 alone for the ICC.
	one := in
	one.Params.To = week0.AddDate(0, 0, 6)
	c, err := BuildCorrelation(one)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Agreement
	if a.ICCGroups != 6 || a.ICCResponses != 24 {
		t.Errorf("ICC over %d groups, %d responses; want the 6 shown teams' 24", a.ICCGroups, a.ICCResponses)
	}
	assertNear(t, "ICC1", a.ICC1, 0.68949771689497719)
	assertNear(t, "ICC2", a.ICC2, 0.89880952380952384)
	if a.RWGGroups != 0 {
		t.Errorf("rwg of %d team-rounds of 4 people; want none below 2k = 6", a.RWGGroups)
	}

	c, err = BuildCorrelation(in)
	if err != nil {
		t.Fatal(err)
	}
	a = c.Agreement
	if a.RWGGroups != 5 || a.Disagree != 0 || a.RWGBands["strong"] != 5 || len(a.RWGBands) != 5 {
		t.Errorf("rwg: %d groups, %d disagree, bands %v; want 5, 0, all strong", a.RWGGroups, a.Disagree, a.RWGBands)
	}
	assertNear(t, "median rwg", a.RWGMedian, 0.83684210526315783)
	b, _ := json.Marshal(c)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"within", "between_teams", "lag_scan", "power", "agreement", "driver_actions", "headline", "details"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var ag map[string]json.RawMessage
	json.Unmarshal(m["agreement"], &ag)
	for k := range ag {
		if strings.Contains(k, "team") && k != "icc_groups" {
			t.Errorf("agreement JSON has %q: the summary only, never a team's value", k)
		}
	}
}

// readReferenceResponses reads ../stats/testdata/responses.csv (team and
// three items; empty cells are skipped answers).
func readReferenceResponses(t *testing.T) (team []string, items [][]float64) {
	t.Helper()
	b, err := os.ReadFile("../stats/testdata/responses.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, line := range lines[1:] {
		rec := strings.Split(strings.TrimSpace(line), ",")
		row := make([]float64, 3)
		for j := range row {
			row[j] = math.NaN()
			if rec[j+1] != "" {
				if row[j], err = strconv.ParseFloat(rec[j+1], 64); err != nil {
					t.Fatal(err)
				}
			}
		}
		team, items = append(team, rec[0]), append(items, row)
	}
	return team, items
}

// A fortnightly program read by week is scanned by fortnight: step 2, and
// a planted lag of 2 fortnights is named as 4 weeks.
func TestLagScanReadsAFortnightlyProgramInItsOwnCadence(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	f := newFixture()
	f.unit(1, 0, "Co")
	const fortnights, teams = 40, 40
	for k := 0; k < fortnights; k++ {
		f.round(int64(1000+k), 2*k)
	}
	for t := 0; t < teams; t++ {
		u := int64(10 + t)
		f.unit(u, 1, "T"+strconv.Itoa(t))
		eng := make([]float64, fortnights)
		for k := range eng {
			sum := float64(20 + rng.IntN(21))
			eng[k] = sum
			f.answers(int64(1000+k), u, 10, map[int64]float64{1: sum})
		}
		for w := -MaxLag; w < 2*fortnights+MaxLag; w++ {
			top := 50 + rng.IntN(21)
			if w%2 == 0 && w >= 4 && (w-4)/2 < fortnights {
				top = int(math.Round(eng[(w-4)/2]*2 + rng.NormFloat64()*3))
			}
			f.csat(u, w, 100, top)
		}
	}
	c, err := BuildCorrelation(f.input(weekParams(2 * fortnights)))
	if err != nil {
		t.Fatal(err)
	}
	s := c.LagScan
	if s.Step != 2 || !s.Named || s.From != 4 || s.To != 4 {
		t.Fatalf("scan: step %d, named %v, %d to %d (%s); want step 2 and 4 weeks named", s.Step, s.Named, s.From, s.To, s.Reason)
	}
	for _, l := range s.Lags {
		if l.Periods != 2*l.Lag {
			t.Errorf("lag %d is %d weeks, want %d", l.Lag, l.Periods, 2*l.Lag)
		}
	}
	if !strings.Contains(s.Sentence, "CSAT moved with engagement about 4 weeks later.") || !strings.Contains(c.Headline, s.Sentence) {
		t.Errorf("sentence %q; headline:\n%s", s.Sentence, c.Headline)
	}
}

// Customers leading: engagement follows CSAT three weeks later. The report
// reads customer periods before the range, so the scan pairs the first
// weeks too and names lag −3, customers first, in words.
func TestLagScanNamesCustomersLeading(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	f := newFixture()
	f.unit(1, 0, "Co")
	const weeks, teams, lead = 30, 40, 3
	for w := 0; w < weeks; w++ {
		f.round(int64(1000+w), w)
	}
	for t := 0; t < teams; t++ {
		u := int64(10 + t)
		f.unit(u, 1, "T"+strconv.Itoa(t))
		cust := map[int]int{}
		for w := -MaxLag; w < weeks+MaxLag; w++ {
			cust[w] = 40 + rng.IntN(41)
			f.csat(u, w, 100, cust[w])
		}
		for w := 0; w < weeks; w++ {
			// index item sum of 10 people: 10…50; CSAT 40…80 → 15…45.
			sum := math.Round(float64(cust[w-lead])*0.75 - 15 + rng.NormFloat64()*2)
			f.answers(int64(1000+w), u, 10, map[int64]float64{1: sum})
		}
	}
	c, err := BuildCorrelation(f.input(weekParams(weeks)))
	if err != nil {
		t.Fatal(err)
	}
	s := c.LagScan
	// The filter needs the week before, so each team's first week drops
	// out; without the customer weeks before the range, the first three
	// would drop out too.
	if !s.Named || s.From != -lead || s.To != -lead || s.Lags[MaxLag-lead].N != teams*(weeks-1) {
		t.Fatalf("scan: named %v, %d to %d, n at −3: %d; want lag −3 from %d team-weeks", s.Named, s.From, s.To, s.Lags[MaxLag-lead].N, teams*(weeks-1))
	}
	if !strings.Contains(s.Sentence, "Engagement moved with CSAT about 3 weeks later: customers' ratings changed first.") {
		t.Errorf("sentence: %s", s.Sentence)
	}
}

// A negative lag pairs engagement with the customers of earlier periods
// (customers first): the reference fixture's CSAT starts in its first
// week, so lag −1 pairs weeks 2–4 with weeks 1–3, 15 pairs.
func TestNegativeLagPairsEngagementWithEarlierCustomers(t *testing.T) {
	p := weekParams(4)
	p.Lag = -1
	c, err := BuildCorrelation(referenceFixture().input(p))
	if err != nil {
		t.Fatal(err)
	}
	if c.NPairs != 15 {
		t.Fatalf("%d pairs, want 15", c.NPairs)
	}
	for _, pr := range c.Pairs() {
		if pr.CustomerPeriod >= pr.Period {
			t.Errorf("pair %+v: the customer period should be the week before", pr)
		}
	}
	if !strings.Contains(c.Summary, "CSAT 1 week earlier") || !strings.Contains(c.Headline, "CSAT 1 week earlier") {
		t.Errorf("summary %q, headline %q; want the lag said as 1 week earlier", c.Summary, c.Headline)
	}
	if len(c.Lags) != MaxLag+1 || c.Lags[0].N != 20 {
		t.Errorf("pooled lags 0…6: %d points, n at 0: %d; want 7 and 20", len(c.Lags), c.Lags[0].N)
	}
}
