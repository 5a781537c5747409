package report

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

func timeOfDay(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// team holds one team's period values, indexed by period (see
// BuildCorrelation's periods): the respondent-weighted sums of the
// measures laid out (panel.fill), and the customer value with its number
// of ratings.
type team struct {
	unit    *tandem.Unit
	sum     [][]float64 // [measure][period] Σ value·respondents; nil if none or not laid out
	weight  [][]int32   // [measure][period] Σ respondents
	idx     int         // order of creation: the team's stretch of the customer totals
	cust    []float64   // [period] customer value, NaN if too few ratings
	ratings []int32     // [period]
}

func (t *team) value(m, p int) (float64, bool) {
	if t.weight[m] == nil || t.weight[m][p] == 0 {
		return math.NaN(), false
	}
	return t.sum[m][p] / float64(t.weight[m][p]), true
}

// panel is the report's team × period table: every team with a usable
// value in a round (shown in that round's anonymity decision, all its
// respondents its own, in scope), its respondent-weighted measure values
// per engagement period, and its customer value per period — MaxLag
// periods before the engagement periods (for customers leading), the
// engagement periods from..to, and then MaxLag more.
type panel struct {
	measures   []string // pulse.TeamScoreMeasures()
	periodDays []int64  // each period's first day (days since 1970)
	pre        int      // index of the first engagement period (MaxLag)
	nEng       int      // periods with engagement values, pre…pre+nEng−1; the rest are for lags
	teams      []*team  // by path, then id
	// usedRounds counts the rounds in the range; anyCustomer says whether
	// any customer total fell in scope and range.
	usedRounds  int
	anyCustomer bool
	// rounds are the rounds in the range by id, byUnit the teams by unit
	// id, inScope the unit filter: the agreement figures apply the same
	// rule as the scores.
	rounds  map[int64]roundInfo
	byUnit  map[int64]*team
	inScope func(int64) bool
	fe      *stats.FECache // where the within fits keep their factorisations; nil: nowhere
	// used are the team-rounds that may enter the report, one run per
	// run of scores, in the scores' order: fill lays a measure's sums out
	// from them. Only the report's measure and the index are laid out
	// for the whole build; each driver's are laid out while its link is
	// worked out and let go after (at 2,500 teams and two years of weeks
	// a measure's arrays are 3.5 MB; all eleven were most of the panel).
	used []usedRun
	// sums holds each laid-out measure's arrays (nil when not laid out),
	// every team's periods in one block (team t's at t.idx·periods);
	// spare holds blocks of measures let go, for the next measure laid
	// out: the drivers lay out one measure after another, and a block
	// each was 3.5 MB of garbage.
	sums  []measureSums // by measure
	spare []measureSums
}

// measureSums is the block a measure's sums and weights are laid out in.
type measureSums struct {
	sum    []float64
	weight []int32
}

// usedRun is one run of scores' usable team-rounds: the team and
// respondents of the units at rows of rs, all in period pi.
type usedRun struct {
	rs   *roundScores
	pi   int
	rows []usedRow
}

type usedRow struct {
	t *team
	i int32 // the unit's row in rs
	n int32 // its respondents
}

// fill lays out measure m's respondent-weighted sums per team and period,
// adding the values in the order of the scores' rows, as one pass over the
// rows would. Done once per measure, and only before keepOnly (which
// lets go of the rows); drop lets a measure go.
func (pn *panel) fill(m int) {
	if m < 0 || m >= len(pn.sums) || pn.sums[m].sum != nil {
		return
	}
	nP := len(pn.periodDays)
	var b measureSums
	if k := len(pn.spare); k > 0 {
		b, pn.spare = pn.spare[k-1], pn.spare[:k-1]
		clear(b.sum)
		clear(b.weight)
	} else {
		b = measureSums{make([]float64, len(pn.teams)*nP), make([]int32, len(pn.teams)*nP)}
	}
	pn.sums[m] = b
	for _, run := range pn.used {
		j := run.rs.col(m)
		if j < 0 {
			continue
		}
		for _, u := range run.rows {
			v := run.rs.at(int(u.i), j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			t := u.t
			if t.sum[m] == nil {
				lo, hi := t.idx*nP, (t.idx+1)*nP
				t.sum[m], t.weight[m] = b.sum[lo:hi:hi], b.weight[lo:hi:hi]
			}
			t.sum[m][run.pi] += v * float64(u.n)
			t.weight[m][run.pi] += u.n
		}
	}
}

// drop lets go of measure m's sums (see fill), keeping their block for
// the next measure laid out. Each team's slot of a measure is its own
// element of the team's slices, so dropping one measure does not race
// with readers of another; fill and drop themselves run on one goroutine
// at a time (the build's, then the drivers').
func (pn *panel) drop(m int) {
	if m < 0 || m >= len(pn.sums) {
		return
	}
	if pn.sums[m].sum != nil {
		pn.spare = append(pn.spare, pn.sums[m])
		pn.sums[m] = measureSums{}
	}
	for _, t := range pn.teams {
		t.sum[m], t.weight[m] = nil, nil
	}
}

// newPanel applies each round's anonymity decision to the inputs and
// lays out the team-periods the figures are computed from.
func newPanel(in CorrelationInput, p CorrelationParams) *panel {
	tree := in.Tree
	if tree == nil {
		tree = tandem.NewTree(nil)
	}
	scores := in.scores
	if scores == nil {
		rows := in.TeamScores
		if rows == nil {
			rows = pulse.TeamScoresOf(in.ScoreRows, in.Questions)
		}
		scores = scoreColumns(rows)
	}
	measures := pulse.TeamScoreMeasures()

	// Periods: MaxLag before the engagement periods, the engagement
	// periods from..to, then MaxLag more for the customer side.
	from, to := tandem.Today(p.From), tandem.Today(p.To)
	var periodDays []int64
	periodOf := map[int64]int{}
	last := tandem.PeriodStart(p.Period, to)
	first := tandem.PeriodStart(p.Period, from)
	for range MaxLag {
		first = prevPeriod(p.Period, first)
	}
	for d := first; !d.After(last); d = tandem.NextPeriod(p.Period, d) {
		periodOf[dayOf(d)] = len(periodDays)
		periodDays = append(periodDays, dayOf(d))
	}
	pre := MaxLag
	nEng := len(periodDays) - pre
	for d, i := tandem.NextPeriod(p.Period, last), 0; i < MaxLag; d, i = tandem.NextPeriod(p.Period, d), i+1 {
		periodOf[dayOf(d)] = len(periodDays)
		periodDays = append(periodDays, dayOf(d))
	}
	nP := len(periodDays)

	scoped := map[int64]bool{}
	inScope := func(u int64) bool {
		in, ok := scoped[u]
		if !ok {
			in = tree.InScope(p.UnitID, u)
			scoped[u] = in
		}
		return in
	}
	if p.UnitID == 0 { // the whole organisation: every unit (tree.InScope)
		inScope = func(int64) bool { return true }
	}
	teams := map[int64]*team{}
	newTeam := func(u int64) *team {
		t := &team{unit: tree.Unit(u), idx: len(teams), sum: make([][]float64, len(measures)), weight: make([][]int32, len(measures)),
			cust: make([]float64, nP), ratings: make([]int32, nP)}
		for i := range t.cust {
			t.cust[i] = math.NaN()
		}
		return t
	}

	// Engagement side: each round's anonymity decision, then the usable
	// team-rounds weighted into team-periods.
	rounds := map[int64]roundInfo{}
	for _, r := range in.Rounds {
		day, err := tandem.ParseDate(r.Period)
		if err != nil {
			day = tandem.Today(r.ScheduledAt)
		}
		if day.Before(from) || day.After(to) {
			continue
		}
		rounds[r.ID] = roundInfo{own: decided(in.own, tree, in.Respondents, r), pi: periodOf[dayOf(tandem.PeriodStart(p.Period, day))]}
	}
	usedRounds := len(rounds)
	var used []usedRun
	for k := range scores {
		rs := &scores[k]
		r, ok := rounds[rs.round]
		if !ok {
			continue
		}
		run := usedRun{rs: rs, pi: r.pi, rows: make([]usedRow, 0, len(rs.units))}
		for i, unit := range rs.units {
			n, ok := r.usable(unit, inScope)
			if !ok {
				continue
			}
			t := teams[unit]
			if t == nil {
				t = newTeam(unit)
				teams[unit] = t
			}
			run.rows = append(run.rows, usedRow{t: t, i: int32(i), n: int32(n)})
		}
		if len(run.rows) > 0 {
			used = append(used, run)
		}
	}

	// Customer side, for the teams that have engagement values: the
	// totals of team t's period pi at t.idx·nP + pi, only while the
	// customer values are worked out (kept per team, they were 40 bytes a
	// team-period for the whole build).
	anyCustomer := false
	var tot []tandem.CustomerTotals
	piOf := map[int64]int{}                     // a row's period (Unix seconds) → period index, −1 outside
	lastKey, lastPi := int64(math.MinInt64), -1 // the rows come a period at a time
	in.eachCustomer(func(unit int64, period time.Time, c tandem.CustomerTotals) {
		key := period.Unix()
		pi := lastPi
		if key != lastKey {
			var ok bool
			if pi, ok = piOf[key]; !ok {
				pi = -1
				if i, ok := periodOf[dayOf(tandem.PeriodStart(p.Period, period))]; ok {
					pi = i
				}
				piOf[key] = pi
			}
			lastKey, lastPi = key, pi
		}
		if pi < 0 || !inScope(unit) {
			return
		}
		anyCustomer = anyCustomer || pi >= pre
		t := teams[unit]
		if t == nil {
			return
		}
		if tot == nil {
			tot = make([]tandem.CustomerTotals, len(teams)*nP)
		}
		tot[t.idx*nP+pi].Merge(c)
	})
	for _, t := range teams {
		if tot == nil {
			break
		}
		for pi, tt := range tot[t.idx*nP : (t.idx+1)*nP] {
			t.ratings[pi] = int32(tt.N)
			if tt.N > 0 && tt.N >= p.MinRatings {
				t.cust[pi] = tt.Headline(p.Customer)
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
	return &panel{measures: measures, periodDays: periodDays, pre: pre, nEng: nEng, teams: order, usedRounds: usedRounds, anyCustomer: anyCustomer,
		rounds: rounds, byUnit: teams, inScope: inScope, fe: in.fe, used: used, sums: make([]measureSums, len(measures))}
}

// eachCustomer calls f with each unit's customer totals in each period:
// the loader's kept totals in place, else Customer's rows.
func (in *CorrelationInput) eachCustomer(f func(unit int64, period time.Time, c tandem.CustomerTotals)) {
	if in.customer != nil {
		in.customer.each(f)
		return
	}
	for i := range in.Customer {
		c := &in.Customer[i]
		f(c.UnitID, c.Period, c.CustomerTotals)
	}
}

// keepOnly lets go of every measure's sums but m's, once the drivers
// (the only readers of the index's, besides a report on the index) are
// done: the lag scan and the within fit run on long after.
func (pn *panel) keepOnly(m int) {
	for k := range pn.sums {
		if k != m {
			pn.drop(k)
		}
	}
	pn.used, pn.spare = nil, nil // nothing is laid out after the drivers
}

// roundScores is a run of pulse.TeamScoreRows of one round in columns:
// units[i]'s value on measure cols[j] (an index into
// pulse.TeamScoreMeasures()) is vals[i·len(cols)+j]. A measure that no
// unit of the run has a value on (NaN) has no column: a round asks a
// few of the drivers, and a row struct with a slice of every measure
// per unit was most of what the loader keeps of two years of rounds.
type roundScores struct {
	round int64
	units []int64
	cols  []int
	vals  []float64
}

// col returns the column of measure m, −1 when the run has none (every
// value NaN).
func (rs *roundScores) col(m int) int {
	return slices.Index(rs.cols, m)
}

// at returns units[i]'s value in column j.
func (rs *roundScores) at(i, j int) float64 { return rs.vals[i*len(rs.cols)+j] }

// scoreColumns lays out rows in columns, one roundScores per run of rows
// of the same round, keeping their order (the order in which each
// team-period's sums add up).
func scoreColumns(rows []pulse.TeamScoreRow) []roundScores {
	var out []roundScores
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && rows[hi].RoundID == rows[lo].RoundID {
			hi++
		}
		out = append(out, newRoundScores(rows[lo:hi]))
		lo = hi
	}
	return out
}

// newRoundScores lays out rows of one round in columns. A value missing
// from a short row is NaN, as is every value of a column left out.
func newRoundScores(rows []pulse.TeamScoreRow) roundScores {
	rs := roundScores{units: make([]int64, len(rows))}
	var has []bool
	for i, r := range rows {
		rs.round, rs.units[i] = r.RoundID, r.UnitID
		for m, v := range r.Values {
			if !math.IsNaN(v) {
				for len(has) <= m {
					has = append(has, false)
				}
				has[m] = true
			}
		}
	}
	for m, ok := range has {
		if ok {
			rs.cols = append(rs.cols, m)
		}
	}
	rs.vals = make([]float64, len(rows)*len(rs.cols))
	for i, r := range rows {
		for j, m := range rs.cols {
			v := math.NaN()
			if m < len(r.Values) {
				v = r.Values[m]
			}
			rs.vals[i*len(rs.cols)+j] = v
		}
	}
	return rs
}

// roundInfo is one round of the range: what its anonymity decision
// leaves for the report, and its period index.
type roundInfo struct {
	own roundOwn
	pi  int
}

// roundOwn is what a round's anonymity decision leaves for the report:
// the units shown in the round's global decision whose respondents are
// all their own (the count shown is the unit's direct count), with that
// count, in unit id order; and the threshold K the round was decided with.
// A closed round's never changes while the tree is the same, so the
// loader keeps it instead of deciding every round again for each report.
type roundOwn struct {
	k     int
	units []int64
	n     []int32
}

// count returns the respondents of unit when its answers may enter a
// report: it is shown, and every respondent counted for it is its own.
// The correlation and the retention reports both read a round through it.
func (o roundOwn) count(unit int64) (int, bool) {
	i, ok := slices.BinarySearch(o.units, unit)
	if !ok {
		return 0, false
	}
	return int(o.n[i]), true
}

// decided returns round r's decision: the one in kept (the loader's,
// made for this tree and threshold) if there is one, else ownOf its
// respondents. The correlation and the retention reports both take a
// round's decision from here.
func decided(kept map[int64]roundOwn, tree *tandem.Tree, respondents map[int64]pulse.UnitCounts, r pulse.Round) roundOwn {
	if o, ok := kept[r.ID]; ok {
		return o
	}
	return ownOf(tree, respondents[r.ID], r.MinGroup)
}

// ownOf decides a round (privacy.Decide on the whole tree with the
// round's direct respondents and threshold) and keeps what the report
// reads of the decision.
func ownOf(tree *tandem.Tree, direct pulse.UnitCounts, minGroup int) roundOwn {
	vis := privacy.Decide(tree, direct, minGroup)
	o := roundOwn{k: vis.K()}
	usable := func(unit int64, n int) bool { return n > 0 && vis.Shown(unit) && vis.Count(unit) == n }
	count := 0
	for unit, n := range direct {
		if usable(unit, n) {
			count++
		}
	}
	o.units = make([]int64, 0, count) // kept per closed round: no room to grow
	for unit, n := range direct {
		if usable(unit, n) {
			o.units = append(o.units, unit)
		}
	}
	slices.Sort(o.units)
	o.n = make([]int32, len(o.units))
	for i, unit := range o.units {
		o.n[i] = int32(direct[unit])
	}
	return o
}

// usable says whether a unit's answers in this round may enter the report
// and how many respondents it has: shown in the round's global decision,
// all of the unit's respondents its own (so the value is exactly the
// aggregate the results pages show for the unit), and in scope.
func (r roundInfo) usable(unit int64, inScope func(int64) bool) (int, bool) {
	n, ok := r.own.count(unit)
	if !ok || !inScope(unit) {
		return 0, false
	}
	return n, true
}

// prevPeriod returns the start of the period before the one starting at p.
func prevPeriod(kind string, p time.Time) time.Time {
	if kind == tandem.Month {
		return p.AddDate(0, -1, 0)
	}
	return p.AddDate(0, 0, -7)
}

// pairsAt returns the pooled pairs of measure m at lag (customer period =
// engagement period + lag), teams in order, then periods, laid out in x
// and y from their start (grown when too short): the drivers and lags
// each correlate a set of pairs and are done with it, so one pair of
// arrays serves them all.
func (pn *panel) pairsAt(m, lag int, x, y []float64) ([]float64, []float64) {
	x, y = x[:0], y[:0]
	if m < 0 {
		return x, y
	}
	n := pn.countPairs(m, lag)
	x, y = slices.Grow(x, n), slices.Grow(y, n)
	for t, pi := range pn.pairs(m, lag) {
		ev, _ := t.value(m, pi)
		x, y = append(x, ev), append(y, t.cust[pi+lag])
	}
	return x, y
}

// pairs yields the team and engagement period of each pair of measure m
// at lag, teams in order, then periods. Small enough that the compiler
// inlines it and the loop body at each range over it: a body called
// through a function value would store the slices it appends to through
// a pointer, each store passing the collector's write barrier while a
// collection runs (3.7 % of a cold report's CPU under a memory limit).
func (pn *panel) pairs(m, lag int) iter.Seq2[*team, int] {
	return func(yield func(*team, int) bool) {
		for _, t := range pn.teams {
			for pi := pn.pre; pi < pn.pre+pn.nEng && t.weight[m] != nil; pi++ {
				if t.paired(m, pi, lag) && !yield(t, pi) {
					return
				}
			}
		}
	}
}

// countPairs counts the pairs of measure m at lag (pairsAt's), without
// working out their values: the drivers and lags count before they lay
// pairs out.
func (pn *panel) countPairs(m, lag int) int {
	n := 0
	for range pn.pairs(m, lag) {
		n++
	}
	return n
}

// paired reports whether team t has a pair of measure m at lag in
// engagement period pi: a value of m, and a customer value lag periods on.
func (t *team) paired(m, pi, lag int) bool {
	return t.weight[m][pi] > 0 && !math.IsNaN(t.cust[pi+lag])
}

// pairList lays out the report's pairs of measure m at lag (pairsAt's),
// each with its team, numbered in order of first appearance, its period,
// respondents and ratings; byTeam is the panel's team of each code, for
// the build only (a kept report must not keep the panel alive).
func (pn *panel) pairList(m, lag int, dates []string) (pl pairList, byTeam []*team) {
	n := 0
	if m >= 0 {
		n = pn.countPairs(m, lag)
	}
	pl = pairList{dates: dates, lag: lag, team: make([]int32, 0, n), period: make([]int32, 0, n),
		engagement: make([]float64, 0, n), customer: make([]float64, 0, n), respondents: make([]int32, 0, n), ratings: make([]int32, 0, n)}
	if m < 0 {
		return pl, nil
	}
	for t, pi := range pn.pairs(m, lag) {
		if len(byTeam) == 0 || byTeam[len(byTeam)-1] != t { // a team's pairs come together
			pl.teams, byTeam = append(pl.teams, pairTeam{t.unit.Path, t.unit.ID}), append(byTeam, t)
		}
		v, _ := t.value(m, pi)
		pl.team, pl.period = append(pl.team, int32(len(pl.teams)-1)), append(pl.period, int32(pi))
		pl.engagement, pl.customer = append(pl.engagement, v), append(pl.customer, t.cust[pi+lag])
		pl.respondents, pl.ratings = append(pl.respondents, t.weight[m][pi]), append(pl.ratings, t.ratings[pi+lag])
	}
	return pl, byTeam
}

// driverLinks links each driver with data in the panel to the customer
// measure at lag (and to the engagement index in the same period), with
// Benjamini–Hochberg q-values over the drivers tested, strongest first,
// and each driver's score (driverScore; dates are the periods' dates).
// Drivers are tested in key order so that the q-values depend on nothing
// else. Each driver's sums are laid out for its link and score alone,
// unless it is the report's measure (keep).
func (pn *panel) driverLinks(lag, keep int, dates []string) []DriverLink {
	measures, order, lo, hi := pn.measures, pn.teams, pn.pre, pn.pre+pn.nEng
	const index = 0 // measures[0] is the engagement index
	pn.fill(index)
	var drivers []int
	for m := range measures {
		if measures[m] != pulse.MeasureIndex && measures[m] != pulse.MeasureENPS {
			drivers = append(drivers, m)
		}
	}
	slices.SortFunc(drivers, func(a, b int) int { return cmp.Compare(measures[a], measures[b]) })
	out := make([]DriverLink, 0, len(drivers))
	var dx, dy, ex, ey []float64
	for _, d := range drivers {
		pn.fill(d)
		if !slices.ContainsFunc(order, func(t *team) bool { return t.weight[d] != nil }) {
			continue // no data: not a driver of this panel
		}
		dx, dy = pn.pairsAt(d, lag, dx, dy)
		ex, ey = slices.Grow(ex[:0], len(dx)), slices.Grow(ey[:0], len(dx))
		for _, t := range order {
			for pi := lo; pi < hi && t.weight[d] != nil; pi++ {
				dv, ok1 := t.value(d, pi)
				iv, ok2 := t.value(index, pi)
				if ok1 && ok2 {
					ex, ey = append(ex, dv), append(ey, iv)
				}
			}
		}
		// The arrays are this loop's scratch: correlated in place.
		link := DriverLink{Driver: pulse.MeasureDriver(measures[d]), Label: pulse.MeasureLabel(measures[d]), Coef: coefOf(stats.PearsonInPlace(dx, dy)),
			REngagement: Num(stats.PearsonInPlace(ex, ey).R)}
		pn.driverScore(&link, d, dates)
		out = append(out, link)
		if d != keep {
			pn.drop(d)
		}
	}
	var ps []float64
	for _, d := range out {
		ps = append(ps, float64(d.P))
	}
	for i, q := range stats.BenjaminiHochberg(ps) {
		out[i].Q = Num(q)
	}
	slices.SortStableFunc(out, func(a, b DriverLink) int {
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

	return out
}

// comparisons counts the driver links that were tested (had a p-value).
func comparisons(links []DriverLink) int {
	n := 0
	for _, d := range links {
		if !math.IsNaN(float64(d.P)) {
			n++
		}
	}
	return n
}
