package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/retention"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/store"
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
// program; by default the program with the most rounds): "index", the
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
// value at t+L, L = lag periods later (0…6, default 0). The date range
// (from, to) selects the engagement periods; the customer side may fall up
// to six periods after to.
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

// Engagement measures.
const (
	MeasureIndex = "index"
	MeasureENPS  = "enps"
	// DriverMeasurePrefix starts a driver measure: "driver:manager".
	DriverMeasurePrefix = "driver:"
)

// Report defaults and limits.
const (
	DefaultMinRatings = 5
	MaxLag            = 6
	DefaultWeeks      = 26
	DefaultMonths     = 12
	// maxRangeYears bounds the date range so one request cannot ask for a
	// century of rounds.
	maxRangeYears = 10
)

// CorrelationParams are the report's parameters after validation. UnitRef
// is the unit as given (a path or an id, "" for the caller's scope);
// LoadCorrelation resolves it into UnitID and Unit.
type CorrelationParams struct {
	Measure    string    // index | enps | driver:<key>
	Customer   string    // csat | nps | ces
	Period     string    // week | month
	From, To   time.Time // engagement periods whose start lies in [From, To]
	Lag        int       // 0…MaxLag periods
	MinRatings int       // customer ratings a team-period needs
	ProgramID  int64     // 0: the program with the most rounds
	Program    string    // the program's name, once resolved
	UnitID     int64     // 0: the whole organisation
	Unit       string    // the unit's path, once resolved
	UnitRef    string    // the unit as the caller named it
}

// paramsJSON is the JSON form of CorrelationParams.
type paramsJSON struct {
	Measure    string `json:"measure"`
	Customer   string `json:"customer"`
	Period     string `json:"period"`
	From       string `json:"from"`
	To         string `json:"to"`
	Lag        int    `json:"lag"`
	MinRatings int    `json:"min_ratings"`
	ProgramID  int64  `json:"program_id"`
	Program    string `json:"program"`
	UnitID     int64  `json:"unit_id"`
	Unit       string `json:"unit"`
}

// MarshalJSON writes the parameters with dates as YYYY-MM-DD.
func (p CorrelationParams) MarshalJSON() ([]byte, error) {
	return json.Marshal(paramsJSON{p.Measure, p.Customer, p.Period, tandem.FormatDate(p.From), tandem.FormatDate(p.To), p.Lag, p.MinRatings,
		p.ProgramID, p.Program, p.UnitID, p.Unit})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *CorrelationParams) UnmarshalJSON(b []byte) error {
	var j paramsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = CorrelationParams{Measure: j.Measure, Customer: j.Customer, Period: j.Period, Lag: j.Lag, MinRatings: j.MinRatings,
		ProgramID: j.ProgramID, Program: j.Program, UnitID: j.UnitID, Unit: j.Unit}
	p.From, _ = dateParam(j.From)
	p.To, _ = dateParam(j.To)
	return nil
}

// ParseCorrelationParams reads the report's parameters by name (measure,
// customer, period, from, to, lag, min_ratings, program, unit) through get,
// which returns "" for a parameter not given, applies the defaults and
// checks every value. today is the end of the default range. Errors are
// EINVALID, name the parameter and say what is allowed.
func ParseCorrelationParams(get func(name string) string, today time.Time) (CorrelationParams, error) {
	p := CorrelationParams{Measure: MeasureIndex, Customer: tandem.MetricCSAT, Period: tandem.Week, MinRatings: DefaultMinRatings}
	val := func(name string) string { return strings.TrimSpace(get(name)) }
	if v := val("measure"); v != "" {
		p.Measure = strings.ToLower(v)
	}
	if err := checkMeasure(p.Measure); err != nil {
		return p, err
	}
	if v := val("customer"); v != "" {
		p.Customer = strings.ToLower(v)
	}
	if _, _, ok := tandem.MetricRange(p.Customer); !ok {
		return p, paramErr("customer", "customer must be csat, nps or ces; got %q", p.Customer)
	}
	if v := val("period"); v != "" {
		p.Period = strings.ToLower(v)
	}
	if p.Period != tandem.Week && p.Period != tandem.Month {
		return p, paramErr("period", "period must be week or month; got %q", p.Period)
	}
	var err error
	if p.Lag, err = intParam(val("lag"), "lag", 0, 0, MaxLag, "lag must be a whole number of periods from 0 to %d; got %q", MaxLag); err != nil {
		return p, err
	}
	if p.MinRatings, err = intParam(val("min_ratings"), "min_ratings", DefaultMinRatings, 1, 1_000_000, "min_ratings must be a whole number of at least 1; got %q"); err != nil {
		return p, err
	}
	prog, err := intParam(val("program"), "program", 0, 1, math.MaxInt64, "program must be a program id (a positive whole number); got %q")
	if err != nil {
		return p, err
	}
	p.ProgramID = int64(prog)
	p.UnitRef = val("unit")

	to, from := tandem.Today(today), time.Time{}
	if v := val("to"); v != "" {
		if to, err = dateParam(v); err != nil {
			return p, paramErr("to", "to must be a date written YYYY-MM-DD; got %q", v)
		}
	}
	if v := val("from"); v != "" {
		if from, err = dateParam(v); err != nil {
			return p, paramErr("from", "from must be a date written YYYY-MM-DD; got %q", v)
		}
	} else if p.Period == tandem.Month {
		from = tandem.PeriodStart(tandem.Month, to).AddDate(0, -(DefaultMonths - 1), 0)
	} else {
		from = tandem.PeriodStart(tandem.Week, to).AddDate(0, 0, -7*(DefaultWeeks-1))
	}
	if from.After(to) {
		return p, paramErr("from", "from (%s) must not be after to (%s)", tandem.FormatDate(from), tandem.FormatDate(to))
	}
	if to.After(from.AddDate(maxRangeYears, 0, 0)) {
		return p, paramErr("from", "the range from %s to %s is longer than %d years; choose a shorter one", tandem.FormatDate(from), tandem.FormatDate(to), maxRangeYears)
	}
	p.From, p.To = from, to
	return p, nil
}

func paramErr(field, format string, args ...any) error {
	return &tandem.Error{Code: tandem.EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

func intParam(v, field string, def, lo, hi int, format string, args ...any) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, paramErr(field, format, append(args, v)...)
	}
	return n, nil
}

// dateParam reads a calendar date YYYY-MM-DD (strictly: a report's range is
// not a timestamp).
func dateParam(v string) (time.Time, error) {
	return time.Parse("2006-01-02", v)
}

func checkMeasure(m string) error {
	switch {
	case m == MeasureIndex, m == MeasureENPS:
		return nil
	case strings.HasPrefix(m, DriverMeasurePrefix):
		key := strings.TrimPrefix(m, DriverMeasurePrefix)
		if pulse.IsDriver(key) {
			return nil
		}
		var keys []string
		for _, d := range pulse.Drivers {
			keys = append(keys, d.Key)
		}
		return paramErr("measure", "measure %q: %q is not a driver; use driver: followed by one of %s", m, key, strings.Join(keys, ", "))
	}
	return paramErr("measure", "measure must be index, enps or driver:<key>; got %q", m)
}

// measureKey is the store's TeamScoreMeasures key for a report measure.
func measureKey(m string) string {
	switch m {
	case MeasureIndex:
		return store.MeasureIndex
	case MeasureENPS:
		return store.MeasureENPS
	}
	return strings.TrimPrefix(m, DriverMeasurePrefix)
}

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
	Pairs             []Pair   `json:"pairs"`
}

// CustomerCell is one unit's customer-rating totals in one period (Period
// is the period's start), as the store reads them.
type CustomerCell = store.CustomerTotalsRow

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
	Respondents map[int64]store.UnitCounts
	// TeamScores have the columns of store.TeamScoreMeasures().
	TeamScores []store.TeamScoreRow
	ScoreRows  []store.ScoreRow
	Questions  map[int64][]pulse.Question
	// Customer holds the totals for Params.Customer and Params.Period.
	Customer []CustomerCell
}

// TeamScoresOf scores raw per-question totals into TeamScoreRows with the
// results pages' rules (scoreGroup), one row per round and unit.
func TeamScoresOf(rows []store.ScoreRow, questions map[int64][]pulse.Question) []store.TeamScoreRow {
	type key struct{ round, unit int64 }
	totals := map[key]map[int64]Totals{}
	var order []key
	for _, r := range rows {
		k := key{r.RoundID, r.UnitID}
		if totals[k] == nil {
			totals[k] = map[int64]Totals{}
			order = append(order, k)
		}
		t := totals[k][r.QuestionID]
		t.add(r)
		totals[k][r.QuestionID] = t
	}
	measures := store.TeamScoreMeasures()
	out := make([]store.TeamScoreRow, 0, len(order))
	for _, k := range order {
		sc := scoreGroup(totals[k], questions[k.round], 0)
		row := store.TeamScoreRow{RoundID: k.round, UnitID: k.unit, Values: make([]float64, len(measures))}
		for i, m := range measures {
			v, ok := sc.Drivers[m]
			switch {
			case m == store.MeasureIndex:
				v = sc.Engagement
			case m == store.MeasureENPS:
				v = sc.ENPS
			case !ok:
				v = math.NaN()
			}
			row.Values[i] = v
		}
		out = append(out, row)
	}
	return out
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

func timeOfDay(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// team holds one team's period values, indexed by period (see
// BuildCorrelation's periods): the respondent-weighted sums of each
// measure, and the customer value with its number of ratings.
type team struct {
	unit    *tandem.Unit
	sum     [][]float64             // [measure][period] Σ value·respondents; nil if none
	weight  [][]int32               // [measure][period] Σ respondents
	tot     []tandem.CustomerTotals // [period]; nil without ratings
	cust    []float64               // [period] customer value, NaN if too few ratings
	ratings []int                   // [period]
}

func (t *team) value(m, p int) (float64, bool) {
	if t.weight[m] == nil || t.weight[m][p] == 0 {
		return math.NaN(), false
	}
	return t.sum[m][p] / float64(t.weight[m][p]), true
}

// BuildCorrelation computes the report from its inputs. It is pure: no I/O,
// and the same inputs give the same report. The anonymity rule is applied
// first, per round on the whole tree, so nothing about a unit that a round
// hides reaches any figure, pair or name of the result.
func BuildCorrelation(in CorrelationInput) (*Correlation, error) {
	p := in.Params
	if err := checkMeasure(p.Measure); err != nil {
		return nil, err
	}
	if _, _, ok := tandem.MetricRange(p.Customer); !ok {
		return nil, paramErr("customer", "customer must be csat, nps or ces; got %q", p.Customer)
	}
	if p.Period != tandem.Week && p.Period != tandem.Month {
		return nil, paramErr("period", "period must be week or month; got %q", p.Period)
	}
	if p.Lag < 0 || p.Lag > MaxLag {
		return nil, paramErr("lag", "lag must be a whole number of periods from 0 to %d; got %d", MaxLag, p.Lag)
	}
	if p.From.IsZero() || p.To.IsZero() || p.From.After(p.To) {
		return nil, paramErr("from", "give a date range: from must not be after to")
	}
	if p.To.After(p.From.AddDate(maxRangeYears, 0, 0)) {
		return nil, paramErr("from", "the range is longer than %d years; choose a shorter one", maxRangeYears)
	}
	if p.MinRatings < 1 {
		p.MinRatings = 1
	}
	tree := in.Tree
	if tree == nil {
		tree = tandem.NewTree(nil)
	}
	scores := in.TeamScores
	if scores == nil {
		scores = TeamScoresOf(in.ScoreRows, in.Questions)
	}
	measures := store.TeamScoreMeasures()
	mi := slices.Index(measures, measureKey(p.Measure))
	const index = 0 // measures[0] is the engagement index

	// Periods: the engagement periods from..to, then MaxLag more for the
	// customer side.
	from, to := tandem.Today(p.From), tandem.Today(p.To)
	var periodDays []int64
	periodOf := map[int64]int{}
	last := tandem.PeriodStart(p.Period, to)
	for d := tandem.PeriodStart(p.Period, from); !d.After(last); d = tandem.NextPeriod(p.Period, d) {
		periodOf[dayOf(d)] = len(periodDays)
		periodDays = append(periodDays, dayOf(d))
	}
	nEng := len(periodDays)
	for d, i := tandem.NextPeriod(p.Period, last), 0; i < MaxLag; d, i = tandem.NextPeriod(p.Period, d), i+1 {
		periodOf[dayOf(d)] = len(periodDays)
		periodDays = append(periodDays, dayOf(d))
	}
	nP := len(periodDays)

	scoped := map[int64]bool{}
	inScope := func(u int64) bool {
		in, ok := scoped[u]
		if !ok {
			in = p.UnitID == 0 || tree.Contains(p.UnitID, u)
			scoped[u] = in
		}
		return in
	}
	teams := map[int64]*team{}
	newTeam := func(u int64) *team {
		t := &team{unit: tree.Unit(u), sum: make([][]float64, len(measures)), weight: make([][]int32, len(measures)),
			cust: make([]float64, nP), ratings: make([]int, nP)}
		for i := range t.cust {
			t.cust[i] = math.NaN()
		}
		return t
	}

	// Engagement side: each round's anonymity decision, then the usable
	// team-rounds weighted into team-periods.
	type roundInfo struct {
		vis    *privacy.Visibility
		direct store.UnitCounts
		pi     int
	}
	rounds := map[int64]roundInfo{}
	for _, r := range in.Rounds {
		day, err := tandem.ParseDate(r.Period)
		if err != nil {
			day = tandem.Today(r.ScheduledAt)
		}
		if day.Before(from) || day.After(to) {
			continue
		}
		direct := in.Respondents[r.ID]
		rounds[r.ID] = roundInfo{vis: privacy.Decide(tree, direct, r.MinGroup), direct: direct,
			pi: periodOf[dayOf(tandem.PeriodStart(p.Period, day))]}
	}
	usedRounds := len(rounds)
	for _, s := range scores {
		r, ok := rounds[s.RoundID]
		if !ok {
			continue
		}
		n := r.direct[s.UnitID]
		// Shown in this round's global decision, and all of the unit's
		// respondents are its own: the value is then exactly the
		// aggregate the results pages show for the unit.
		if n <= 0 || !r.vis.Shown(s.UnitID) || r.vis.Count(s.UnitID) != n || !inScope(s.UnitID) {
			continue
		}
		t := teams[s.UnitID]
		if t == nil {
			t = newTeam(s.UnitID)
			teams[s.UnitID] = t
		}
		for m, v := range s.Values {
			if m >= len(measures) || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if t.sum[m] == nil {
				t.sum[m], t.weight[m] = make([]float64, nEng), make([]int32, nEng)
			}
			t.sum[m][r.pi] += v * float64(n)
			t.weight[m][r.pi] += int32(n)
		}
	}

	// Customer side, for the teams that have engagement values.
	anyCustomer := false
	piOf := map[int64]int{} // a row's period (Unix seconds) → period index, −1 outside
	for _, c := range in.Customer {
		key := c.Period.Unix()
		pi, ok := piOf[key]
		if !ok {
			pi = -1
			if i, ok := periodOf[dayOf(tandem.PeriodStart(p.Period, c.Period))]; ok {
				pi = i
			}
			piOf[key] = pi
		}
		if pi < 0 || !inScope(c.UnitID) {
			continue
		}
		anyCustomer = true
		t := teams[c.UnitID]
		if t == nil {
			continue
		}
		if t.tot == nil {
			t.tot = make([]tandem.CustomerTotals, nP)
		}
		t.tot[pi].Merge(c.CustomerTotals)
	}
	for _, t := range teams {
		for pi, tot := range t.tot {
			t.ratings[pi] = tot.N
			if tot.N > 0 && tot.N >= p.MinRatings {
				t.cust[pi] = tot.Headline(p.Customer)
			}
		}
	}

	// Teams in a stable order: by path, then id.
	order := make([]*team, 0, len(teams))
	for _, t := range teams {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b *team) int {
		return cmp.Or(cmp.Compare(a.unit.Path, b.unit.Path), cmp.Compare(a.unit.ID, b.unit.ID))
	})

	// pairsAt returns the pooled pairs of measure m at lag, with each
	// pair's team and engagement period.
	type at struct {
		t  *team
		pi int
	}
	pairsAt := func(m, lag int, keep bool) (x, y []float64, where []at) {
		if m < 0 {
			return
		}
		n := 0
		for _, t := range order {
			for pi := 0; pi < nEng && t.weight[m] != nil; pi++ {
				if t.weight[m][pi] > 0 && !math.IsNaN(t.cust[pi+lag]) {
					n++
				}
			}
		}
		x, y = make([]float64, 0, n), make([]float64, 0, n)
		if keep {
			where = make([]at, 0, n)
		}
		for _, t := range order {
			for pi := 0; pi < nEng && t.weight[m] != nil; pi++ {
				ev, ok := t.value(m, pi)
				if !ok {
					continue
				}
				cv := t.cust[pi+lag]
				if math.IsNaN(cv) {
					continue
				}
				x, y = append(x, ev), append(y, cv)
				if keep {
					where = append(where, at{t, pi})
				}
			}
		}
		return
	}

	res := &Correlation{Params: p, Pairs: []Pair{}, Warnings: []string{}, Lags: []LagPoint{}, Drivers: []DriverLink{}}
	x, y, where := pairsAt(mi, p.Lag, true)
	res.NPairs = len(x)
	res.Pairs = make([]Pair, 0, len(x))
	dates := make([]string, nP)
	for i, d := range periodDays {
		dates[i] = tandem.FormatDate(timeOfDay(d))
	}
	teamSet, periodSet := map[*team]string{}, make([]bool, nP)
	subjects := make([]string, len(where))
	for i, w := range where {
		id := w.t.unit.ID
		sub, ok := teamSet[w.t]
		if !ok {
			sub = strconv.FormatInt(id, 10)
			teamSet[w.t] = sub
			res.NTeams++
		}
		if !periodSet[w.pi] {
			periodSet[w.pi] = true
			res.NPeriods++
		}
		subjects[i] = sub
		res.Pairs = append(res.Pairs, Pair{Team: w.t.unit.Path, TeamID: id, Period: dates[w.pi],
			CustomerPeriod: dates[w.pi+p.Lag], Engagement: Num(x[i]), Customer: Num(y[i]),
			Ratings: w.t.ratings[w.pi+p.Lag], Respondents: int(w.t.weight[mi][w.pi])})
	}
	// The main figures, the other lags and the drivers read the same
	// team arrays and nothing else: computed side by side.
	var wg sync.WaitGroup
	wg.Go(func() {
		res.Pearson = coefOf(stats.Pearson(x, y))
		res.Spearman = coefOf(stats.Spearman(x, y))
		rm := stats.RMCorr(subjects, x, y)
		res.RMCorr = RMCoef{R: Num(rm.R), CILow: Num(rm.CILow), CIHigh: Num(rm.CIHigh), P: Num(rm.P), DF: rm.DF, Teams: rm.Subjects}
		if line, ok := stats.LeastSquares(x, y); ok {
			res.Fit = &Fit{Intercept: Num(line.Intercept), Slope: Num(line.Slope)}
		}
	})
	lags := make([]Coef, MaxLag+1)
	wg.Go(func() {
		for lag := range lags {
			if lag != p.Lag {
				lx, ly, _ := pairsAt(mi, lag, false)
				lags[lag] = coefOf(stats.Pearson(lx, ly))
			}
		}
	})

	// Drivers with data in the shown team-periods, in key order so that
	// the q-values do not depend on anything else.
	var drivers []int
	for m := range measures {
		if measures[m] == store.MeasureIndex || measures[m] == store.MeasureENPS {
			continue
		}
		for _, t := range order {
			if t.weight[m] != nil {
				drivers = append(drivers, m)
				break
			}
		}
	}
	slices.SortFunc(drivers, func(a, b int) int { return cmp.Compare(measures[a], measures[b]) })
	res.Drivers = make([]DriverLink, len(drivers))
	wg.Go(func() {
		for i, d := range drivers {
			dx, dy, _ := pairsAt(d, p.Lag, false)
			ex, ey := make([]float64, 0, len(dx)), make([]float64, 0, len(dx))
			for _, t := range order {
				for pi := 0; pi < nEng && t.weight[d] != nil; pi++ {
					dv, ok1 := t.value(d, pi)
					iv, ok2 := t.value(index, pi)
					if ok1 && ok2 {
						ex, ey = append(ex, dv), append(ey, iv)
					}
				}
			}
			res.Drivers[i] = DriverLink{Driver: measures[d], Label: pulse.DriverLabel(measures[d]), Coef: coefOf(stats.Pearson(dx, dy)),
				REngagement: Num(stats.Pearson(ex, ey).R)}
		}
	})
	wg.Wait()
	lags[p.Lag] = res.Pearson
	for lag, c := range lags {
		res.Lags = append(res.Lags, LagPoint{Lag: lag, Coef: c})
	}
	var ps []float64
	for _, d := range res.Drivers {
		ps = append(ps, float64(d.P))
		if !math.IsNaN(float64(d.P)) {
			res.DriverComparisons++
		}
	}
	for i, q := range stats.BenjaminiHochberg(ps) {
		res.Drivers[i].Q = Num(q)
	}
	slices.SortStableFunc(res.Drivers, func(a, b DriverLink) int {
		ra, rb := math.Abs(float64(a.R)), math.Abs(float64(b.R))
		switch {
		case math.IsNaN(ra) && math.IsNaN(rb):
			return cmp.Compare(a.Label, b.Label)
		case math.IsNaN(ra):
			return 1
		case math.IsNaN(rb):
			return -1
		case ra != rb:
			return cmp.Compare(rb, ra)
		}
		return cmp.Compare(a.Label, b.Label)
	})

	res.Summary, res.Warnings = describe(res, usedRounds, anyCustomer)
	return res, nil
}

// Words for the summary.

func measureNoun(m string) string {
	switch m {
	case MeasureIndex:
		return "engagement"
	case MeasureENPS:
		return "eNPS"
	}
	return strings.ToLower(pulse.DriverLabel(strings.TrimPrefix(m, DriverMeasurePrefix))) + " scores"
}

// CustomerLabel names a customer measure for people.
func CustomerLabel(metric string) string {
	switch metric {
	case tandem.MetricCSAT:
		return "CSAT"
	case tandem.MetricNPS:
		return "NPS"
	case tandem.MetricCES:
		return "CES"
	}
	return metric
}

// MeasureLabel names an engagement measure for people.
func MeasureLabel(m string) string {
	switch m {
	case MeasureIndex:
		return "Engagement index"
	case MeasureENPS:
		return "eNPS"
	}
	return pulse.DriverLabel(strings.TrimPrefix(m, DriverMeasurePrefix))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// F2 formats a coefficient with two decimals ("—" when undefined).
func F2(v Num) string {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	if s == "-0.00" {
		s = "0.00"
	}
	return s
}

// FormatP formats a p- or q-value: three significant digits, "< 0.001"
// below that.
func FormatP(v Num) string {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return "—"
	case f < 0.001:
		return "< 0.001"
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

func ciIncludesZero(c Coef) bool {
	return !math.IsNaN(float64(c.CILow)) && float64(c.CILow) <= 0 && float64(c.CIHigh) >= 0
}

// describe writes the plain-language summary and the warnings.
func describe(c *Correlation, rounds int, anyCustomer bool) (string, []string) {
	p := c.Params
	unit, units := "week", "weeks"
	if p.Period == tandem.Month {
		unit, units = "month", "months"
	}
	eng, cust := measureNoun(p.Measure), CustomerLabel(p.Customer)
	warnings := []string{}
	if c.NPairs == 0 || math.IsNaN(float64(c.Pearson.R)) {
		var why string
		switch {
		case rounds == 0 && p.ProgramID == 0:
			why = "There is no pulse program yet: once a program's rounds are answered, this report relates their scores to customer ratings."
		case rounds == 0:
			why = fmt.Sprintf("The pulse program %q has no rounds between %s and %s.", p.Program, tandem.FormatDate(p.From), tandem.FormatDate(p.To))
		case !anyCustomer:
			why = fmt.Sprintf("No %s ratings are recorded for teams in this scope in these %s.", cust, units)
		case c.NPairs == 0:
			why = fmt.Sprintf("No team has both a shown %s score and at least %d %s ratings %s.", eng, p.MinRatings, cust, lagWords(p.Lag, unit, units, "in the same "+unit))
		default:
			why = fmt.Sprintf("Only %s: too few, or too alike, to compute a correlation.", plural(c.NPairs, "team-"+unit+" pair", "team-"+unit+" pairs"))
		}
		warnings = append(warnings, "No data to correlate. "+why)
		return fmt.Sprintf("There is not enough data to relate %s to %s. This is a report of correlation; even with data it could not show cause.", eng, cust), warnings
	}

	var b strings.Builder
	r := float64(c.Pearson.R)
	dir := "higher"
	if r < 0 {
		dir = "lower"
	}
	when := ""
	if p.Lag > 0 {
		when = " " + plural(p.Lag, unit, units) + " later"
	}
	fmt.Fprintf(&b, "Across %s over %s, ", plural(c.NTeams, "team", "teams"), plural(c.NPeriods, unit, units))
	if F2(c.Pearson.R) == "0.00" {
		fmt.Fprintf(&b, "teams' %s showed no linear link with their %s%s: r = %s", eng, cust, when, F2(c.Pearson.R))
	} else {
		fmt.Fprintf(&b, "teams with higher %s had %s %s%s: r = %s", eng, dir, cust, when, F2(c.Pearson.R))
	}
	if math.IsNaN(float64(c.Pearson.CILow)) {
		b.WriteString(" (too few pairs for a confidence interval).")
	} else {
		fmt.Fprintf(&b, ", 95 %% CI %s to %s.", F2(c.Pearson.CILow), F2(c.Pearson.CIHigh))
	}
	b.WriteString(" This is a correlation, not proof of cause.")
	if rm := c.RMCorr; !math.IsNaN(float64(rm.R)) {
		way := "moved together with it"
		if rm.R < 0 {
			way = "moved the opposite way"
		}
		if F2(rm.R) == "0.00" {
			way = "did not move with it"
		}
		fmt.Fprintf(&b, " Within teams, when a team's %s was above its own usual level, its %s %s: r_rm = %s", eng, cust, way, F2(rm.R))
		if !math.IsNaN(float64(rm.CILow)) {
			fmt.Fprintf(&b, ", 95 %% CI %s to %s", F2(rm.CILow), F2(rm.CIHigh))
		}
		fmt.Fprintf(&b, " (%s).", plural(rm.Teams, "team", "teams"))
	}

	if c.NPairs < 10 || c.NTeams < 10 {
		warnings = append(warnings, fmt.Sprintf("Only %s from %s: with fewer than 10 pairs or teams the figures are too unstable to rely on.",
			plural(c.NPairs, "team-"+unit+" pair", "team-"+unit+" pairs"), plural(c.NTeams, "team", "teams")))
	}
	if ciIncludesZero(c.Pearson) {
		warnings = append(warnings, fmt.Sprintf("The 95 %% confidence interval of r (%s to %s) includes 0: the data are also consistent with no link at all.",
			F2(c.Pearson.CILow), F2(c.Pearson.CIHigh)))
	}
	if c.NPairs > c.NTeams {
		warnings = append(warnings, "Pairs from the same team are not independent, so the p-value and interval of the pooled r overstate the evidence. "+
			"The within-team figure (rmcorr) allows for repeated measures of each team.")
	}
	return b.String(), warnings
}

func lagWords(lag int, unit, units, same string) string {
	if lag == 0 {
		return same
	}
	return plural(lag, unit, units) + " later"
}

// WriteCorrelationCSV writes the pairs the figures were computed from as
// plain CSV with a header row: team, team_id, period, customer_period,
// engagement, customer, ratings, respondents. Anyone can recompute r from
// it.
func WriteCorrelationCSV(w io.Writer, c *Correlation) error {
	cw := csvfile.NewWriter(w)
	cw.Write([]string{"team", "team_id", "period", "customer_period", "engagement", "customer", "ratings", "respondents"})
	f := func(v Num) string {
		if math.IsNaN(float64(v)) {
			return ""
		}
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	}
	for _, p := range c.Pairs {
		cw.Write([]string{p.Team, strconv.FormatInt(p.TeamID, 10), p.Period, p.CustomerPeriod, f(p.Engagement), f(p.Customer),
			strconv.Itoa(p.Ratings), strconv.Itoa(p.Respondents)})
	}
	cw.Flush()
	return cw.Error()
}

// ResolveUnit finds the unit named by ref — an id or a path such as
// "Acme/Support/Tier 1" — within scope (0: the whole organisation). An
// empty ref is the scope itself. A unit outside the scope is reported as
// not found, so the answer does not even confirm it exists.
func ResolveUnit(tree *tandem.Tree, ref string, scope int64) (int64, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return scope, nil
	}
	var u *tandem.Unit
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		u = tree.Unit(id)
	} else if parts, err := tandem.SplitUnitPath(ref); err == nil {
		u = tree.ByPath(parts)
	}
	if u == nil || (scope != 0 && !tree.Contains(scope, u.ID)) {
		return 0, tandem.Errorf(tandem.ENOTFOUND, "There is no unit %q.", ref)
	}
	return u.ID, nil
}

// Source is what LoadCorrelation reads; *store.Store has it.
type Source interface {
	Tree(ctx context.Context) (*tandem.Tree, error)
	Programs(ctx context.Context) ([]pulse.Program, error)
	ProgramRoundCounts(ctx context.Context) (map[int64]int, error)
	RoundsBetween(ctx context.Context, programID int64, from, to time.Time) ([]pulse.Round, error)
	Respondents(ctx context.Context, roundIDs []int64) (map[int64]store.UnitCounts, error)
	TeamScores(ctx context.Context, roundIDs []int64) ([]store.TeamScoreRow, error)
	MetricTotals(ctx context.Context, kind, metric string, from, to time.Time) ([]store.CustomerTotalsRow, error)
}

// LoadCorrelation reads the report's inputs from src and builds it (see
// CorrelationLoader.Load), without remembering anything between calls.
func LoadCorrelation(ctx context.Context, src Source, p CorrelationParams, scope int64) (*Correlation, error) {
	return NewCorrelationLoader(src).Load(ctx, p, scope)
}

// CorrelationLoader loads correlation reports from one source and
// remembers the per-round inputs of closed rounds — their unit scores and
// respondent counts — which cannot change once a round is closed (answers
// are refused from then on). A warm server then reads only the rounds still
// open and the customer totals. It is safe for concurrent use.
type CorrelationLoader struct {
	src Source
	mu  sync.Mutex
	// stints and stintsVersion keep the retention report's stints while
	// the roster is unchanged (see LoadRetention).
	stints        []retention.Stint
	stintsVersion string
	// closed maps a closed round's id to its inputs.
	closed map[int64]closedRound
}

type closedRound struct {
	scores      []store.TeamScoreRow
	respondents store.UnitCounts
}

// maxCachedRounds bounds the memory the loader keeps: ten years of weekly
// rounds (about 60 KB per round for 500 teams).
const maxCachedRounds = 520

// NewCorrelationLoader returns a loader reading from src.
func NewCorrelationLoader(src Source) *CorrelationLoader {
	return &CorrelationLoader{src: src, closed: map[int64]closedRound{}}
}

// roundInputs returns the scores and respondents of rounds, from memory for
// the closed rounds it has seen and in one query each for the rest.
func (l *CorrelationLoader) roundInputs(ctx context.Context, rounds []pulse.Round) ([]store.TeamScoreRow, map[int64]store.UnitCounts, error) {
	scores := []store.TeamScoreRow{}
	resp := map[int64]store.UnitCounts{}
	var missing []int64
	closed := map[int64]bool{}
	l.mu.Lock()
	for _, r := range rounds {
		if c, ok := l.closed[r.ID]; ok && r.Closed {
			scores = append(scores, c.scores...)
			resp[r.ID] = c.respondents
			continue
		}
		missing = append(missing, r.ID)
		closed[r.ID] = r.Closed
	}
	l.mu.Unlock()
	if len(missing) == 0 {
		return scores, resp, nil
	}
	fresh, err := l.src.TeamScores(ctx, missing)
	if err != nil {
		return nil, nil, err
	}
	counts, err := l.src.Respondents(ctx, missing)
	if err != nil {
		return nil, nil, err
	}
	scores = append(scores, fresh...)
	byRound := map[int64][]store.TeamScoreRow{}
	for _, s := range fresh {
		byRound[s.RoundID] = append(byRound[s.RoundID], s)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range missing {
		resp[id] = counts[id]
		if !closed[id] {
			continue
		}
		if len(l.closed) >= maxCachedRounds {
			clear(l.closed)
		}
		l.closed[id] = closedRound{scores: byRound[id], respondents: counts[id]}
	}
	return scores, resp, nil
}

// Load resolves the unit and program of p for a caller limited to scope
// (0: the whole organisation; a leader's unit otherwise), reads the inputs
// in a fixed handful of queries and builds the report. A unit or program
// outside the scope is not found. The default program is the one with the
// most rounds among those whose audience overlaps the scope.
func (l *CorrelationLoader) Load(ctx context.Context, p CorrelationParams, scope int64) (*Correlation, error) {
	src := l.src
	if p.Period != tandem.Week && p.Period != tandem.Month {
		return nil, paramErr("period", "period must be week or month; got %q", p.Period)
	}
	// The customer totals do not depend on the unit or program: read them
	// while the rest is resolved. Customer periods run from the first
	// engagement period to MaxLag periods after the last, so that every lag
	// finds its partner.
	type customerRows struct {
		rows []store.CustomerTotalsRow
		err  error
	}
	customer := make(chan customerRows, 1)
	go func() {
		cFrom := tandem.PeriodStart(p.Period, p.From)
		cTo := tandem.PeriodStart(p.Period, p.To)
		for range MaxLag + 1 {
			cTo = tandem.NextPeriod(p.Period, cTo)
		}
		rows, err := src.MetricTotals(ctx, p.Period, p.Customer, cFrom, cTo) // to is exclusive
		customer <- customerRows{rows, err}
	}()
	cust := func() ([]store.CustomerTotalsRow, error) {
		c := <-customer
		customer <- c
		return c.rows, c.err
	}
	defer cust() // never leave the reader behind

	tree, err := src.Tree(ctx)
	if err != nil {
		return nil, err
	}
	if p.UnitID, err = ResolveUnit(tree, p.UnitRef, scope); err != nil {
		return nil, err
	}
	if u := tree.Unit(p.UnitID); u != nil {
		p.Unit = u.Path
	}
	programs, err := src.Programs(ctx)
	if err != nil {
		return nil, err
	}
	visible := func(pr pulse.Program) bool {
		return scope == 0 || tree.Contains(scope, pr.AudienceUnitID) || tree.Contains(pr.AudienceUnitID, scope)
	}
	var prog *pulse.Program
	if p.ProgramID != 0 {
		for i := range programs {
			if programs[i].ID == p.ProgramID && visible(programs[i]) {
				prog = &programs[i]
			}
		}
		if prog == nil {
			return nil, tandem.Errorf(tandem.ENOTFOUND, "There is no program %d.", p.ProgramID)
		}
	} else {
		counts, err := src.ProgramRoundCounts(ctx)
		if err != nil {
			return nil, err
		}
		for i := range programs {
			pr := &programs[i]
			if !visible(*pr) {
				continue
			}
			if prog == nil || counts[pr.ID] > counts[prog.ID] || (counts[pr.ID] == counts[prog.ID] && pr.ID < prog.ID) {
				prog = pr
			}
		}
	}
	in := CorrelationInput{Tree: tree, TeamScores: []store.TeamScoreRow{}}
	if prog != nil {
		p.ProgramID, p.Program = prog.ID, prog.Name
		if in.Rounds, err = src.RoundsBetween(ctx, prog.ID, p.From, p.To); err != nil {
			return nil, err
		}
		if in.TeamScores, in.Respondents, err = l.roundInputs(ctx, in.Rounds); err != nil {
			return nil, err
		}
	}
	rows, err := cust()
	if err != nil {
		return nil, err
	}
	in.Customer = rows
	in.Params = p
	return BuildCorrelation(in)
}
