package report

import (
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The correlation report: does a team's engagement move with its customers'
// satisfaction? Definitions (the report page states them too):
//
// Unit of analysis: team × period. A team is any unit of the organisation;
// its value in a round comes from the people counted directly in it, and is
// used only when the round's anonymity decision — privacy.Decide on the
// whole tree with that round's respondents and threshold, the decision the
// results pages use — shows the unit, and nobody below the unit answered
// that round. The second condition makes the value equal to the aggregate
// the results pages already show for the unit, so that no report adds a
// number that could be subtracted from another (a parent's direct people
// alone, minus nothing, could expose a hidden child). Teams are usually the
// leaves of the tree, where both conditions reduce to "shown".
//
// Engagement measure (parameter measure), from one pulse program (parameter
// program; by default pulse.DefaultProgram): "index", the
// engagement index (the mean of the index items, each on 0–100); "enps",
// % promoters − % detractors; or "driver:<key>", the driver's score on
// 0–100. A round counts for the period that contains its date (the round's
// day in the program's zone): the ISO week (starting Monday) or the
// calendar month. When a team has several usable rounds in one period, its
// value is their mean weighted by each round's respondents.
//
// Customer measure (parameter customer), from the running totals of the
// ratings attributed to the team itself (not its descendants) in the same
// kind of period: "csat", the share of ratings in the top two boxes (4–5 of
// 5) in percent; "nps", % promoters − % detractors; "ces", the mean effort
// score (1–7). A team-period counts only with at least min_ratings ratings
// (default 5): a CSAT from two ratings is mostly noise.
//
// Pairs are (team, period t) with an engagement value at t and a customer
// value at t+L, L = lag periods later (−6…6, default 0; negative: customers
// before engagement). The date range (from, to) selects the engagement
// periods; the customer side may fall up to six periods before from or
// after to.
//
// Between teams: Pearson r and Spearman ρ (average ranks for ties) of the
// pooled pairs, two-sided p from Student's t with n−2 degrees of freedom,
// 95 % CI by Fisher's z, and the least-squares line of customer on
// engagement. Pooled pairs of one team are not independent, so that p and
// interval overstate the evidence. Within teams: the repeated-measures
// correlation (rmcorr, team as subject) asks whether a team's customers are
// happier when that team's engagement is above its own usual level. Lag
// chart: Pearson r with CI for L = 0…6. Drivers: each driver's team score
// against the customer measure at the chosen lag, and against the
// engagement index in the same period, with Benjamini–Hochberg q-values over
// the drivers tested against the customer measure.

// Num is a number in the report that may be undefined (NaN); JSON writes
// an undefined number as null.
type Num float64

// MarshalJSON writes NaN and ±Inf as null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Coef is a correlation coefficient with its 95 % interval, two-sided p and
// number of pairs.
type Coef struct {
	R      Num `json:"r"`
	CILow  Num `json:"ci_low"`
	CIHigh Num `json:"ci_high"`
	P      Num `json:"p"`
	N      int `json:"n"`
}

func coefOf(c stats.Correlation) Coef {
	return Coef{R: Num(c.R), CILow: Num(c.CILow), CIHigh: Num(c.CIHigh), P: Num(c.P), N: c.N}
}

// RMCoef is the within-team repeated-measures correlation.
type RMCoef struct {
	R      Num `json:"r"`
	CILow  Num `json:"ci_low"`
	CIHigh Num `json:"ci_high"`
	P      Num `json:"p"`
	DF     int `json:"df"`
	// Teams is the number of teams with at least two pairs (the others
	// carry no within-team information).
	Teams int `json:"teams"`
}

// Fit is the least-squares line customer = Intercept + Slope·engagement.
type Fit struct {
	Intercept Num `json:"intercept"`
	Slope     Num `json:"slope"`
}

// LagPoint is the pooled correlation at one lag.
type LagPoint struct {
	Lag int `json:"lag"`
	Coef
}

// DriverLink is one driver's link with the customer measure.
type DriverLink struct {
	Driver string `json:"driver"`
	Label  string `json:"label"`
	Coef
	// Q is the Benjamini–Hochberg adjusted p over the drivers tested.
	Q Num `json:"q"`
	// REngagement is the driver's correlation with the engagement index
	// in the same team-periods.
	REngagement Num `json:"r_engagement"`
	// Score is the driver's respondent-weighted mean (0–100) over the
	// report's teams in the last period that has it (ScorePeriod); Change
	// the difference from the period before that has it (ChangeFrom).
	Score       Num    `json:"score"`
	ScorePeriod string `json:"score_period"`
	Change      Num    `json:"change"`
	ChangeFrom  string `json:"change_from"`
	// Priority = max(0, CILow) × (100 − Score)/100 (stats.DriverPriority):
	// room to improve times the weakest link the data support.
	Priority Num `json:"priority"`
}

// Pair is one team-period the figures are computed from.
type Pair struct {
	Team   string `json:"team"`
	TeamID int64  `json:"team_id"`
	// Period is the start of the engagement period, CustomerPeriod that of
	// the customer period (Lag periods later).
	Period         string `json:"period"`
	CustomerPeriod string `json:"customer_period"`
	Engagement     Num    `json:"engagement"`
	Customer       Num    `json:"customer"`
	Ratings        int    `json:"ratings"`
	Respondents    int    `json:"respondents"`
}

// Correlation is the report.
type Correlation struct {
	Params   CorrelationParams `json:"params"`
	NPairs   int               `json:"n_pairs"`
	NTeams   int               `json:"n_teams"`
	NPeriods int               `json:"n_periods"`
	Pearson  Coef              `json:"pearson"`
	Spearman Coef              `json:"spearman"`
	RMCorr   RMCoef            `json:"rmcorr"`
	// Fit is nil when no line can be fitted (fewer than two pairs, or
	// every engagement value equal).
	Fit     *Fit         `json:"fit"`
	Lags    []LagPoint   `json:"lags"`
	Drivers []DriverLink `json:"drivers"`
	// DriverComparisons is the number of drivers tested against the
	// customer measure: the m of the Benjamini–Hochberg adjustment.
	DriverComparisons int      `json:"driver_comparisons"`
	Summary           string   `json:"summary"`
	Warnings          []string `json:"warnings"`

	// Within is the two-way within view at the chosen lag (team and
	// period effects removed); BetweenTeams the correlation of team means.
	Within       WithinCoef `json:"within"`
	BetweenTeams Coef       `json:"between_teams"`
	// LagScan: lags −6…+6 within teams and periods, corrected for
	// persistence and for testing 13 lags.
	LagScan   LagScan   `json:"lag_scan"`
	Power     Power     `json:"power"`
	Agreement Agreement `json:"agreement"`
	// DriverActions are sentences on the drivers with the highest
	// priority.
	DriverActions []string `json:"driver_actions"`
	// Headline says in plain words what the data show and what they
	// cannot; Details define the terms the figures use.
	Headline string       `json:"headline"`
	Details  []Definition `json:"details"`
	// The pairs stay out of the JSON (see PairsPage, Pair, Pairs).
	pairs pairList
}

// pairList holds a report's pairs in columns, 40 bytes a pair rather than
// a Pair's 88: a team and a period index instead of three strings. A
// server keeps its cached reports' pairs, 260,000 for two years of weeks at
// 2,500 teams, and the report's figures are computed from the same columns.
type pairList struct {
	teams []pairTeam
	dates []string // each period's start, by period index
	lag   int      // the customer period's index is the period's + lag
	// Pair i's team (an index into teams, numbered in order of first
	// appearance), engagement period, values, respondents and ratings.
	team, period         []int32 // 4 bytes each: 260,000 pairs at 2,500 teams over two years
	engagement, customer []float64
	respondents, ratings []int32
}

type pairTeam struct {
	path string
	id   int64
}

// PairCount returns the number of pairs (NPairs of a built report).
func (c *Correlation) PairCount() int { return len(c.pairs.team) }

// Pair returns pair i, 0 ≤ i < PairCount(), in the report's order.
func (c *Correlation) Pair(i int) Pair {
	l := &c.pairs
	t, pi := l.teams[l.team[i]], int(l.period[i])
	return Pair{Team: t.path, TeamID: t.id, Period: l.dates[pi], CustomerPeriod: l.dates[pi+l.lag],
		Engagement: Num(l.engagement[i]), Customer: Num(l.customer[i]), Ratings: int(l.ratings[i]), Respondents: int(l.respondents[i])}
}

// Pairs returns every pair, in the report's order, in a new slice.
func (c *Correlation) Pairs() []Pair {
	out := make([]Pair, c.PairCount())
	for i := range out {
		out[i] = c.Pair(i)
	}
	return out
}

// CustomerCell is one unit's customer-rating totals in one period (Period
// is the period's start), as the store reads them.
type CustomerCell = tandem.CustomerTotalsRow

// CorrelationInput is what BuildCorrelation needs. Engagement comes either
// as TeamScores (aggregated by the store) or, when TeamScores is nil, as
// the raw ScoreRows with each round's Questions, scored as the results
// pages score them.
type CorrelationInput struct {
	Tree   *tandem.Tree
	Params CorrelationParams
	// Rounds of the program; rounds outside the date range are skipped.
	Rounds []pulse.Round
	// Respondents per round id: the direct response count of each unit.
	Respondents map[int64]pulse.UnitCounts
	// TeamScores have the columns of pulse.TeamScoreMeasures().
	TeamScores []pulse.TeamScoreRow
	ScoreRows  []pulse.ScoreRow
	Questions  map[int64][]pulse.Question
	// Customer holds the totals for Params.Customer and Params.Period.
	Customer []CustomerCell
	// Agreement holds each round's agreement inputs by round id
	// (AgreementOf of the rounds' index answers); nil: none.
	Agreement map[int64]RoundAgreement

	// customer, when not nil, holds the customer totals in place of
	// Customer (the loader's form, read in place).
	customer *customerSpan

	// own holds the anonymity decisions of some rounds by id (see
	// roundOwn); the others are decided from Tree and Respondents.
	own map[int64]roundOwn

	// scores, when not nil, holds the engagement side in place of
	// TeamScores: the same rows, in the same order, in columns (the
	// loader's form; see roundScores).
	scores []roundScores
	// fe, when not nil, keeps the fixed-effects factorisations of the
	// within fit and the lag scan between reports (the loader's).
	fe *stats.FECache
	// agreement, when not nil, holds Agreement as the loader keeps it.
	agreement map[int64]*keptAgreement
	// agreed, when not nil, holds the agreement figures in place of
	// Agreement: those of a report over the same rounds, tree and scope
	// (the loader's; see agreementFigures).
	agreed *agreementFigures
}

// parallel runs parts, in order, on as many goroutines as the Go
// scheduler runs at once (GOMAXPROCS), and returns when all have. A
// goroutine per part gained no time over that and kept every part's
// working arrays alive at once: over 260,000 pairs, tens of megabytes
// each, which the garbage collector's headroom doubles in the process's
// peak memory.
func parallel(parts ...func()) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0)) // Go waits for a free slot: the parts start in order
	for _, part := range parts {
		g.Go(func() error { part(); return nil })
	}
	g.Wait()
}

// BuildCorrelation computes the report from its inputs. It is pure: no I/O,
// and the same inputs give the same report. The anonymity rule is applied
// first, per round on the whole tree, so nothing about a unit that a round
// hides reaches any figure, pair or name of the result.
func BuildCorrelation(in CorrelationInput) (*Correlation, error) {
	c, _, err := buildCorrelation(in)
	return c, err
}

// buildCorrelation is BuildCorrelation that also returns the agreement
// figures it used, for the loader to keep.
func buildCorrelation(in CorrelationInput) (*Correlation, *agreementFigures, error) {
	p, err := in.Params.checked()
	if err != nil {
		return nil, nil, err
	}
	pn := newPanel(in, p)
	// The panel holds what the figures read (and, until the drivers are
	// done, the score columns it lays measures out from); the rows it was
	// built from need not stay alive while they are computed.
	in.TeamScores, in.ScoreRows, in.scores, in.Customer, in.customer = nil, nil, nil, nil, nil
	measures, nP := pn.measures, len(pn.periodDays)
	mi := slices.Index(measures, p.Measure)
	pn.fill(mi)
	periodDays := pn.periodDays

	res := &Correlation{Params: p, Warnings: []string{}, Lags: []LagPoint{}, Drivers: []DriverLink{}}
	dates := make([]string, nP)
	for i, d := range periodDays {
		dates[i] = tandem.FormatDate(timeOfDay(d))
	}
	// The pairs as the report keeps them are also what its figures read:
	// x and y are their columns, not copies.
	var byTeam []*team
	res.pairs, byTeam = pn.pairList(mi, p.Lag, dates)
	pl := &res.pairs
	x, y := pl.engagement, pl.customer
	res.NPairs, res.NTeams = len(x), len(pl.teams)
	periodSet := make([]bool, nP)
	for _, pi := range pl.period {
		if !periodSet[pi] {
			periodSet[pi] = true
			res.NPeriods++
		}
	}
	// The main figures, the other lags and the drivers read the same
	// team arrays and nothing else: computed side by side, each part
	// writing its own fields.
	lags := make([]Coef, MaxLag+1)
	agreed := in.agreed
	parallel(
		// The agreement figures first, beside the start of the lag scan
		// (the longest part): they are short, and their working arrays
		// (a few numbers per team-round) are let go before the scan's
		// own peak. The drivers next: when they are done, every
		// measure's team arrays but the report's own (most of the panel)
		// are let go while the rest runs.
		func() {
			if agreed == nil {
				if in.agreement == nil {
					in.agreement = packRounds(in.Agreement)
				}
				agreed = pn.agreementFigures(in.agreement)
				in.Agreement, in.agreement = nil, nil // not alive while the lag scan runs
			}
			res.Agreement = agreed.of(pl, byTeam)
		},
		func() { res.LagScan = pn.lagScan(mi) },
		func() {
			res.Drivers = pn.driverLinks(p.Lag, mi, dates)
			pn.keepOnly(mi)
		},
		func() {
			res.Within = withinAt(pn.fe, x, y, pl.team, len(pl.teams), pl.period, nP)
			res.BetweenTeams = betweenTeams(x, y, pl.team, len(pl.teams))
			res.Power = powerOf(res.BetweenTeams.N, res.Within)
		},
		func() {
			res.Pearson = coefOf(stats.Pearson(x, y))
			res.Spearman = coefOf(stats.Spearman(x, y))
			rm := stats.RMCorrCodes(pl.team, len(pl.teams), x, y)
			res.RMCorr = RMCoef{R: Num(rm.R), CILow: Num(rm.CILow), CIHigh: Num(rm.CIHigh), P: Num(rm.P), DF: rm.DF, Teams: rm.Subjects}
			if line, ok := stats.LeastSquares(x, y); ok {
				res.Fit = &Fit{Intercept: Num(line.Intercept), Slope: Num(line.Slope)}
			}
		},
		func() {
			var lx, ly []float64 // every lag's pairs in turn, correlated in place
			for lag := range lags {
				if lag != p.Lag {
					lx, ly = pn.pairsAt(mi, lag, lx, ly)
					lags[lag] = coefOf(stats.PearsonInPlace(lx, ly))
				}
			}
		},
	)
	if p.Lag >= 0 {
		lags[p.Lag] = res.Pearson
	}
	for lag, c := range lags {
		res.Lags = append(res.Lags, LagPoint{Lag: lag, Coef: c})
	}
	res.DriverComparisons = comparisons(res.Drivers)
	res.Summary, res.Warnings = describe(res, pn.usedRounds, pn.anyCustomer)
	explain(res)
	return res, agreed, nil
}
