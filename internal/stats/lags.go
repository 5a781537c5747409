package stats

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// MaxLag is the furthest lag, in periods either way, that [ScanLags] examines.
const MaxLag = 6

// LagAlpha is the familywise error rate at which [ScanLags] counts a lag as
// significant, after the Bonferroni correction for the lags tested.
const LagAlpha = 0.05

// PhiMax is the largest persistence [ScanLags] will filter with: a unit
// root (φ = 1) would difference the series and invert real signals into
// negative echoes at neighbouring lags.
const PhiMax = 0.99

// Persistence is the model of engagement's persistence that [ScanLags]
// filters with: an AR(1) signal seen through white measurement noise, fitted
// to the within-team variogram.
type Persistence struct {
	Phi       float64 // AR(1) coefficient of the engagement signal; the filter is e_t = v_t − Phi·v_{t−1}; 0 means not filtered
	Sill      float64 // variance of the persistent signal (the fitted A); NaN when not fitted
	Nugget    float64 // variance of the period-to-period noise (the fitted c); NaN when not fitted
	Distances int     // K: variogram distances 1…K used in the fit
	Pairs     int     // within-team pairs of periods at those distances
	Reason    string  // why Phi is 0 without a fit, or "" when fitted
}

// LagEstimate is the association at one lag after the persistence
// correction; see [ScanLags].
type LagEstimate struct {
	Lag           int     // periods; positive: customers this many periods after engagement, negative: before
	N, Teams      int     // prewhitened pairs and teams used
	DF            int     // residual df of the two-way within fit of the pairs
	R             float64 // within-team, within-period correlation of the prewhitened series
	CILow, CIHigh float64 // 95% interval: the hull of the serial and the clustered interval
	P             float64 // two-sided p: the larger of PSerial and PCluster
	PAdj          float64 // Bonferroni: min(1, Tests·P)
	Significant   bool    // PAdj < LagAlpha
	PSerial       float64 // p with the df reduced for autocorrelation (Bartlett)
	Inflation     float64 // Bartlett's variance inflation, ≥ 1
	EffectiveDF   float64 // DF / Inflation
	PCluster      float64 // p from the team-clustered SE, Student's t with Teams−1 df
	Reason        string  // why values are NaN; "" when defined
}

// LagSummary says which lag, if any, the data name; see [ScanLags].
type LagSummary struct {
	Significant int    // lags with PAdj < LagAlpha
	Peak        int    // the significant lag with the largest |R|; meaningful when Significant > 0
	TiedFrom    int    // first lag of the run around Peak that cannot be told apart from it
	TiedTo      int    // last lag of that run
	Named       bool   // the run is at most 3 lags long, so it is named
	From, To    int    // the named lag (From == To) or interval; meaningful when Named
	Outside     []int  // significant lags outside TiedFrom…TiedTo, not named; empty when none
	Reason      string // why nothing is named; "" when Named
}

// LagScan is the result of [ScanLags].
type LagScan struct {
	Persistence Persistence   // the filter applied to both series
	Lags        []LagEstimate // lags −MaxLag…+MaxLag in order
	Tests       int           // lags with a p-value: the Bonferroni m
	Summary     LagSummary    // the lag or interval named, if any
	Reason      string        // why no lag could be examined; "" otherwise
}

// ScanLags looks for the lag at which customer satisfaction y moves with
// engagement x, within teams and periods, at lags −MaxLag…+MaxLag, after
// correcting for engagement's persistence. Each row is one team-period:
// period is the index of the period in the program's own cadence (weeks for a
// weekly program, fortnights for a fortnightly one), so that periods p and
// p+1 are consecutive; a missing index is a gap. x or y may be NaN where that
// side has no value. Lag L pairs engagement in period p with customers in
// period p+L: positive L means customers after engagement, negative L
// customers before (Schneider et al. 1998 found the link runs both ways).
//
// Why a correction: a team's engagement drifts slowly, so this week's value
// resembles last week's and next week's; raw cross-correlations are then
// smeared over neighbouring lags, and they appear at negative lags when the
// true lag is positive. Box & Jenkins (1976, §11.2) prewhiten: filter the
// input series so that it becomes white noise and apply the same filter to
// the output; the cross-correlation of the filtered series is then
// proportional to the true lag response. Plain AR prewhitening of the
// observed engagement does not work here, because a team mean from a
// survey carries sampling noise: an AR(1) signal plus white noise is an
// ARMA(1,1) series (Granger & Morris 1976), an AR fit to it underestimates
// the signal's persistence, and the filtered series still smear. The filter
// used is instead the AR(1) operator of the signal itself, 1 − φB, which
// removes the signal's persistence exactly; the noise, being independent of
// customers, adds no cross-correlation.
//
// The procedure:
//
//  1. Remove team and period effects from x over x's rows and from y over
//     y's rows (the residuals of [TwoWayWithin]'s fit): company-wide swings
//     and lasting team differences go.
//  2. Fit the persistence of engagement to the empirical within-team
//     variogram of those residuals (Diggle 1988, Biometrics 44; Diggle,
//     Heagerty, Liang & Zeger 2002, §5.2), V(k) = mean of (x̃_{p+k} −
//     x̃_p)²/2 over every team's pairs of periods k apart, k = 1…K with K =
//     min(10, ⌊S/4⌋) and S the longest team's span in periods: V(k) =
//     c + A·(1 − φ^k) for an AR(1) signal of variance A and noise of
//     variance c. φ minimises Σ_k n_k (V(k) − c − A(1 − φ^k))² with c and A
//     profiled out by weighted least squares (weights n_k, the pair counts),
//     over a grid of φ = 0, 0.01, …, 0.99 refined by solving the first-order
//     condition. Differences within a team cancel the team's mean, so there
//     is no Nickell (1981) bias from estimating it. Without 3 distances (K <
//     3, under 12 periods) or when the fit finds no persistent part (A ≤ 0 or
//     φ = 0), φ = 0 and the series are not filtered.
//  3. Filter both residual series: e_p = v_p − φ·v_{p−1}, only where the
//     team has period p−1; the filter never reaches across a gap.
//  4. For each lag, pair e_x(p) with e_y(p+L) within a team and fit the
//     pairs by [TwoWayWithin] (team effects, and period effects indexed by
//     p); R is its partial correlation.
//  5. Correct for the autocorrelation left in the pairs in two ways, and
//     count a lag only when both agree (the intersection–union test, whose p
//     is the larger of the two; Berger 1982, Technometrics 24). Serially
//     (Bartlett 1935; Pyper & Peterman 1998, Can. J. Fish. Aquat. Sci. 55):
//     Inflation = 1 + 2 Σ_{j=1..J} (n_j/N) ρ_a(j) ρ_b(j), at least 1, with
//     ρ_a, ρ_b the pooled within-team autocorrelations of the two residual
//     series at distance j, n_j the pairs at that distance, and J = max(1,
//     ⌊N/(5·Teams)⌋) (Pyper & Peterman's N/5 per team); EffectiveDF =
//     DF/Inflation, PSerial from Student's t with EffectiveDF, t =
//     R√(EffectiveDF/(1−R²)), and the interval Fisher's z with n =
//     EffectiveDF + 2, as rmcorr's. By team clusters: [TwoWayWithin]'s
//     ClusterP and its cluster interval on the correlation scale
//     (RClusterLow/High). CILow/CIHigh is the hull of the two intervals.
//  6. Bonferroni over the Tests lags with a p-value: PAdj = min(1, Tests·P);
//     a lag is significant when PAdj < LagAlpha (familywise 5 % over the 13
//     lags).
//
// The summary is the claim the report makes. With no significant lag,
// nothing is named. Otherwise Peak is the significant lag with the largest
// |R|. A neighbouring lag cannot be told apart from the peak when each
// estimate lies inside the other's 95 % interval; TiedFrom…TiedTo is the
// unbroken run of such lags around the peak. When the run spans at most 3
// lags it is named (one lag when it is the peak alone); otherwise nothing is
// named and the run is the report's "lags a–b cannot be told apart".
// Significant lags outside the run are listed in Outside and not named: at a
// 5 % familywise rate over 13 lags an organisation can show such an
// isolated lag by chance (1 or 2 of 100 simulated 200-team organisations in
// lagrecovery_test.go's setting, most of them next to the peak), and the
// peak's own evidence is far stronger.
//
// Rows with the same team and period twice, lengths that differ, or an
// infinite value give a Reason and no lags; so do fewer than two teams or
// two periods on either side. A lag without enough pairs has NaN values and
// its own Reason, and does not count in Tests.
func ScanLags(team []string, period []int, x, y []float64) LagScan {
	return (*FECache)(nil).ScanLags(team, period, x, y)
}

// ScanLags is [ScanLags] keeping its panels' factorisations in c, or
// finding them there: the same result to the bit, without building the
// fixed-effects normal equations again for the same teams and periods.
func (c *FECache) ScanLags(team []string, period []int, x, y []float64) LagScan {
	// Team codes in order of first appearance.
	teamOf := map[string]int{}
	var names []string
	code := make([]int, len(team))
	for i := range team {
		ti, ok := teamOf[team[i]]
		if !ok {
			ti = len(names)
			teamOf[team[i]] = ti
			names = append(names, team[i])
		}
		code[i] = ti
	}
	return scanLags(c, code, len(names), func(t int) string { return strconv.Quote(names[t]) }, period, x, y)
}

// ScanLagsCodes is [FECache.ScanLags] with each row's team given as a
// code in [0, teams) instead of a name, without a string per row. Codes
// numbered in order of first appearance give ScanLags' result to the bit;
// a code outside the range gives a Reason and no lags.
func (c *FECache) ScanLagsCodes(team []int, teams int, period []int, x, y []float64) LagScan {
	return scanLags(c, team, teams, strconv.Itoa, period, x, y)
}

// ScanLagsCodesIn is [FECache.ScanLagsCodes] (c may be nil) on codes of
// either width: the same result from int32 codes.
func ScanLagsCodesIn[C Code](c *FECache, team []C, teams int, period []C, x, y []float64) LagScan {
	return scanLags(c, team, teams, strconv.Itoa, period, x, y)
}

// scanLags is ScanLags on team codes in [0, teams); name names a team
// in a Reason.
func scanLags[C Code](c *FECache, code []C, teams int, name func(int) string, period []C, x, y []float64) LagScan {
	scan := LagScan{Persistence: Persistence{Sill: math.NaN(), Nugget: math.NaN()}}
	scan.Summary.Outside = []int{}
	if len(code) != len(period) || len(period) != len(x) || len(x) != len(y) {
		scan.Reason = "team, period, x and y have different lengths"
		return scan
	}
	// Periods as offsets from the first period, which the span guard
	// keeps small enough for arrays.
	lo, hi := math.MaxInt, math.MinInt
	for i := range code {
		if code[i] < 0 || int(code[i]) >= teams {
			scan.Reason = fmt.Sprintf("row %d has team code %d, outside 0 to %d", i, code[i], teams-1)
			return scan
		}
		lo, hi = min(lo, int(period[i])), max(hi, int(period[i]))
		if math.IsInf(x[i], 0) || math.IsInf(y[i], 0) {
			scan.Reason = "a value is infinite"
			return scan
		}
	}
	if len(code) == 0 {
		scan.Reason = "no rows"
		return scan
	}
	span := hi - lo + 1
	if hi-lo < 0 || hi-lo >= maxPeriodSpan {
		scan.Reason = fmt.Sprintf("periods run from %d to %d; number them consecutively in the program's cadence", lo, hi)
		return scan
	}
	seen := make([]bool, teams*span) // team t's period p at t·span + p
	// Each series' rows, their codes as int32: 4 bytes a row, not 8.
	xt, xp, xv := make([]int32, 0, len(code)), make([]int32, 0, len(code)), make([]float64, 0, len(code))
	yt, yp, yv := make([]int32, 0, len(code)), make([]int32, 0, len(code)), make([]float64, 0, len(code))
	for i := range code {
		ti, p := int(code[i]), int(period[i])-lo
		if seen[ti*span+p] {
			scan.Reason = fmt.Sprintf("team %s has period %d twice", name(ti), period[i])
			return scan
		}
		seen[ti*span+p] = true
		if !math.IsNaN(x[i]) {
			xt, xp, xv = append(xt, int32(ti)), append(xp, int32(p)), append(xv, x[i])
		}
		if !math.IsNaN(y[i]) {
			yt, yp, yv = append(yt, int32(ti)), append(yp, int32(p)), append(yv, y[i])
		}
	}
	xs, reason := newSeries(c, xt, xp, xv, teams, span)
	if reason != "" {
		scan.Reason = "engagement: " + reason
		return scan
	}
	ys, reason := newSeries(c, yt, yp, yv, teams, span)
	if reason != "" {
		scan.Reason = "customers: " + reason
		return scan
	}

	scan.Persistence = fitPersistence(xs)
	ex := xs.filter(scan.Persistence.Phi)
	ey := ys.filter(scan.Persistence.Phi)

	w := newLagPairs(c, ex, len(xv))
	for lag := -MaxLag; lag <= MaxLag; lag++ {
		est := w.estimate(ex, ey, lag)
		if !math.IsNaN(est.P) {
			scan.Tests++
		}
		scan.Lags = append(scan.Lags, est)
	}
	scan.claim(LagAlpha)
	return scan
}

// claim sets PAdj and Significant at familywise level alpha, and the
// summary.
func (scan *LagScan) claim(alpha float64) {
	for i := range scan.Lags {
		e := &scan.Lags[i]
		if math.IsNaN(e.P) {
			continue
		}
		e.PAdj = math.Min(1, float64(scan.Tests)*e.P)
		e.Significant = e.PAdj < alpha
	}
	scan.Summary = summarizeLags(scan.Lags, alpha)
}

// maxPeriodSpan bounds the periods a scan covers (about 2000 years of
// weeks): period numbers far apart are a caller's mistake, and the arrays
// below are as long as the span.
const maxPeriodSpan = 100_000

// series is one measure's values by team and period: vals[t][k] is team t's
// value in period lo[t]+k, NaN where it has none. Team codes are shared by
// every series of one scan; a team without values has nil vals.
type series struct {
	lo   []int
	vals [][]float64
	span int // periods run from 0 to span−1
	exp  int // the values are two-way residuals times 2^-exp
}

// at returns team t's value in period p, and whether it has one.
func (s *series) at(t, p int) (float64, bool) {
	k := p - s.lo[t]
	if k < 0 || k >= len(s.vals[t]) {
		return 0, false
	}
	v := s.vals[t][k]
	return v, !math.IsNaN(v)
}

// newSeries removes team and period effects from v (rows with team codes
// in [0, teams) and periods in [0, span)) and indexes the residuals; reason
// is non-empty when that is impossible.
func newSeries(c *FECache, team, period []int32, v []float64, teams, span int) (*series, string) {
	pn := newFEPanelCodes(c, team, teams, period, span)
	switch {
	case pn.teams < 2:
		return nil, "needs at least two teams"
	case pn.periods < 2:
		return nil, "needs at least two periods"
	case !pn.ok:
		return nil, "team and period effects could not be separated"
	}
	exp, _ := scaleInPlace(v) // a power of two: exact, and keeps squares finite; v is ScanLags' own
	res := pn.residualize(v)
	s := &series{lo: make([]int, teams), vals: make([][]float64, teams), span: span, exp: exp}
	first := make([]int, teams)
	last := make([]int, teams)
	for t := range first {
		first[t], last[t] = math.MaxInt, -1
	}
	for i, t := range team {
		first[t], last[t] = min(first[t], int(period[i])), max(last[t], int(period[i]))
	}
	total := 0
	for t := range s.vals {
		if last[t] >= 0 {
			total += last[t] - first[t] + 1
		}
	}
	buf := make([]float64, total) // every team's values, one after another
	for k := range buf {
		buf[k] = math.NaN()
	}
	for t := range s.vals {
		if last[t] < 0 {
			continue
		}
		s.lo[t] = first[t]
		s.vals[t], buf = buf[:last[t]-first[t]+1:last[t]-first[t]+1], buf[last[t]-first[t]+1:]
	}
	for i, t := range team {
		s.vals[t][int(period[i])-s.lo[t]] = res[i]
	}
	return s, ""
}

// filter returns e_p = v_p − phi·v_{p−1} where the team has both periods
// (every value when phi is 0).
func (s *series) filter(phi float64) *series {
	out := &series{lo: s.lo, vals: make([][]float64, len(s.vals)), span: s.span, exp: s.exp}
	total := 0
	for _, vals := range s.vals {
		total += len(vals)
	}
	buf := make([]float64, total)
	for t, vals := range s.vals {
		if vals == nil {
			continue
		}
		e := buf[:len(vals):len(vals)]
		buf = buf[len(vals):]
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

// maxVariogramDistance caps the variogram distances K of the persistence fit.
const maxVariogramDistance = 10

// fitPersistence fits V(k) = c + A(1 − φ^k) to the within-team variogram of
// s; see ScanLags, step 2.
func fitPersistence(s *series) Persistence {
	nan := math.NaN()
	per := Persistence{Sill: nan, Nugget: nan}
	span := 0
	for _, vals := range s.vals {
		span = max(span, len(vals)) // newSeries trims each team to its first and last value
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

// variogramFit returns the weighted least-squares c and A of v ≈ c +
// A(1 − φ^d) at a given φ, and rss, the weighted residual sum of squares.
func variogramFit(phi float64, d, v, w []float64) (c, a, rss float64) {
	var sw, mz, mv float64
	z := make([]float64, len(d))
	for i := range d {
		z[i] = 1 - math.Pow(phi, d[i])
		sw += w[i]
		mz += w[i] * z[i]
		mv += w[i] * v[i]
	}
	mz /= sw
	mv /= sw
	var szz, szv, svv float64
	for i := range d {
		szz += w[i] * (z[i] - mz) * (z[i] - mz)
		szv += w[i] * (z[i] - mz) * (v[i] - mv)
		svv += w[i] * (v[i] - mv) * (v[i] - mv)
	}
	if szz <= 1e-300 {
		return mv, 0, svv
	}
	a = szv / szz
	return mv - a*mz, a, svv - szv*szv/szz
}

// variogramGradient returns the sign-carrying part of d rss/dφ,
// g = Szv·Szz' − 2·Szv'·Szz (rss' = g·Szv/Szz², and Szv > 0 where a
// persistent fit exists), with ' the derivative in φ.
func variogramGradient(phi float64, d, v, w []float64) float64 {
	var sw, mz, mzp, mv float64
	z := make([]float64, len(d))
	zp := make([]float64, len(d))
	for i := range d {
		z[i] = 1 - math.Pow(phi, d[i])
		zp[i] = -d[i] * math.Pow(phi, d[i]-1)
		sw += w[i]
		mz += w[i] * z[i]
		mzp += w[i] * zp[i]
		mv += w[i] * v[i]
	}
	mz, mzp, mv = mz/sw, mzp/sw, mv/sw
	var szz, szv, szzp, szvp float64
	for i := range d {
		szz += w[i] * (z[i] - mz) * (z[i] - mz)
		szv += w[i] * (z[i] - mz) * (v[i] - mv)
		szzp += 2 * w[i] * (z[i] - mz) * (zp[i] - mzp)
		szvp += w[i] * (zp[i] - mzp) * (v[i] - mv)
	}
	// rss = Svv − Szv²/Szz; rss' = −(2 Szv Szv' Szz − Szv² Szz')/Szz²
	//     = Szv (Szv Szz' − 2 Szv' Szz)/Szz².
	return szv * (szv*szzp - 2*szvp*szz)
}

// fitVariogramPhi returns the φ in [0, PhiMax] that minimises the profiled
// rss: the best of the grid 0, 0.01, …, 0.99, refined by bisection on the
// first-order condition between its grid neighbours.
func fitVariogramPhi(d, v, w []float64) float64 {
	const steps = 99
	best, bestRSS := 0, math.Inf(1)
	for j := 0; j <= steps; j++ {
		_, _, rss := variogramFit(PhiMax*float64(j)/steps, d, v, w)
		if rss < bestRSS {
			best, bestRSS = j, rss
		}
	}
	if best == 0 {
		return 0
	}
	if best == steps {
		return PhiMax
	}
	lo, hi := PhiMax*float64(best-1)/steps, PhiMax*float64(best+1)/steps
	g := func(phi float64) float64 { return variogramGradient(phi, d, v, w) }
	if !(g(lo) < 0 && g(hi) > 0) {
		return PhiMax * float64(best) / steps
	}
	return bisect(g, lo, hi)
}

// lagPairs holds the buffers that every lag's pairs reuse: a lag's pairs
// are never more than the prewhitened engagement values, and allocating
// them afresh at each lag was most of a scan's allocations.
type lagPairs struct {
	team, period []int32 // a code per pair: half the memory of an int
	a, b         []float64

	// Team t's periods ex.lo[t]… occupy off[t]…off[t]+len(ex.vals[t])−1 of
	// ra, rb (the two-way residuals of a lag's pairs, 0 where a period has
	// no pair), so that the Bartlett sums run over contiguous memory
	// without a branch. has has a bit for each period with a pair, team
	// t's from word hasOff[t] on: the pairs j periods apart are counted a
	// word at a time (counting them beside the sums, a byte a period, was
	// most of the sums' time).
	off    []int
	ra, rb []float64
	has    []uint64
	hasOff []int

	fe *FECache // where each lag's panel is kept; nil: nowhere
	pn fePanel  // each lag's panel, built in the arrays of the lag before
}

func newLagPairs(c *FECache, ex *series, most int) *lagPairs {
	w := &lagPairs{fe: c,
		team: make([]int32, 0, most), period: make([]int32, 0, most),
		a: make([]float64, 0, most), b: make([]float64, 0, most),
		off: make([]int, len(ex.vals)),
	}
	w.hasOff = make([]int, len(ex.vals))
	total, words := 0, 0
	for t, vals := range ex.vals {
		w.off[t], w.hasOff[t] = total, words
		total += len(vals)
		words += (len(vals) + 63) / 64
	}
	w.ra, w.rb, w.has = make([]float64, total), make([]float64, total), make([]uint64, words)
	// Each lag's panel is built in the arrays of the one before; made as
	// long as the most pairs a lag can have, they are never made again
	// (grown lag by lag as the pairs grew towards lag 0, they were a
	// quarter of a report's allocations).
	w.pn = fePanel{team: make([]int32, 0, most), col: make([]int32, 0, most), allRows: make([]int32, 0, most),
		xr: make([]float64, 0, most), yr: make([]float64, 0, most)}
	return w
}

// pairsApart counts team t's periods k with a pair whose period k+j has
// one too (n periods, j ≥ 1): the bits of has ANDed with themselves
// shifted down by j.
func (w *lagPairs) pairsApart(t, n, j int) int {
	words := w.has[w.hasOff[t] : w.hasOff[t]+(n+63)/64]
	q, r := j/64, uint(j%64)
	count := 0
	for i := 0; i+q < len(words); i++ {
		shifted := words[i+q] >> r
		if r > 0 && i+q+1 < len(words) {
			shifted |= words[i+q+1] << (64 - r)
		}
		count += bits.OnesCount64(words[i] & shifted)
	}
	return count
}

// estimate fits the prewhitened pairs at one lag; see ScanLags, steps 4–5.
func (w *lagPairs) estimate(ex, ey *series, lag int) LagEstimate {
	nan := math.NaN()
	est := LagEstimate{Lag: lag, R: nan, CILow: nan, CIHigh: nan, P: nan, PAdj: nan,
		PSerial: nan, Inflation: nan, EffectiveDF: nan, PCluster: nan}
	// Appended to in locals, not in w's fields: a slice stored in a field
	// of a heap object passes the garbage collector's write barrier on
	// every store while a collection runs (a fifth of a lag's time under
	// a --memory-limit, when collections run often).
	team, period, a, b := w.team[:0], w.period[:0], w.a[:0], w.b[:0]
	for t, vals := range ex.vals {
		if vals == nil || ey.vals[t] == nil {
			continue
		}
		for k, v := range vals {
			if math.IsNaN(v) {
				continue
			}
			p := ex.lo[t] + k
			if q, ok := ey.at(t, p+lag); ok {
				team, period = append(team, int32(t)), append(period, int32(p))
				a, b = append(a, v), append(b, q)
			}
		}
	}
	w.team, w.period, w.a, w.b = team, period, a, b
	pn := &w.pn
	reuseFEPanel(pn, w.fe, w.team, len(ex.vals), w.period, ex.span)
	fit, ar, br := withinFit(pn, w.a, w.b)
	est.N, est.Teams, est.DF = fit.N, fit.Teams, fit.DF
	if fit.Reason != "" {
		est.Reason = fit.Reason
		return est
	}
	est.R = fit.R
	est.PCluster = fit.ClusterP

	// Bartlett's inflation from the pooled within-team autocorrelations of
	// the two residual series.
	var saa, sbb float64
	for i := range ar {
		saa += ar[i] * ar[i]
		sbb += br[i] * br[i]
	}
	clear(w.ra)
	clear(w.rb)
	clear(w.has)
	for i, t := range w.team { // pair i's position in the dense arrays
		pos := int(w.period[i]) - ex.lo[t]
		k := w.off[t] + pos
		w.ra[k], w.rb[k] = ar[i], br[i]
		w.has[w.hasOff[t]+pos/64] |= 1 << (pos % 64)
	}
	n := float64(fit.N)
	maxJ := max(1, fit.N/(5*fit.Teams))
	infl := 1.0
	// The sums for the two residual series run side by side, each on one
	// goroutine in the order it always had, so each is the same to the
	// bit; the pairs j apart are counted with the first.
	sa, sb, nj := make([]float64, maxJ+1), make([]float64, maxJ+1), make([]int, maxJ+1)
	both(len(w.ra), func() { w.lagSums(ex, ey, w.ra, sa, nj) }, func() { w.lagSums(ex, ey, w.rb, sb, nil) })
	for j := 1; j <= maxJ; j++ {
		if nj[j] == 0 {
			continue
		}
		rhoA := (sa[j] / float64(nj[j])) / (saa / n)
		rhoB := (sb[j] / float64(nj[j])) / (sbb / n)
		infl += 2 * float64(nj[j]) / n * rhoA * rhoB
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

// lagSums sets sums[j], for j from 1 to len(sums)−1, to the sum over
// every team of r's products of periods j apart, and, when count is not
// nil, count[j] to the pairs j apart. Each sum runs in the order of the
// pairs alone, team by team and period by period: a pair missing either
// end adds a product with a zero, ±0, which leaves a sum that starts at +0
// unchanged to the bit (it is never −0; the residuals are finite).
//
// Four distances are summed in one pass: a single sum waits on its own
// last addition at every step, and four side by side do not, while each
// still adds its terms in the same order, so every sum is the same to the
// bit.
func (w *lagPairs) lagSums(ex, ey *series, r, sums []float64, count []int) {
	maxJ := len(sums) - 1
	for j := 1; j <= maxJ; j += 4 {
		m := min(4, maxJ-j+1) // distances j … j+m−1
		var s [4]float64
		var nj [4]int
		for t, vals := range ex.vals {
			if vals == nil || ey.vals[t] == nil || len(vals) <= j {
				continue
			}
			v := r[w.off[t] : w.off[t]+len(vals)]
			k := 0
			if full := len(v) - (j + 3); m == 4 && full > 0 {
				v0 := v[:full]
				v1, v2, v3, v4 := v[j:j+full], v[j+1:j+1+full], v[j+2:j+2+full], v[j+3:j+3+full]
				s0, s1, s2, s3 := s[0], s[1], s[2], s[3] // in registers, not in s
				for i, x := range v0 {
					s0 += x * v1[i]
					s1 += x * v2[i]
					s2 += x * v3[i]
					s3 += x * v4[i]
				}
				s[0], s[1], s[2], s[3], k = s0, s1, s2, s3, full
			}
			for d := range m { // the rest of each distance, in order
				acc := s[d]
				for i := k; i+j+d < len(v); i++ {
					acc += v[i] * v[i+j+d]
				}
				s[d] = acc
				if count != nil && len(v) > j+d {
					nj[d] += w.pairsApart(t, len(vals), j+d)
				}
			}
		}
		for d := range m {
			sums[j+d] = s[d]
			if count != nil {
				count[j+d] = nj[d]
			}
		}
	}
}

// fisherInterval is FisherCI at 95 % with a real effective sample size n:
// tanh(atanh r ± 1.959963984540054/√(n−3)), NaN when n ≤ 3 or r is NaN,
// and (r, r) when |r| = 1.
func fisherInterval(r, n float64) (lo, hi float64) {
	if math.IsNaN(r) || !(n > 3) {
		return math.NaN(), math.NaN()
	}
	if math.Abs(r) == 1 {
		return r, r
	}
	h := z975 / math.Sqrt(n-3)
	z := math.Atanh(r)
	return math.Tanh(z - h), math.Tanh(z + h)
}

// summarizeLags names a lag or interval; see ScanLags.
func summarizeLags(lags []LagEstimate, alpha float64) LagSummary {
	s := LagSummary{Outside: []int{}}
	peak := -1
	for i, e := range lags {
		if !e.Significant {
			continue
		}
		s.Significant++
		if peak < 0 || math.Abs(e.R) > math.Abs(lags[peak].R) {
			peak = i
		}
	}
	if peak < 0 {
		s.Reason = fmt.Sprintf("no lag is clear at a %g familywise rate over the lags tested", alpha)
		return s
	}
	p := lags[peak]
	tied := func(i int) bool {
		e := lags[i]
		return !math.IsNaN(e.R) && e.CILow <= p.R && p.R <= e.CIHigh && p.CILow <= e.R && e.R <= p.CIHigh
	}
	from, to := peak, peak
	for from > 0 && tied(from-1) {
		from--
	}
	for to < len(lags)-1 && tied(to+1) {
		to++
	}
	s.Peak, s.TiedFrom, s.TiedTo = p.Lag, lags[from].Lag, lags[to].Lag
	for i, e := range lags {
		if e.Significant && (i < from || i > to) {
			s.Outside = append(s.Outside, e.Lag)
		}
	}
	if to-from+1 > 3 {
		s.Reason = fmt.Sprintf("lags %d to %d cannot be told apart", s.TiedFrom, s.TiedTo)
		return s
	}
	s.Named, s.From, s.To = true, s.TiedFrom, s.TiedTo
	return s
}
