package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/retention"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// RetentionInput is what BuildRetention needs.
type RetentionInput struct {
	Tree   *tandem.Tree
	Scope  int64 // the unit reported on (its subtree); 0 for every root
	Stints []retention.Stint
	// Period is "month" or "quarter"; From and To bound the turnover table.
	Period   string
	From, To time.Time
	// Today ends the trailing twelve months and the tenure picture.
	Today time.Time
	// K is the anonymity threshold for units shown on their own.
	K int
	// Pulse data for the engagement → turnover link (optional): rounds of
	// one program with their respondents and per-unit scores.
	Rounds      []pulse.Round
	Respondents map[int64]pulse.UnitCounts
	TeamScores  []pulse.TeamScoreRow

	// scores, when not nil, holds TeamScores in columns (the loader's
	// form; see roundScores).
	scores []roundScores
	// own holds the anonymity decisions of some rounds (the loader's
	// kept ones); the others are decided from Tree and Respondents.
	own map[int64]roundOwn
}

// TurnoverRow is one period (or the trailing twelve months) of a unit.
// Its JSON keys are lower_snake like every report's; From and To are the
// first and last day.
type TurnoverRow struct {
	Label          string `json:"label"`
	From           string `json:"from"`
	To             string `json:"to"`
	HeadcountStart int    `json:"headcount_start"`
	HeadcountEnd   int    `json:"headcount_end"`
	// Exits = Voluntary + Involuntary + Unknown (no exit type recorded);
	// Regretted is part of Voluntary.
	Exits            int `json:"exits"`
	Voluntary        int `json:"voluntary"`
	Regretted        int `json:"regretted"`
	Involuntary      int `json:"involuntary"`
	Unknown          int `json:"unknown_type"`
	AverageHeadcount Num `json:"average_headcount"`
	Rate             Num `json:"rate"`
	VoluntaryRate    Num `json:"voluntary_rate"`
	RegrettedRate    Num `json:"regretted_rate"`
	// Annualised rates scale the period's rates to a year.
	AnnualisedRate      Num `json:"annualised_rate"`
	AnnualisedVoluntary Num `json:"annualised_voluntary_rate"`
}

// UnitTurnover is a unit's trailing-twelve-months figures.
type UnitTurnover struct {
	Unit  *tandem.Unit `json:"-"`
	Name  string       `json:"unit"`
	Depth int          `json:"depth"`
	TTM   TurnoverRow  `json:"trailing_12_months"`
}

// SurvivalCurve is a Kaplan–Meier retention curve by tenure in months.
type SurvivalCurve struct {
	Unit   string                    `json:"unit"`
	Stints int                       `json:"stints"`
	Exits  int                       `json:"exits"`
	Points []retention.SurvivalPoint `json:"-"`
	JSON   []survivalJSON            `json:"points"`
}

type survivalJSON struct {
	Month    Num `json:"month"`
	AtRisk   int `json:"at_risk"`
	Exits    int `json:"exits"`
	Survival Num `json:"survival"`
	CILow    Num `json:"ci_low"`
	CIHigh   Num `json:"ci_high"`
}

// TurnoverLink relates team engagement (or intent to stay) in a month to
// the team's voluntary turnover in the following months.
type TurnoverLink struct {
	Measure string `json:"measure"`
	Horizon int    `json:"horizon_months"`
	// Pearson is the between-team correlation over team-month pairs.
	Pearson Coef `json:"pearson"`
	NTeams  int  `json:"n_teams"`
	// Quartiles compare voluntary exits per person-year in the pairs of
	// the top and the bottom engagement quartile.
	TopRate      Num `json:"top_quartile_rate"`
	BottomRate   Num `json:"bottom_quartile_rate"`
	RateRatio    Num `json:"rate_ratio_bottom_vs_top"`
	RateRatioLow Num `json:"rate_ratio_ci_low"`
	RateRatioHi  Num `json:"rate_ratio_ci_high"`
	TopExits     int `json:"top_quartile_exits"`
	BottomExits  int `json:"bottom_quartile_exits"`
}

// Retention is the retention report.
type Retention struct {
	Scope     string          `json:"scope"`
	K         int             `json:"k"`
	Headcount int             `json:"headcount"`
	Periods   []TurnoverRow   `json:"periods"`
	TTM       TurnoverRow     `json:"trailing_12_months"`
	Units     []UnitTurnover  `json:"units"`
	Hidden    int             `json:"units_hidden"`
	Tenure    []TenureBucket  `json:"tenure"`
	Survival  []SurvivalCurve `json:"survival"`
	Links     []TurnoverLink  `json:"engagement_and_turnover"`
	// Program is the pulse program whose engagement the links use.
	Program   string   `json:"program"`
	ProgramID int64    `json:"program_id"`
	Warnings  []string `json:"warnings"`
}

// TenureBucket is one bar of the tenure distribution.
type TenureBucket struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

func row(label string, t retention.Turnover) TurnoverRow {
	return TurnoverRow{Label: label, From: tandem.FormatDate(t.From), To: tandem.FormatDate(t.To.AddDate(0, 0, -1)),
		HeadcountStart: t.HeadcountStart, HeadcountEnd: t.HeadcountEnd, Exits: t.Exits, Voluntary: t.Voluntary,
		Regretted: t.Regretted, Involuntary: t.Involuntary, Unknown: t.Unknown,
		AverageHeadcount: Num(t.AverageHeadcount()), Rate: Num(t.Rate()), VoluntaryRate: Num(t.VoluntaryRate()),
		RegrettedRate: Num(t.RegrettedRate()), AnnualisedRate: Num(t.Annualised(t.Rate())), AnnualisedVoluntary: Num(t.Annualised(t.VoluntaryRate()))}
}

// BuildRetention computes the retention report. Units are shown on their
// own only when their headcount (people employed on Today, subtree) meets
// k under the same roll-up and complementary-suppression rules as pulse
// results; Kaplan–Meier curves only for groups of at least k stints.
func BuildRetention(in RetentionInput) *Retention {
	k := privacy.Threshold(in.K)
	today := tandem.Today(in.Today)
	// Subtree membership and ancestor chains, computed once: the report
	// asks them for every stint and every unit.
	chains := map[int64][]int64{}
	for _, u := range in.Tree.Walk() {
		chains[u.ID] = append([]int64{u.ID}, reverse(in.Tree.Ancestors(u.ID))...)
	}
	up := func(u int64) []int64 { return chains[u] }
	scopeUnits := func(root int64) func(int64) bool {
		if root == 0 {
			return func(int64) bool { return true }
		}
		set := map[int64]bool{}
		for _, id := range in.Tree.Subtree(root) {
			set[id] = true
		}
		return func(u int64) bool { return set[u] }
	}
	inScope := scopeUnits(in.Scope)
	// Lists are empty, never null, in JSON (as in the correlation report).
	out := &Retention{K: k, Scope: "the whole organisation", Periods: []TurnoverRow{}, Units: []UnitTurnover{},
		Tenure: []TenureBucket{}, Survival: []SurvivalCurve{}, Links: []TurnoverLink{}, Warnings: []string{}}
	if u := in.Tree.Unit(in.Scope); u != nil {
		out.Scope = u.Path
	}
	// Who is employed where today: the anonymity decision for units.
	direct := map[int64]int{}
	for i := range in.Stints {
		s := &in.Stints[i]
		if s.EmployedOn(today) {
			direct[s.UnitOn(today)]++
			if inScope(s.UnitOn(today)) {
				out.Headcount++
			}
		}
	}
	vis := privacy.Decide(in.Tree, direct, k)
	if out.Headcount < k {
		out.Warnings = append(out.Warnings, "Fewer people than the anonymity threshold work here, so no figures are shown.")
		return out
	}
	for _, p := range retention.Periods(in.Period, in.From, in.To) {
		if p[0].After(today) {
			break
		}
		label := p[0].Format("Jan 2006")
		if in.Period == "quarter" {
			label = p[0].Format("2006") + " Q" + string(rune('1'+(int(p[0].Month())-1)/3))
		}
		if end := today.AddDate(0, 0, 1); p[1].After(end) {
			p[1] = end // the current period, so far
			label += " (to date)"
		}
		t := retention.Compute(in.Stints, inScope, p[0], p[1])
		out.Periods = append(out.Periods, row(label, t))
	}
	ttm := retention.Periods("ttm", today, today)[0]
	out.TTM = row("Trailing 12 months", retention.Compute(in.Stints, inScope, ttm[0], ttm[1]))
	top := 0
	if u := in.Tree.Unit(in.Scope); u != nil {
		top = u.Depth
	}
	byUnit := retention.ComputeAll(in.Stints, up, ttm[0], ttm[1])
	for _, id := range vis.ShownUnits(in.Scope) {
		if id == in.Scope {
			continue
		}
		u := in.Tree.Unit(id)
		t := retention.Turnover{From: ttm[0], To: ttm[1]}
		if x := byUnit[id]; x != nil {
			t = *x
		}
		out.Units = append(out.Units, UnitTurnover{Unit: u, Name: u.Path, Depth: u.Depth - top, TTM: row("Trailing 12 months", t)})
	}
	for id, n := range direct {
		if n > 0 && !vis.Shown(id) && inScope(id) {
			out.Hidden++
		}
	}
	for i, n := range retention.TenureDistribution(in.Stints, inScope, today) {
		out.Tenure = append(out.Tenure, TenureBucket{Label: retention.TenureBuckets[i].Label, Count: n})
	}
	// Retention curves for the scope and each shown unit one level below
	// it, from one pass over the stints.
	type curveObs struct {
		name  string
		obs   []retention.Observation
		exits int
	}
	curves := []*curveObs{{name: out.Scope}}
	childCurve := map[int64]*curveObs{}
	for _, u := range out.Units {
		if u.Depth == 1 {
			c := &curveObs{name: u.Name}
			childCurve[u.Unit.ID] = c
			curves = append(curves, c)
		}
	}
	for i := range in.Stints {
		s := &in.Stints[i]
		if s.Hired.IsZero() || s.Hired.After(today) {
			continue
		}
		end, event := today, false
		if !s.Exited.IsZero() && !s.Exited.After(today) {
			end, event = s.Exited, true
		}
		unit := s.UnitOn(end.AddDate(0, 0, -1))
		if !inScope(unit) {
			continue
		}
		// Tenure in whole months: the curve steps once a month, as people
		// read tenure, and stays small however many people it covers.
		o := retention.Observation{Duration: math.Floor(float64(end.Sub(s.Hired).Hours()) / 24 / 30.4375), Event: event}
		add := func(c *curveObs) {
			c.obs = append(c.obs, o)
			if event {
				c.exits++
			}
		}
		add(curves[0])
		for _, a := range up(unit) {
			if c := childCurve[a]; c != nil {
				add(c)
				break
			}
		}
	}
	for _, c := range curves {
		if len(c.obs) < k {
			continue
		}
		sc := SurvivalCurve{Unit: c.name, Stints: len(c.obs), Exits: c.exits, Points: retention.KaplanMeier(c.obs), JSON: []survivalJSON{}}
		for _, p := range sc.Points {
			sc.JSON = append(sc.JSON, survivalJSON{Month: Num(p.Time), AtRisk: p.AtRisk, Exits: p.Events, Survival: Num(p.Survival), CILow: Num(p.CILow), CIHigh: Num(p.CIHigh)})
		}
		out.Survival = append(out.Survival, sc)
	}
	if len(in.Rounds) > 0 {
		lt := newLinkTables(in, today)
		for _, m := range []string{pulse.MeasureIndex, pulse.DriverMeasure(pulse.DriverIntent)} {
			for _, h := range []int{3, 6} {
				out.Links = append(out.Links, linkTurnover(in, lt, m, h, k, today))
			}
		}
	}
	return out
}

// linkTurnover pairs each team's score in a month (the respondent-weighted
// mean of its shown rounds that month) with its voluntary turnover over
// the next h months, for teams (units with people directly in them) whose
// headcount meets k.
func linkTurnover(in RetentionInput, lt *linkTables, measure string, h, k int, today time.Time) TurnoverLink {
	link := TurnoverLink{Measure: measure, Horizon: h}
	mi := -1
	for i, m := range pulse.TeamScoreMeasures() {
		if m == measure {
			mi = i
		}
	}
	sum, weight := lt.scores(in, mi)
	type pair struct {
		score       float64
		exits       int
		personYears float64
		rate        float64
		unit        int64
		month       time.Time
	}
	table := lt.table
	var pairs []pair
	teams := map[int64]bool{}
	// In team and month order, not the map's: the correlation's sums and
	// which of equal scores fall in a quartile must not change from run to
	// run.
	keys := slices.SortedFunc(maps.Keys(weight), func(a, b teamMonth) int {
		if c := cmp.Compare(a.unit, b.unit); c != 0 {
			return c
		}
		return a.month.Compare(b.month)
	})
	for _, kk := range keys {
		w := weight[kk]
		end := kk.month.AddDate(0, 1+h, 0)
		if end.After(today) {
			continue // the following months are not over yet
		}
		var exits int
		var py float64
		for m := kk.month.AddDate(0, 1, 0); m.Before(end); m = m.AddDate(0, 1, 0) {
			c := table.at(kk.unit, m)
			exits += c.voluntary
			py += float64(c.start+c.end) / 2 / 12
		}
		if py*12/float64(h) < float64(k) {
			continue
		}
		pairs = append(pairs, pair{score: sum[kk] / w, exits: exits, personYears: py, rate: float64(exits) / py, unit: kk.unit, month: kk.month})
		teams[kk.unit] = true
	}
	link.NTeams = len(teams)
	x, y := make([]float64, len(pairs)), make([]float64, len(pairs))
	for i, p := range pairs {
		x[i], y[i] = p.score, p.rate
	}
	link.Pearson = coefOf(stats.Pearson(x, y))
	link.TopRate, link.BottomRate, link.RateRatio, link.RateRatioLow, link.RateRatioHi = Num(math.NaN()), Num(math.NaN()), Num(math.NaN()), Num(math.NaN()), Num(math.NaN())
	if len(pairs) >= 8 {
		// By score; equal scores in team and month order (the order of
		// keys), so the quartiles are the same on every run.
		slices.SortStableFunc(pairs, func(a, b pair) int { return cmp.Compare(a.score, b.score) })
		q := len(pairs) / 4
		var be, te int
		var bpy, tpy float64
		for _, p := range pairs[:q] {
			be += p.exits
			bpy += p.personYears
		}
		for _, p := range pairs[len(pairs)-q:] {
			te += p.exits
			tpy += p.personYears
		}
		link.BottomExits, link.TopExits = be, te
		if bpy > 0 {
			link.BottomRate = Num(float64(be) / bpy)
		}
		if tpy > 0 {
			link.TopRate = Num(float64(te) / tpy)
		}
		rr, lo, hi := retention.RateRatio(be, bpy, te, tpy)
		link.RateRatio, link.RateRatioLow, link.RateRatioHi = Num(rr), Num(lo), Num(hi)
	}
	return link
}

// monthCounts are one unit's numbers in one month.
type monthCounts struct {
	start, end, voluntary int
}

type months struct {
	first time.Time
	n     int
	units map[int64][]monthCounts
}

// monthlyTable counts, per unit and calendar month from first to the month
// of last, people employed on the month's first and last day and voluntary
// exits (in the unit of the person's last day).
func monthlyTable(stints []retention.Stint, first, last time.Time) months {
	t := months{first: first, units: map[int64][]monthCounts{}}
	if first.IsZero() {
		return t
	}
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		t.n++
	}
	get := func(u int64) []monthCounts {
		c := t.units[u]
		if c == nil {
			c = make([]monthCounts, t.n)
			t.units[u] = c
		}
		return c
	}
	starts := make([]time.Time, t.n+1)
	for j := range starts {
		starts[j] = first.AddDate(0, j, 0)
	}
	for i := range stints {
		s := &stints[i]
		j0 := 0
		if !s.Hired.IsZero() && s.Hired.After(first) {
			j0 = (s.Hired.Year()-first.Year())*12 + int(s.Hired.Month()) - int(first.Month())
		}
		for j := j0; j < t.n; j++ {
			m, next := starts[j], starts[j+1]
			lastDay := next.AddDate(0, 0, -1)
			if !s.Hired.IsZero() && s.Hired.After(lastDay) {
				continue // not yet hired by the month's last day
			}
			if !s.Exited.IsZero() && s.Exited.Before(m) {
				break
			}
			if s.EmployedOn(m) {
				get(s.UnitOn(m))[j].start++
			}
			if s.EmployedOn(lastDay) {
				get(s.UnitOn(lastDay))[j].end++
			}
			if s.Voluntary && !s.Exited.IsZero() && !s.Exited.Before(m) && s.Exited.Before(next) {
				get(s.UnitOn(s.Exited.AddDate(0, 0, -1)))[j].voluntary++
			}
		}
	}
	return t
}

func (t months) at(unit int64, m time.Time) monthCounts {
	j := (m.Year()-t.first.Year())*12 + int(m.Month()) - int(t.first.Month())
	c := t.units[unit]
	if j < 0 || j >= len(c) {
		return monthCounts{}
	}
	return c[j]
}

// RetentionParams are what a person chooses in the retention report.
type RetentionParams struct {
	UnitRef   string
	Period    string // month | quarter
	From, To  time.Time
	ProgramID int64
}

// ParseRetentionParams reads and checks the report's parameters; a bad one
// is an error naming the field and what to write. Defaults: the last 12
// months by month.
func ParseRetentionParams(get func(string) string, today time.Time) (RetentionParams, error) {
	p := RetentionParams{UnitRef: get("unit"), Period: get("period")}
	switch p.Period {
	case "":
		p.Period = "month"
	case "month", "quarter":
	default:
		return p, tandem.FieldErrorf("period", "period must be month or quarter; got %q", p.Period)
	}
	today = tandem.Today(today)
	p.To = today
	p.From = time.Date(today.Year()-1, today.Month(), 1, 0, 0, 0, 0, time.UTC)
	if v := get("from"); v != "" {
		d, err := tandem.ParseDate(v)
		if err != nil {
			return p, tandem.FieldErrorf("from", "from: %s", tandem.ErrorMessage(err))
		}
		p.From = d
	}
	if v := get("to"); v != "" {
		d, err := tandem.ParseDate(v)
		if err != nil {
			return p, tandem.FieldErrorf("to", "to: %s", tandem.ErrorMessage(err))
		}
		p.To = d
	}
	if !p.From.Before(p.To) {
		return p, tandem.FieldErrorf("from", "from (%s) must be before to (%s)", tandem.FormatDate(p.From), tandem.FormatDate(p.To))
	}
	if p.To.Sub(p.From) > 10*366*24*time.Hour {
		return p, tandem.FieldErrorf("from", "a range of at most ten years, please")
	}
	if v := get("program"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return p, tandem.FieldErrorf("program", "program must be a program id; got %q", v)
		}
		p.ProgramID = id
	}
	return p, nil
}

// RetentionSource is what LoadRetention reads; the store implements it.
type RetentionSource interface {
	Source
	Stints(ctx context.Context) ([]retention.Stint, error)
}

// LoadRetention reads the store and builds the retention report for scope
// (0: everything; a leader's unit otherwise).
func LoadRetention(ctx context.Context, src RetentionSource, p RetentionParams, scope int64, today time.Time) (*Retention, error) {
	return loadRetention(ctx, src, p, scope, today, func(ctx context.Context, _ *tandem.Tree, rounds []pulse.Round) ([]roundScores, map[int64]pulse.UnitCounts, map[int64]roundOwn, error) {
		ids := make([]int64, len(rounds))
		for i, r := range rounds {
			ids[i] = r.ID
		}
		resp, err := src.Respondents(ctx, ids)
		if err != nil {
			return nil, nil, nil, err
		}
		scores, err := src.TeamScores(ctx, ids)
		return scoreColumns(scores), resp, nil, err
	})
}

// LoadRetention is the package's LoadRetention reading closed rounds'
// scores from the loader's memory, as the correlation report does, and the
// stints too while the roster has not changed.
func (l *CorrelationLoader) LoadRetention(ctx context.Context, p RetentionParams, scope int64, today time.Time) (*Retention, error) {
	src, ok := l.src.(RetentionSource)
	if !ok {
		return nil, fmt.Errorf("the report source cannot read employment stints")
	}
	if v, ok := l.src.(rosterVersioner); ok {
		src = &cachedStints{RetentionSource: src, l: l, v: v}
	}
	inputs := func(ctx context.Context, tree *tandem.Tree, rounds []pulse.Round) ([]roundScores, map[int64]pulse.UnitCounts, map[int64]roundOwn, error) {
		return l.roundInputs(ctx, tree, tree.Hash(), rounds)
	}
	return loadRetention(ctx, src, p, scope, today, inputs)
}

type rosterVersioner interface {
	RosterVersion(ctx context.Context) (string, bool, error)
}

// cachedStints serves Stints from the loader while RosterVersion is
// unchanged. The stints are only read, never changed, by the reports.
type cachedStints struct {
	RetentionSource
	l *CorrelationLoader
	v rosterVersioner
}

func (c *cachedStints) Stints(ctx context.Context) ([]retention.Stint, error) {
	version, fresh, err := c.v.RosterVersion(ctx)
	if err != nil {
		return nil, err
	}
	c.l.mu.Lock()
	if c.l.stintsVersion == version && c.l.stints != nil {
		s := c.l.stints
		c.l.mu.Unlock()
		return s, nil
	}
	c.l.mu.Unlock()
	stints, err := c.RetentionSource.Stints(ctx)
	if err != nil || !fresh {
		return stints, err
	}
	c.l.mu.Lock()
	c.l.stints, c.l.stintsVersion = stints, version
	c.l.mu.Unlock()
	return stints, nil
}

func loadRetention(ctx context.Context, src RetentionSource, p RetentionParams, scope int64, today time.Time,
	inputs func(context.Context, *tandem.Tree, []pulse.Round) ([]roundScores, map[int64]pulse.UnitCounts, map[int64]roundOwn, error)) (*Retention, error) {
	tree, err := src.Tree(ctx)
	if err != nil {
		return nil, err
	}
	unit, err := ResolveUnit(tree, p.UnitRef, scope)
	if err != nil {
		return nil, err
	}
	stints, err := src.Stints(ctx)
	if err != nil {
		return nil, err
	}
	in := RetentionInput{Tree: tree, Scope: unit, Stints: stints, Period: p.Period, From: p.From, To: p.To, Today: today, K: privacy.DefaultK}
	// The pulse program for the engagement link: the one asked, else the
	// default (pulse.ChooseProgram).
	prog, err := chooseProgram(ctx, src, tree, scope, p.ProgramID)
	if err != nil {
		return nil, err
	}
	if prog != nil {
		in.K = prog.MinGroup
		// Engagement in the months that have six months after them.
		rounds, err := src.RoundsBetween(ctx, prog.ID, today.AddDate(-5, 0, 0), today)
		if err != nil {
			return nil, err
		}
		if in.scores, in.Respondents, in.own, err = inputs(ctx, tree, rounds); err != nil {
			return nil, err
		}
		in.Rounds = rounds
	}
	r := BuildRetention(in)
	r.Program = ""
	if prog != nil {
		r.Program, r.ProgramID = prog.Name, prog.ID
	}
	return r, nil
}

// linkTables are what every engagement-turnover link reads: each round's
// anonymity decision and month, and the monthly headcounts and exits per
// unit (one pass over the stints for all links).
type linkTables struct {
	own   map[int64]roundOwn // each round's anonymity decision (see ownOf)
	month map[int64]time.Time
	table months
	// byMeasure keeps each measure's team-month sums for the next link.
	byMeasure map[int]teamMonthSums
}

type teamMonth struct {
	unit  int64
	month time.Time
}

type teamMonthSums struct{ sum, weight map[teamMonth]float64 }

// scores returns, for measure index mi, each team-month's respondent-
// weighted sum of scores and its weight, over the rounds where the team
// was shown and no one below it answered (as in the correlation report:
// otherwise a handful of direct members would feed the statistics alone).
func (lt *linkTables) scores(in RetentionInput, mi int) (map[teamMonth]float64, map[teamMonth]float64) {
	if got, ok := lt.byMeasure[mi]; ok {
		return got.sum, got.weight
	}
	sum, weight := map[teamMonth]float64{}, map[teamMonth]float64{}
	scores := in.scores
	if scores == nil {
		scores = scoreColumns(in.TeamScores)
	}
	for _, rs := range scores {
		own, ok := lt.own[rs.round]
		j := rs.col(mi)
		if !ok || j < 0 {
			continue
		}
		for i, unit := range rs.units {
			val := rs.at(i, j)
			if math.IsNaN(val) {
				continue
			}
			n, ok := own.count(unit)
			if !ok || !in.Tree.InScope(in.Scope, unit) {
				continue
			}
			kk := teamMonth{unit, lt.month[rs.round]}
			sum[kk] += val * float64(n)
			weight[kk] += float64(n)
		}
	}
	if lt.byMeasure == nil {
		lt.byMeasure = map[int]teamMonthSums{}
	}
	lt.byMeasure[mi] = teamMonthSums{sum, weight}
	return sum, weight
}

func newLinkTables(in RetentionInput, today time.Time) *linkTables {
	lt := &linkTables{own: map[int64]roundOwn{}, month: map[int64]time.Time{}}
	var first time.Time
	for _, r := range in.Rounds {
		lt.own[r.ID] = decided(in.own, in.Tree, in.Respondents, r)
		d, _ := tandem.ParseDate(r.Period)
		m := tandem.PeriodStart(tandem.Month, d)
		lt.month[r.ID] = m
		if first.IsZero() || m.Before(first) {
			first = m
		}
	}
	lt.table = monthlyTable(in.Stints, first, today)
	return lt
}

func reverse(ids []int64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[len(ids)-1-i] = id
	}
	return out
}
