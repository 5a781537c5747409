package stats

// The implementation of ScanLags and of the two-way fixed-effects panel as
// they stood before the lag scan was reworked for speed (commit 2c18ab9),
// kept as the reference the reworked code must reproduce bit for bit; see
// lagfast_test.go. Only the names differ.

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// scaled is scaleInPlace on a copy of x, as the reference code called it.
func scaled(x []float64) (s []float64, e int, ok bool) {
	s = slices.Clone(x)
	if e, ok = scaleInPlace(s); !ok {
		return nil, 0, false
	}
	return s, e, true
}

func refScanLags(team []string, period []int, x, y []float64) LagScan {
	scan := LagScan{Persistence: Persistence{Sill: math.NaN(), Nugget: math.NaN()}}
	scan.Summary.Outside = []int{}
	if len(team) != len(period) || len(period) != len(x) || len(x) != len(y) {
		scan.Reason = "team, period, x and y have different lengths"
		return scan
	}
	// Team codes in order of first appearance; periods as offsets from the
	// first period, which the span guard keeps small enough for arrays.
	teamOf := map[string]int{}
	var names []string
	lo, hi := math.MaxInt, math.MinInt
	for i := range team {
		if _, ok := teamOf[team[i]]; !ok {
			teamOf[team[i]] = len(names)
			names = append(names, team[i])
		}
		lo, hi = min(lo, period[i]), max(hi, period[i])
		if math.IsInf(x[i], 0) || math.IsInf(y[i], 0) {
			scan.Reason = "a value is infinite"
			return scan
		}
	}
	if len(team) == 0 {
		scan.Reason = "no rows"
		return scan
	}
	span := hi - lo + 1
	if hi-lo < 0 || hi-lo >= maxPeriodSpan {
		scan.Reason = fmt.Sprintf("periods run from %d to %d; number them consecutively in the program's cadence", lo, hi)
		return scan
	}
	seen := make([][]bool, len(names))
	var xt, yt, xp, yp []int
	var xv, yv []float64
	for i := range team {
		ti, p := teamOf[team[i]], period[i]-lo
		if seen[ti] == nil {
			seen[ti] = make([]bool, span)
		}
		if seen[ti][p] {
			scan.Reason = fmt.Sprintf("team %q has period %d twice", team[i], period[i])
			return scan
		}
		seen[ti][p] = true
		if !math.IsNaN(x[i]) {
			xt, xp, xv = append(xt, ti), append(xp, p), append(xv, x[i])
		}
		if !math.IsNaN(y[i]) {
			yt, yp, yv = append(yt, ti), append(yp, p), append(yv, y[i])
		}
	}
	xs, reason := refNewSeries(xt, xp, xv, len(names), span)
	if reason != "" {
		scan.Reason = "engagement: " + reason
		return scan
	}
	ys, reason := refNewSeries(yt, yp, yv, len(names), span)
	if reason != "" {
		scan.Reason = "customers: " + reason
		return scan
	}

	scan.Persistence = refFitPersistence(xs)
	ex := xs.filter(scan.Persistence.Phi)
	ey := ys.filter(scan.Persistence.Phi)

	for lag := -MaxLag; lag <= MaxLag; lag++ {
		est := refLagEstimate(ex, ey, lag)
		if !math.IsNaN(est.P) {
			scan.Tests++
		}
		scan.Lags = append(scan.Lags, est)
	}
	scan.claim(LagAlpha)
	return scan
}

type refSeries struct {
	lo   []int
	vals [][]float64
	span int // periods run from 0 to span−1
	exp  int // the values are two-way residuals times 2^-exp
}

// at returns team t's value in period p, and whether it has one.
func (s *refSeries) at(t, p int) (float64, bool) {
	k := p - s.lo[t]
	if k < 0 || k >= len(s.vals[t]) {
		return 0, false
	}
	v := s.vals[t][k]
	return v, !math.IsNaN(v)
}

func refNewSeries(team, period []int, v []float64, teams, span int) (*refSeries, string) {
	pn := refFEPanelCodes(team, teams, period, span)
	switch {
	case pn.teams < 2:
		return nil, "needs at least two teams"
	case pn.periods < 2:
		return nil, "needs at least two periods"
	case !pn.ok:
		return nil, "team and period effects could not be separated"
	}
	sv, exp, _ := scaled(v) // a power of two: exact, and keeps squares finite
	res := pn.residualize(sv)
	s := &refSeries{lo: make([]int, teams), vals: make([][]float64, teams), span: span, exp: exp}
	first := make([]int, teams)
	last := make([]int, teams)
	for t := range first {
		first[t], last[t] = math.MaxInt, -1
	}
	for i, t := range team {
		first[t], last[t] = min(first[t], period[i]), max(last[t], period[i])
	}
	for t := range s.vals {
		if last[t] < 0 {
			continue
		}
		s.lo[t] = first[t]
		s.vals[t] = make([]float64, last[t]-first[t]+1)
		for k := range s.vals[t] {
			s.vals[t][k] = math.NaN()
		}
	}
	for i, t := range team {
		s.vals[t][period[i]-s.lo[t]] = res[i]
	}
	return s, ""
}

func (s *refSeries) filter(phi float64) *refSeries {
	out := &refSeries{lo: s.lo, vals: make([][]float64, len(s.vals)), span: s.span, exp: s.exp}
	for t, vals := range s.vals {
		if vals == nil {
			continue
		}
		e := make([]float64, len(vals))
		for k, v := range vals {
			switch {
			case phi == 0:
				e[k] = v
			case k == 0:
				e[k] = math.NaN()
			default:
				e[k] = v - phi*vals[k-1] // NaN when either is missing
			}
		}
		out.vals[t] = e
	}
	return out
}

func refFitPersistence(s *refSeries) Persistence {
	nan := math.NaN()
	per := Persistence{Sill: nan, Nugget: nan}
	span := 0
	for _, vals := range s.vals {
		span = max(span, len(vals)) // refNewSeries trims each team to its first and last value
	}
	k := min(maxVariogramDistance, span/4)
	per.Distances = k
	var dist, v, w []float64
	for d := 1; d <= k; d++ {
		var sum float64
		var n int
		for _, vals := range s.vals {
			for i := 0; i+d < len(vals); i++ {
				if diff := vals[i+d] - vals[i]; !math.IsNaN(diff) {
					sum += diff * diff / 2
					n++
				}
			}
		}
		if n > 0 {
			dist, v, w = append(dist, float64(d)), append(v, sum/float64(n)), append(w, float64(n))
			per.Pairs += n
		}
	}
	if len(dist) < 3 {
		per.Reason = "fewer than 3 variogram distances (under 12 periods): not filtered"
		return per
	}
	phi := fitVariogramPhi(dist, v, w)
	c, a, _ := variogramFit(phi, dist, v, w)
	if phi <= 0 || !(a > 0) {
		per.Reason = "no persistent component in engagement: not filtered"
		return per
	}
	// The residuals were scaled by 2^-exp; variances scale by its square.
	per.Phi, per.Sill, per.Nugget = phi, math.Ldexp(a, 2*s.exp), math.Ldexp(c, 2*s.exp)
	return per
}

func refLagEstimate(ex, ey *refSeries, lag int) LagEstimate {
	nan := math.NaN()
	est := LagEstimate{Lag: lag, R: nan, CILow: nan, CIHigh: nan, P: nan, PAdj: nan,
		PSerial: nan, Inflation: nan, EffectiveDF: nan, PCluster: nan}
	// Pairs; rowAt[t][k] is the pair of team t in period ex.lo[t]+k, or −1.
	var team, period []int
	var a, b []float64
	rowAt := make([][]int, len(ex.vals))
	for t, vals := range ex.vals {
		if vals == nil || ey.vals[t] == nil {
			continue
		}
		rowAt[t] = make([]int, len(vals))
		for k, v := range vals {
			rowAt[t][k] = -1
			if math.IsNaN(v) {
				continue
			}
			p := ex.lo[t] + k
			if q, ok := ey.at(t, p+lag); ok {
				rowAt[t][k] = len(team)
				team, period = append(team, t), append(period, p)
				a, b = append(a, v), append(b, q)
			}
		}
	}
	pn := refFEPanelCodes(team, len(ex.vals), period, ex.span)
	fit, ar, br := refWithinFit(pn, a, b)
	est.N, est.Teams, est.DF = fit.N, fit.Teams, fit.DF
	if fit.Reason != "" {
		est.Reason = fit.Reason
		return est
	}
	est.R = fit.R
	est.PCluster = fit.ClusterP

	// Bartlett's inflation from the pooled within-team autocorrelations of
	// the two residual refSeries.
	var saa, sbb float64
	for i := range ar {
		saa += ar[i] * ar[i]
		sbb += br[i] * br[i]
	}
	n := float64(fit.N)
	maxJ := max(1, fit.N/(5*fit.Teams))
	infl := 1.0
	for j := 1; j <= maxJ; j++ {
		var sa, sb float64
		var nj int
		for _, rows := range rowAt {
			for k := 0; k+j < len(rows); k++ {
				i, l := rows[k], rows[k+j]
				if i >= 0 && l >= 0 {
					sa += ar[i] * ar[l]
					sb += br[i] * br[l]
					nj++
				}
			}
		}
		if nj == 0 {
			continue
		}
		rhoA := (sa / float64(nj)) / (saa / n)
		rhoB := (sb / float64(nj)) / (sbb / n)
		infl += 2 * float64(nj) / n * rhoA * rhoB
	}
	est.Inflation = math.Max(1, infl)
	est.EffectiveDF = float64(fit.DF) / est.Inflation
	r := est.R
	switch {
	case math.Abs(r) == 1:
		est.PSerial = 0
	default:
		est.PSerial = TTwoSidedP(r*math.Sqrt(est.EffectiveDF/((1-r)*(1+r))), est.EffectiveDF)
	}
	slo, shi := fisherInterval(r, est.EffectiveDF+2)
	est.P = math.Max(est.PSerial, est.PCluster)
	est.CILow = math.Min(slo, fit.RClusterLow)
	est.CIHigh = math.Max(shi, fit.RClusterHigh)
	return est
}

func refWithinFit(pn *refPanel, xs, ys []float64) (res WithinResult, xr, yr []float64) {
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
	sx, ex, okx := scaled(xs)
	sy, ey, oky := scaled(ys)
	if !okx || !oky {
		res.Reason = "a value is infinite"
		return res, nil, nil
	}
	if !pn.ok {
		res.Reason = "the team and period effects could not be separated"
		return res, nil, nil
	}
	xr = pn.residualize(sx)
	yr = pn.residualize(sy)
	var sxx, syy, sxy float64
	for i := range xr {
		sxx += xr[i] * xr[i]
		syy += yr[i] * yr[i]
		sxy += xr[i] * yr[i]
	}
	if sxx <= negligible*sumSqDev(sx) {
		res.Reason = "x does not vary within teams and periods"
		return res, nil, nil
	}
	if syy <= negligible*sumSqDev(sy) {
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

type refPanel struct {
	n, teams, periods, comps int
	team                     []int   // team index of each row
	col                      []int   // period-dummy column of each row; −1 for a reference period
	rows                     [][]int // rows of each team
	q                        int     // period-dummy columns (periods − components)
	chol                     mat.Cholesky
	ok                       bool // false when the period normal equations are singular
}

// newFEPanel indexes teams and periods in order of first appearance and

func refFEPanelCodes(teamCode []int, nTeams int, periodCode []int, nPeriods int) *refPanel {
	n := len(teamCode)
	pn := &refPanel{n: n, team: make([]int, n), col: make([]int, n), ok: true}
	teamIdx := make([]int, nTeams)
	periodIdx := make([]int, nPeriods)
	for i := range teamIdx {
		teamIdx[i] = -1
	}
	for i := range periodIdx {
		periodIdx[i] = -1
	}
	pidx := make([]int, n)
	for i := range teamCode {
		ti := teamIdx[teamCode[i]]
		if ti < 0 {
			ti = pn.teams
			teamIdx[teamCode[i]] = ti
			pn.teams++
			pn.rows = append(pn.rows, nil)
		}
		pn.team[i] = ti
		pn.rows[ti] = append(pn.rows[ti], i)
		pi := periodIdx[periodCode[i]]
		if pi < 0 {
			pi = pn.periods
			periodIdx[periodCode[i]] = pi
			pn.periods++
		}
		pidx[i] = pi
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
		a, b := find(pn.team[i]), find(pn.teams+pidx[i])
		if a != b {
			parent[a] = b
		}
	}
	// The reference of each group is its first-seen period.
	refOf := map[int]bool{}
	colOf := make([]int, pn.periods)
	for pi := 0; pi < pn.periods; pi++ {
		root := find(pn.teams + pi)
		if !refOf[root] {
			refOf[root] = true
			colOf[pi] = -1
			continue
		}
		colOf[pi] = pn.q
		pn.q++
	}
	pn.comps = len(refOf)
	for i := range pidx {
		pn.col[i] = colOf[pidx[i]]
	}
	if pn.q == 0 {
		return pn
	}
	// The upper triangle of the q×q Gram matrix, row-major.
	q := pn.q
	data := make([]float64, q*q)
	counts := make([]float64, q)
	var cols []int
	for _, rows := range pn.rows {
		cols = cols[:0]
		for _, r := range rows {
			c := pn.col[r]
			if c < 0 {
				continue
			}
			if counts[c] == 0 {
				cols = append(cols, c)
			}
			counts[c]++
		}
		ni := float64(len(rows))
		for _, c := range cols {
			data[c*q+c] += counts[c]
		}
		for ai, c := range cols {
			for _, d := range cols[ai:] {
				data[min(c, d)*q+max(c, d)] -= counts[c] * counts[d] / ni
			}
		}
		for _, c := range cols {
			counts[c] = 0
		}
	}
	a := mat.NewSymDense(q, data)
	pn.ok = pn.chol.Factorize(a)
	return pn
}

func (pn *refPanel) residualize(v []float64) []float64 {
	out := make([]float64, len(v))
	for _, rows := range pn.rows {
		g := make([]float64, len(rows))
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
	rhs := mat.NewVecDense(pn.q, nil)
	for i, c := range pn.col {
		if c >= 0 {
			rhs.SetVec(c, rhs.AtVec(c)+out[i])
		}
	}
	var gamma mat.VecDense
	if err := pn.chol.SolveVecTo(&gamma, rhs); err != nil {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	effect := func(r int) float64 {
		if c := pn.col[r]; c >= 0 {
			return gamma.AtVec(c)
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
