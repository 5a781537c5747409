package stats

import (
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// WithinResult is the two-way within (team and period fixed effects)
// association of y with x; see [TwoWayWithin]. Undefined values are NaN and
// Reason says why.
type WithinResult struct {
	N          int // observations used (rows with NaN x or y are dropped)
	Teams      int // teams among them
	Periods    int // distinct periods among them
	Components int // connected groups of teams and periods (1 unless the panel splits)
	DF         int // residual df: N − (Teams + Periods − Components) − 1

	Slope               float64 // change in y per unit of x within team and period
	SE                  float64 // conventional standard error (iid errors)
	T, P                float64 // conventional t = Slope/SE and two-sided p, Student's t with DF
	SlopeLow, SlopeHigh float64 // conventional 95% CI of the slope, t quantile with DF

	ClusterSE                         float64 // cluster-robust SE by team (Arellano; plm vcovHC type "sss")
	ClusterT, ClusterP                float64 // t = Slope/ClusterSE and two-sided p, Student's t with Teams−1 df
	ClusterSlopeLow, ClusterSlopeHigh float64 // cluster-robust 95% CI of the slope, t quantile with Teams−1 df

	R                         float64 // partial correlation of x and y after removing team and period effects
	RLow, RHigh               float64 // 95% CI of R: Fisher z with n = DF+2, as rmcorr
	RClusterLow, RClusterHigh float64 // cluster-robust CI of the slope on the correlation scale (×sd(x̃)/sd(ỹ)), clamped to [−1, 1]

	Reason string // why values are NaN; empty when everything is defined
}

// TwoWayWithin returns the two-way within estimate of the slope of y on x
// with team and period fixed effects,
//
//	y_it = α_i + τ_t + β·x_it + e_it,
//
// the model R's plm(y ~ x, index = c("team", "period"), model = "within",
// effect = "twoways") and lm(y ~ x + factor(team) + factor(period)) fit. By
// the Frisch–Waugh–Lovell theorem, β = Σx̃ỹ/Σx̃², where x̃ and ỹ are the
// residuals of x and y on the team and period dummies: each team's
// deviation from its own mean and from what every team did that period.
// Unbalanced panels (missing team-periods, repeated rows) are fitted
// exactly, not by iterated demeaning: teams are swept out by their means and
// the period effects solved from the normal equations of the team-demeaned
// period dummies (Baltagi, Econometric Analysis of Panel Data, §3.3 on
// unbalanced two-way panels; one period per connected group of teams and
// periods is the reference).
//
// Conventional inference: SE² = Σê²/DF / Σx̃² with DF = N − (Teams +
// Periods − Components) − 1, the residual df of lm; T, P and the 95 %
// interval use Student's t with DF. These equal lm's and plm's summary.
//
// Cluster-robust inference by team: the Arellano (1987) sandwich
//
//	V = G/(G−1) · Σ_g (Σ_{t∈g} x̃_gt ê_gt)² / (Σx̃²)²,  G = Teams,
//
// which is plm's vcovHC(m, method = "arellano", type = "sss", cluster =
// "group"); plm's "sss" factor G/(G−1)·(N−1)/(N−K) reduces to G/(G−1)
// because K = 1 (the fixed effects are swept out, not counted). ClusterP and
// the cluster interval use Student's t with G−1 df, as Stata and fixest do
// for clustered errors (Cameron & Miller 2015, J. Human Resources 50(2)),
// i.e. lmtest::coeftest(m, vcov = V, df = G − 1).
//
// R is the partial correlation Σx̃ỹ/√(Σx̃²Σỹ²), the correlation-scale
// companion of [RMCorr] (which removes team effects only); its t equals T.
// Its interval is rmcorr's, psych::r.con(R, DF+2): tanh(atanh R ±
// 1.959963984540054/√(DF−1)), NaN when DF = 1. RClusterLow/High restate the cluster interval
// of the slope on the correlation scale by the factor sd(x̃)/sd(ỹ), which
// maps Slope to R.
//
// Slope, SE, ClusterSE and the slope intervals are in the units of y per
// unit of x. When that slope does not fit in a float64 (x and y differ in
// scale by more than about 1e308) they are NaN while T, P, R and the
// correlation-scale intervals are still given; an interval end that
// overflows is ±Inf.
//
// Rows whose x or y is NaN are dropped. Degenerate input gives NaN values and
// a Reason, never a panic: lengths that differ, an infinite value, fewer
// than two teams or two periods, DF < 1, or x or y without variation once
// team and period effects are removed. A team seen once is kept (as lm
// keeps it): the fit absorbs it exactly and it counts in Teams and G.
func TwoWayWithin(team []string, period []int, x, y []float64) WithinResult {
	res := undefinedWithin()
	if len(team) != len(period) || len(period) != len(x) || len(x) != len(y) {
		res.Reason = "team, period, x and y have different lengths"
		return res
	}
	t, p, xs, ys := completeRows(team, period, x, y)
	return twoWayWithin(newFEPanel(t, p), xs, ys)
}

// TwoWayWithinCodes is [TwoWayWithin] with each row's team given as a code
// in [0, teams) and its period as a code in [0, periods), for a caller
// that has them: it saves a map look-up of a name per row (hundreds of
// thousands in a large report). Teams and periods are numbered in order of
// first appearance either way, so the result equals TwoWayWithin's with
// names that map one to one onto the codes. A code out of range gives a
// Reason.
func TwoWayWithinCodes(team []int, teams int, period []int, periods int, x, y []float64) WithinResult {
	return (*FECache)(nil).TwoWayWithinCodes(team, teams, period, periods, x, y)
}

// TwoWayWithinCodes is [TwoWayWithinCodes] keeping the panel's
// factorisation in c, or finding it there.
func (c *FECache) TwoWayWithinCodes(team []int, teams int, period []int, periods int, x, y []float64) WithinResult {
	return TwoWayWithinCodesIn(c, team, teams, period, periods, x, y)
}

// TwoWayWithinCodesIn is [FECache.TwoWayWithinCodes] (c may be nil) on
// codes of either width: the same result from int32 codes, for a caller
// that keeps hundreds of thousands of rows.
func TwoWayWithinCodesIn[C Code](c *FECache, team []C, teams int, period []C, periods int, x, y []float64) WithinResult {
	res := undefinedWithin()
	if len(team) != len(period) || len(period) != len(x) || len(x) != len(y) {
		res.Reason = "team, period, x and y have different lengths"
		return res
	}
	for i := range team {
		if team[i] < 0 || int(team[i]) >= teams || period[i] < 0 || int(period[i]) >= periods {
			res.Reason = "a team or period code is out of range"
			return res
		}
	}
	if !slices.ContainsFunc(x, math.IsNaN) && !slices.ContainsFunc(y, math.IsNaN) {
		// Every row complete: the fit reads the codes as they are and
		// scales copies of x and y (a report's pairs always are, and the
		// codes are 16 bytes a row).
		return twoWayWithin(newFEPanelCodes(c, team, teams, period, periods), slices.Clone(x), slices.Clone(y))
	}
	t, p, xs, ys := completeRows(team, period, x, y)
	return twoWayWithin(newFEPanelCodes(c, t, teams, p, periods), xs, ys)
}

// completeRows returns the rows whose x and y are both numbers, in
// arrays of their own.
func completeRows[T any, P Code](team []T, period []P, x, y []float64) ([]T, []P, []float64, []float64) {
	n := 0
	for i := range x {
		if !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
			n++
		}
	}
	t, p := make([]T, 0, n), make([]P, 0, n)
	xs, ys := make([]float64, 0, n), make([]float64, 0, n)
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		t, p = append(t, team[i]), append(p, period[i])
		xs, ys = append(xs, x[i]), append(ys, y[i])
	}
	return t, p, xs, ys
}

// twoWayWithin fits TwoWayWithin on complete rows described by pn.
func twoWayWithin(pn *fePanel, xs, ys []float64) WithinResult {
	res, _, _ := withinFit(pn, xs, ys)
	return res
}

// withinFit is twoWayWithin that also returns the two-way residuals of x
// and y (in a power-of-two scaling of each, which leaves correlations
// unchanged); they are nil when Reason is set. It scales xs and ys in
// place: its callers pass arrays they do not read again.
func withinFit(pn *fePanel, xs, ys []float64) (res WithinResult, xr, yr []float64) {
	res = undefinedWithin()
	res.N, res.Teams, res.Periods, res.Components = pn.n, pn.teams, pn.periods, pn.comps
	if df := pn.n - (pn.teams + pn.periods - pn.comps) - 1; df > 0 {
		res.DF = df
	}
	switch {
	case pn.n == 0:
		res.Reason = "no observation has both values"
		return res, nil, nil
	case pn.teams < 2:
		res.Reason = "needs at least two teams"
		return res, nil, nil
	case pn.periods < 2:
		res.Reason = "needs at least two periods"
		return res, nil, nil
	case res.DF < 1:
		res.Reason = "too few observations for the team and period effects"
		return res, nil, nil
	}
	// In place: the callers' arrays are their own and not read again. x
	// and y are scaled and residualised side by side: each is worked on
	// by one goroutine alone, in the order it was, so every value is the
	// same to the bit, and a lag scan's fit (its longest step) takes half
	// the time on a free core.
	var ex, ey int
	var okx, oky bool
	both(len(xs), func() { ex, okx = scaleInPlace(xs) }, func() { ey, oky = scaleInPlace(ys) })
	if !okx || !oky {
		res.Reason = "a value is infinite"
		return res, nil, nil
	}
	if !pn.ok {
		res.Reason = "the team and period effects could not be separated"
		return res, nil, nil
	}
	pn.xr = slices.Grow(pn.xr[:0], len(xs))[:len(xs)]
	pn.yr = slices.Grow(pn.yr[:0], len(ys))[:len(ys)]
	both(len(xs), func() { xr = pn.residualizeTo(pn.xr, xs) }, func() { yr = pn.residualizeTo(pn.yr, ys) })
	var sxx, syy, sxy float64
	for i := range xr {
		sxx += xr[i] * xr[i]
		syy += yr[i] * yr[i]
		sxy += xr[i] * yr[i]
	}
	// Scaled, every |value| is below 1, so each squared deviation from
	// the mean is below 4 and the sum of them below 8n even as rounded:
	// a residual sum of squares above negligible·8n cannot be negligible,
	// and the two passes of sumSqDev (a sixth of a lag's fit) are skipped.
	bound := negligible * 8 * float64(len(xs))
	if sxx <= bound && sxx <= negligible*sumSqDev(xs) {
		res.Reason = "x does not vary within teams and periods"
		return res, nil, nil
	}
	if syy <= bound && syy <= negligible*sumSqDev(ys) {
		res.Reason = "y does not vary within teams and periods"
		return res, nil, nil
	}
	b := sxy / sxx
	var ssr float64
	meat := make([]float64, pn.teams)
	for i := range xr {
		u := yr[i] - b*xr[i]
		ssr += u * u
		meat[pn.team[i]] += xr[i] * u
	}
	var m float64
	for _, s := range meat {
		m += s * s
	}
	g := float64(pn.teams)
	df := float64(res.DF)
	se := math.Sqrt(ssr / df / sxx)
	cse := math.Sqrt(g / (g - 1) * m / (sxx * sxx))
	res.T, res.P = tStat(b, se, df)
	res.ClusterT, res.ClusterP = tStat(b, cse, g-1)
	// Back to the original units: x and y were scaled by 2^-ex and 2^-ey.
	// When x and y differ in scale by more than a float64 spans, the slope
	// and its errors do not fit in one; they stay NaN (as RMCorr's slope
	// does) while the scale-free t, p and R below still stand.
	unit := func(v float64) float64 { return math.Ldexp(v, ey-ex) }
	if slope, s, cs := unit(b), unit(se), unit(cse); isFinite(slope) && isFinite(s) && isFinite(cs) {
		res.Slope, res.SE, res.ClusterSE = slope, s, cs
		res.SlopeLow, res.SlopeHigh = tInterval(slope, s, df)
		res.ClusterSlopeLow, res.ClusterSlopeHigh = tInterval(slope, cs, g-1)
	}

	r := sxy / (math.Sqrt(sxx) * math.Sqrt(syy))
	res.R = math.Max(-1, math.Min(1, r))
	res.RLow, res.RHigh = FisherCI(res.R, res.DF+2, 0.95)
	toR := math.Sqrt(sxx) / math.Sqrt(syy)
	q := tQuantile975(g - 1)
	res.RClusterLow = math.Max(-1, math.Min(1, (b-q*cse)*toR))
	res.RClusterHigh = math.Max(-1, math.Min(1, (b+q*cse)*toR))
	return res, xr, yr
}

// negligible is the share of a variable's sum of squares below which its
// residual after removing team and period effects counts as zero: the sweep
// leaves rounding of about 1e-16 relative where the effects explain
// everything.
const negligible = 1e-24

func sumSqDev(v []float64) float64 {
	var mean float64
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var s float64
	for _, x := range v {
		s += (x - mean) * (x - mean)
	}
	return s
}

func undefinedWithin() WithinResult {
	nan := math.NaN()
	return WithinResult{
		Slope: nan, SE: nan, T: nan, P: nan, SlopeLow: nan, SlopeHigh: nan,
		ClusterSE: nan, ClusterT: nan, ClusterP: nan, ClusterSlopeLow: nan, ClusterSlopeHigh: nan,
		R: nan, RLow: nan, RHigh: nan, RClusterLow: nan, RClusterHigh: nan,
	}
}

// tStat returns t = b/se and its two-sided p with df degrees of freedom; a
// zero se (a perfect fit) gives t = ±Inf and p = 0.
func tStat(b, se, df float64) (t, p float64) {
	switch {
	case se == 0 && b == 0:
		return math.NaN(), math.NaN()
	case se == 0:
		return math.Copysign(math.Inf(1), b), 0
	}
	t = b / se
	return t, TTwoSidedP(t, df)
}

// tInterval returns est ± t_{0.975, df}·se.
func tInterval(est, se, df float64) (lo, hi float64) {
	q := tQuantile975(df)
	return est - q*se, est + q*se
}

// tQuantile975 is the 0.975 quantile of Student's t with df degrees of
// freedom (R's qt(0.975, df)); NaN when df ≤ 0.
func tQuantile975(df float64) float64 {
	if !(df > 0) {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975)
}

// fePanel describes the team and period fixed effects of a set of rows and
// removes them from any variable measured on those rows.
type fePanel struct {
	n, teams, periods, comps int
	team                     []int32   // team index of each row
	col                      []int32   // period-dummy column of each row; −1 for a reference period
	rows                     [][]int32 // rows of each team
	q                        int       // period-dummy columns (periods − components)
	chol                     *mat.Cholesky
	ok                       bool // false when the period normal equations are singular

	// Arrays a panel rebuilt in place (reuse) keeps for the next build: the
	// rows of all teams, and the residuals withinFit returns.
	xr, yr  []float64
	allRows []int32
}

// newFEPanel indexes teams and periods in order of first appearance and
// builds their fixed-effects panel; see newFEPanelCodes.
func newFEPanel(team []string, period []int) *fePanel {
	teamOf := map[string]int{}
	periodOf := map[int]int{}
	tc := make([]int, len(team))
	pc := make([]int, len(team))
	for i := range team {
		ti, seen := teamOf[team[i]]
		if !seen {
			ti = len(teamOf)
			teamOf[team[i]] = ti
		}
		pi, seen := periodOf[period[i]]
		if !seen {
			pi = len(periodOf)
			periodOf[period[i]] = pi
		}
		tc[i], pc[i] = ti, pi
	}
	return newFEPanelCodes(nil, tc, len(teamOf), pc, len(periodOf))
}

// newFEPanelCodes builds the panel of rows whose team codes lie in
// [0, nTeams) and period codes in [0, nPeriods); codes without rows are
// left out and the rest numbered in order of first appearance. It finds the
// connected groups of the bipartite team–period graph, drops the first period
// of each group as its reference, and factorises the Gram matrix of the
// team-demeaned period dummies, D'M_team D = diag(counts) − Σ_i d_i d_i'/n_i,
// where d_i counts team i's rows in each period. With a cache it takes the
// factorisation from there when these codes were factorised before, and
// keeps it there otherwise.
func newFEPanelCodes[C Code](cache *FECache, teamCode []C, nTeams int, periodCode []C, nPeriods int) *fePanel {
	pn := &fePanel{}
	reuseFEPanel(pn, cache, teamCode, nTeams, periodCode, nPeriods)
	return pn
}

// Code is a team or period code: int, or int32 where a caller keeps
// hundreds of thousands of them (a report's pairs, the lag scan's).
type Code interface{ ~int | ~int32 }

// reuseFEPanel makes pn the panel newFEPanelCodes makes, in the arrays pn
// already has where they are long enough: a lag scan builds one panel per
// lag, each of hundreds of thousands of rows, and reads each only until
// the next.
func reuseFEPanel[C Code](pn *fePanel, cache *FECache, teamCode []C, nTeams int, periodCode []C, nPeriods int) {
	n := len(teamCode)
	*pn = fePanel{n: n, team: slices.Grow(pn.team[:0], n)[:n], col: slices.Grow(pn.col[:0], n)[:n], ok: true,
		allRows: pn.allRows, xr: pn.xr, yr: pn.yr}
	teamIdx := make([]int, nTeams)
	periodIdx := make([]int, nPeriods)
	for i := range teamIdx {
		teamIdx[i] = -1
	}
	for i := range periodIdx {
		periodIdx[i] = -1
	}
	pidx := pn.col // each row's period index until it is replaced by its column below
	var size []int // rows of each team
	for i := range teamCode {
		ti := teamIdx[teamCode[i]]
		if ti < 0 {
			ti = pn.teams
			teamIdx[teamCode[i]] = ti
			pn.teams++
			size = append(size, 0)
		}
		pn.team[i] = int32(ti)
		size[ti]++
		pi := periodIdx[periodCode[i]]
		if pi < 0 {
			pi = pn.periods
			periodIdx[periodCode[i]] = pi
			pn.periods++
		}
		pidx[i] = int32(pi)
	}
	// Each team's rows, in row order, as one stretch of a shared array: a
	// slice per team grown by append costs an allocation per team and fit,
	// which at thousands of teams and a fit per lag dominated the scan.
	all := slices.Grow(pn.allRows[:0], n)[:n]
	pn.allRows = all
	pn.rows = make([][]int32, pn.teams)
	off := 0
	for ti, k := range size {
		pn.rows[ti] = all[off : off : off+k]
		off += k
	}
	for i, ti := range pn.team {
		pn.rows[ti] = append(pn.rows[ti], int32(i))
	}

	// The same codes factorised before: their groups, columns and
	// factorisation are what the rest of this function would make.
	var key feKey
	if cache != nil {
		key = feKeyOf(cache, teamCode, nTeams, periodCode, nPeriods)
		if f := cache.get(key, pn.periods); f != nil {
			pn.comps, pn.q, pn.chol, pn.ok = f.comps, pn.periods-f.comps, f.chol, f.ok
			for i, pi := range pidx {
				pn.col[i] = int32(f.colOf[pi])
			}
			return
		}
	}

	// Union–find over nodes 0..teams−1 (teams) and teams.. (periods).
	parent := make([]int, pn.teams+pn.periods)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(a int) int {
		for parent[a] != a {
			parent[a] = parent[parent[a]]
			a = parent[a]
		}
		return a
	}
	for i := range pidx {
		a, b := find(int(pn.team[i])), find(pn.teams+int(pidx[i]))
		if a != b {
			parent[a] = b
		}
	}
	// The reference of each group is its first-seen period.
	hasRef := make([]bool, len(parent))
	colOf := make([]int, pn.periods)
	for pi := 0; pi < pn.periods; pi++ {
		root := find(pn.teams + pi)
		if !hasRef[root] {
			hasRef[root] = true
			pn.comps++
			colOf[pi] = -1
			continue
		}
		colOf[pi] = pn.q
		pn.q++
	}
	for i, pi := range pidx {
		pn.col[i] = int32(colOf[pi])
	}
	if pn.q == 0 {
		if cache != nil {
			cache.put(key, &feFactor{colOf: colOf, comps: pn.comps, ok: true})
		}
		return
	}
	// The upper triangle of the q×q Gram matrix, row-major. Each entry gets
	// one term per team, teams in order, so the order in which a team's
	// columns are visited does not change a bit of the sums. When a team has
	// each column at most once (always in ScanLags, which refuses repeated
	// team-periods) every term counts[c]·counts[d]/n_i is 1/n_i, computed
	// once per team.
	q := pn.q
	data := make([]float64, q*q)
	counts := make([]float64, q)
	cols := make([]int, 0, q)
	for _, rows := range pn.rows {
		cols = cols[:0]
		repeated := false
		for _, r := range rows {
			c := int(pn.col[r])
			if c < 0 {
				continue
			}
			if counts[c] == 0 {
				cols = append(cols, c)
			} else {
				repeated = true
			}
			counts[c]++
		}
		if len(cols) == 0 {
			continue
		}
		ni := float64(len(rows))
		for _, c := range cols {
			data[c*q+c] += counts[c]
		}
		if repeated {
			for ai, c := range cols {
				for _, d := range cols[ai:] {
					data[min(c, d)*q+max(c, d)] -= counts[c] * counts[d] / ni
				}
			}
		} else {
			// Every count is 1 or 0, so the term for columns c ≤ d is
			// w·counts[d], and subtracting the zero where the team lacks
			// column d leaves the entry as it was, to the bit: each row runs
			// over contiguous memory.
			w, last := 1/ni, slices.Max(cols)
			for _, c := range cols {
				row, cnt := data[c*q+c:c*q+last+1], counts[c:last+1]
				cnt = cnt[:len(row)]
				for j := range row {
					row[j] -= w * cnt[j]
				}
			}
		}
		for _, c := range cols {
			counts[c] = 0
		}
	}
	a := mat.NewSymDense(q, data)
	pn.chol = new(mat.Cholesky)
	pn.ok = pn.chol.Factorize(a)
	if cache != nil {
		cache.put(key, &feFactor{colOf: colOf, comps: pn.comps, chol: pn.chol, ok: pn.ok})
	}
}

// residualize returns the residuals of v (one value per row) on the team and
// period dummies.
func (pn *fePanel) residualize(v []float64) []float64 {
	return pn.residualizeTo(make([]float64, len(v)), v)
}

// residualizeTo is residualize writing into out, which has v's length and
// is not v; every element of out is written.
func (pn *fePanel) residualizeTo(out, v []float64) []float64 {
	// One buffer for every team's values. centre sums them with gonum's
	// floats.Sum, whose order of additions depends on whether the slice
	// starts on a 16-byte boundary; a fresh allocation of 16 bytes or more
	// always does, so every team's slice starts at the buffer's start, as
	// each team's own allocation did before.
	most := 4
	for _, rows := range pn.rows {
		most = max(most, len(rows))
	}
	buf := make([]float64, most)
	for _, rows := range pn.rows {
		g := buf[:len(rows)]
		for k, r := range rows {
			g[k] = v[r]
		}
		centre(g)
		for k, r := range rows {
			out[r] = g[k]
		}
	}
	if pn.q == 0 {
		return out
	}
	// Period effects: solve (D'M D) γ = D'M v; D'M v is the per-column sum
	// of the team-demeaned values (the team-mean part sums to zero).
	sums := make([]float64, pn.q)
	for i, c := range pn.col {
		if c >= 0 {
			sums[c] += out[i]
		}
	}
	var gamma mat.VecDense
	if err := pn.chol.SolveVecTo(&gamma, mat.NewVecDense(pn.q, sums)); err != nil {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	// The effect of a row's period, 0 for a reference period, read off the
	// solved vector's data rather than through its accessors.
	gv := gamma.RawVector()
	effect := func(r int32) float64 {
		if c := int(pn.col[r]); c >= 0 {
			return gv.Data[c*gv.Inc]
		}
		return 0
	}
	// Residual: ṽ − (Dγ − team mean of Dγ).
	for _, rows := range pn.rows {
		var mean float64
		for _, r := range rows {
			mean += effect(r)
		}
		mean /= float64(len(rows))
		for _, r := range rows {
			out[r] -= effect(r) - mean
		}
	}
	return out
}

// both runs f and g side by side, g on a goroutine of its own, and returns
// when both have; they must not write what the other reads. Under
// sideBySideFrom values (n) it runs them one after the other: starting a
// goroutine and waking a core costs more than it saves on a small
// organisation's arrays (at 11 teams a lag scan took a quarter longer).
func both(n int, f, g func()) {
	if n < sideBySideFrom {
		f()
		g()
		return
	}
	var wg sync.WaitGroup
	wg.Go(g)
	f()
	wg.Wait()
}

// sideBySideFrom is the fewest values both splits between two goroutines.
const sideBySideFrom = 16 << 10
