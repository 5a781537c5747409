package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// z975 is the 0.975 quantile of the standard normal distribution as SciPy's
// special.ndtri(0.975) returns it. gonum's Normal.Quantile(0.975) is one ulp
// away (1.9599639845400536); using SciPy's double keeps 95 % intervals equal
// to pearsonr(...).confidence_interval() to the last bit.
const z975 = 1.959963984540054

// Correlation is the result of a correlation between two paired samples.
type Correlation struct {
	N             int     // pairs used (pairs with NaN in either value are dropped first)
	R             float64 // coefficient; NaN when undefined
	P             float64 // two-sided p-value; NaN when undefined
	CILow, CIHigh float64 // 95% CI; NaN when undefined
	DF            int     // degrees of freedom used for the p-value
}

// Pearson returns Pearson's product-moment correlation of the pairs (x[i], y[i]),
//
//	r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² · Σ(y−ȳ)²),
//
// with the two-sided p-value from Student's t with DF = N−2 degrees of
// freedom, t = r·√(DF/(1−r²)), and the 95 % Fisher-z interval
// tanh(atanh r ± 1.959963984540054/√(N−3)). For NaN-free input with N ≥ 4
// these equal SciPy's scipy.stats.pearsonr(x, y) and its confidence_interval().
//
// Pairs in which either value is NaN are dropped first; N counts the rest.
// Degenerate input:
//   - len(x) != len(y): N = 0, DF = 0 and every value NaN (no panic).
//   - N < 2, or either sample constant (zero variance): R, P and the CI are NaN.
//   - an infinite value: R, P and the CI are NaN (the mean is undefined).
//   - N = 2: R is ±1 but P and the CI are NaN (SciPy reports p = 1 there).
//   - N = 3: R and P are computed, the CI is NaN; the interval needs N ≥ 4
//     (SciPy reports (−1, 1) for N ≤ 3).
//   - |R| = 1 with N ≥ 3: P = 0, and the CI is (R, R) when N ≥ 4.
//
// DF is N−2 whenever N ≥ 3, even if P is NaN because a sample is constant,
// and 0 otherwise.
func Pearson(x, y []float64) Correlation {
	xs, ys, ok := completePairs(x, y)
	if !ok {
		return undefinedCorrelation(0)
	}
	return pearsonComplete(xs, ys)
}

// PearsonInPlace is [Pearson] working in x and y themselves instead of
// copies: it leaves them compacted (the NaN pairs dropped) and scaled, so
// their contents are undefined afterwards. It is for callers that lay out
// pairs only to correlate them and can reuse the arrays: the copies were
// most of what a report's drivers and lags allocated. The result equals
// Pearson's to the bit.
func PearsonInPlace(x, y []float64) Correlation {
	if len(x) != len(y) {
		return undefinedCorrelation(0)
	}
	n := 0
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		x[n], y[n] = x[i], y[i]
		n++
	}
	return pearsonComplete(x[:n], y[:n])
}

// Spearman returns Spearman's rank correlation ρ: Pearson's r of the average
// ranks (see [Ranks]) of x and y, with ties given the mean of the ranks they
// span. That is scipy.stats.spearmanr. The p-value is SciPy's as well: Student's
// t with DF = N−2, t = ρ·√(DF/(1−ρ²)). R's cor.test(method = "spearman")
// gives the same p with exact = FALSE or when there are ties; by default, for
// untied data with N < 1290, it computes an exact or Edgeworth-series p-value
// (AS 89) instead, which differs.
//
// The 95 % interval is the plain Fisher interval tanh(atanh ρ ±
// 1.959963984540054/√(N−3)), the same formula as for Pearson's r. SciPy's
// spearmanr gives no interval. The plain interval is somewhat too narrow for
// ρ, whose Fisher-z variance exceeds 1/(N−3) (Fieller, Hartley & Pearson 1957
// suggest 1.06/(N−3)); it is kept so that both coefficients in the report use
// the one formula the product specifies.
//
// NaN pairs are dropped before ranking. Degenerate input is handled as in
// [Pearson]: mismatched lengths give N = 0 and NaNs; N < 2 or all-tied ranks in
// either sample give R = NaN; P needs N ≥ 3 and the CI N ≥ 4; |ρ| = 1 gives
// P = 0 and CI (ρ, ρ). Infinite values are ranked like any other value.
func Spearman(x, y []float64) Correlation {
	if len(x) == len(y) && !slices.ContainsFunc(x, math.IsNaN) && !slices.ContainsFunc(y, math.IsNaN) {
		// Every pair complete: Ranks copies, so x and y need no copy of
		// their own (a report's pairs are 2 MB each at 2,500 teams).
		return pearsonComplete(Ranks(x), Ranks(y))
	}
	xs, ys, ok := completePairs(x, y)
	if !ok {
		return undefinedCorrelation(0)
	}
	return pearsonComplete(Ranks(xs), Ranks(ys))
}

// Ranks returns the 1-based ranks of x in ascending order, with tied values
// given the average of the ranks they span (SciPy's rankdata(method="average"),
// R's rank(ties.method = "average")). NaN values are not ranked: they stay NaN
// in the result and the other values are ranked among themselves. −0 and +0
// tie. The result has the length of x; an empty or nil x gives an empty slice.
func Ranks(x []float64) []float64 {
	ranks := make([]float64, len(x))
	idx := make([]int, 0, len(x))
	for i, v := range x {
		if math.IsNaN(v) {
			ranks[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return 0
	})
	for start := 0; start < len(idx); {
		end := start + 1
		for end < len(idx) && x[idx[end]] == x[idx[start]] {
			end++
		}
		// Positions start..end-1 hold ranks start+1..end; their mean:
		avg := float64(start+1+end) / 2
		for _, i := range idx[start:end] {
			ranks[i] = avg
		}
		start = end
	}
	return ranks
}

// FisherCI returns the two-sided confidence interval for a correlation r from
// n observations by Fisher's z transformation:
//
//	tanh(atanh(r) ± q/√(n−3)),  q = Φ⁻¹((1+conf)/2).
//
// For conf = 0.95, q is 1.959963984540054, SciPy's value. For the rmcorr
// interval pass n = df+2 (see [RMCorr]).
//
// It returns (NaN, NaN) when r is NaN or outside [−1, 1], n < 4, or conf is
// not strictly between 0 and 1; and (r, r) when |r| = 1.
func FisherCI(r float64, n int, conf float64) (lo, hi float64) {
	if math.IsNaN(r) || r < -1 || r > 1 || n < 4 || !(conf > 0 && conf < 1) {
		return math.NaN(), math.NaN()
	}
	if r == 1 || r == -1 {
		return r, r
	}
	q := z975
	if conf != 0.95 {
		q = distuv.UnitNormal.Quantile(0.5 + conf/2)
	}
	z := math.Atanh(r)
	se := 1 / math.Sqrt(float64(n-3))
	return math.Tanh(z - q*se), math.Tanh(z + q*se)
}

// TTwoSidedP returns the two-sided p-value P(|T| ≥ |t|) of Student's t
// distribution with df degrees of freedom, computed as 2·S(|t|) with S the
// survival function of gonum's distuv.StudentsT (equal to the regularized
// incomplete beta I_{df/(df+t²)}(df/2, 1/2)). df need not be an integer; df =
// +Inf gives the standard normal p-value.
//
// From df = 1e7 on, where gonum's incomplete beta loses digits (relative error
// about 3e-9 at 1e7, and a p of 1 from about 1e15), the p-value comes instead
// from Fisher's (1925) expansion of Student's t about the normal to order
// 1/df²: S(t) = Q(t) + φ(t)·((t³+t)/(4·df) + (5t⁵+16t³+3t)/(96·df²)).
//
// It returns NaN when t or df is NaN or df ≤ 0, 0 when t is ±Inf, and 1 when
// t = 0.
func TTwoSidedP(t float64, df float64) float64 {
	if math.IsNaN(t) || math.IsNaN(df) || df <= 0 {
		return math.NaN()
	}
	if math.IsInf(t, 0) {
		return 0
	}
	t = math.Abs(t)
	var p float64
	switch {
	case math.IsInf(df, 1):
		p = 2 * distuv.UnitNormal.Survival(t)
	case df >= largeDF:
		p = 2 * distuv.UnitNormal.Survival(t)
		if phi := distuv.UnitNormal.Prob(t); phi > 0 { // else t is huge and corr may be Inf
			t2 := t * t
			corr := (t2+1)*t/(4*df) + ((5*t2+16)*t2+3)*t/(96*df*df)
			p += 2 * phi * corr
		}
	default:
		p = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(t)
	}
	return math.Min(math.Max(p, 0), 1)
}

// largeDF is where TTwoSidedP moves from gonum's Student's t to Fisher's
// expansion; both agree with SciPy to about 3e-9 there, and each is better on
// its own side.
const largeDF = 1e7

// pearsonComplete computes the correlation of NaN-free pairs of equal
// length; it overwrites x and y (see pearsonR).
func pearsonComplete(x, y []float64) Correlation {
	n := len(x)
	c := undefinedCorrelation(n)
	if n >= 3 {
		c.DF = n - 2
	}
	r := pearsonR(x, y)
	if math.IsNaN(r) {
		return c
	}
	c.R = r
	if n >= 3 {
		c.P = pFromR(r, c.DF)
	}
	c.CILow, c.CIHigh = FisherCI(r, n, 0.95)
	return c
}

// pearsonR returns r clamped to [−1, 1], or NaN when n < 2, a sample is
// constant or a value is infinite. It scales x and y in place: its callers
// pass arrays of their own (complete pairs, ranks) and read them no more.
func pearsonR(x, y []float64) float64 {
	if len(x) < 2 || constant(x) || constant(y) {
		return math.NaN()
	}
	_, okx := scaleInPlace(x)
	_, oky := scaleInPlace(y)
	if !okx || !oky {
		return math.NaN()
	}
	r := stat.Correlation(x, y, nil)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return math.NaN()
	}
	return math.Max(-1, math.Min(1, r))
}

// pFromR is the two-sided p-value of a correlation r with df degrees of
// freedom; 1−r² is formed as (1−r)(1+r) to keep its digits when |r| is near 1.
func pFromR(r float64, df int) float64 {
	if math.Abs(r) == 1 {
		return 0
	}
	t := r * math.Sqrt(float64(df)/((1-r)*(1+r)))
	return TTwoSidedP(t, float64(df))
}

// completePairs returns copies of x and y without the pairs in which either
// value is NaN; ok is false when the lengths differ.
func completePairs(x, y []float64) (xs, ys []float64, ok bool) {
	if len(x) != len(y) {
		return nil, nil, false
	}
	xs = make([]float64, 0, len(x))
	ys = make([]float64, 0, len(y))
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		xs = append(xs, x[i])
		ys = append(ys, y[i])
	}
	return xs, ys, true
}

func undefinedCorrelation(n int) Correlation {
	nan := math.NaN()
	return Correlation{N: n, R: nan, P: nan, CILow: nan, CIHigh: nan}
}

// constant reports whether every value equals the first. A computed variance
// is no test: the mean of ten copies of 0.1 is not 0.1 in floating point.
func constant(x []float64) bool {
	for _, v := range x[1:] {
		if v != x[0] {
			return false
		}
	}
	return true
}

// scaleInPlace multiplies x by a power of two, 2^-e, so that its largest
// magnitude lies in [0.5, 1), and returns e. Scaling by a power of two is
// exact, so results that are scale-free (r) are unchanged while sums of
// squares of very large or very small values no longer overflow or
// underflow. Its callers pass arrays of their own that they read no more (a
// copy per call was a tenth of a large report's allocations). ok is false,
// and x unchanged, when x holds an infinite value; x with a NaN or only
// zeros is left as it is (e = 0).
func scaleInPlace(x []float64) (e int, ok bool) {
	maxAbs, hasNaN := 0.0, false
	for _, v := range x {
		a := math.Abs(v)
		switch {
		case a > math.MaxFloat64:
			return 0, false
		case a > maxAbs:
			maxAbs = a
		case a != a:
			hasNaN = true
		}
	}
	if maxAbs == 0 || hasNaN { // Frexp(NaN) has exponent 0: no scaling
		return 0, true
	}
	_, e = math.Frexp(maxAbs)
	if e == 0 { // already in [0.5, 1): scaling by 2^0 changes no value
		return 0, true
	}
	if e < -1021 || e > 1021 { // 2^-e is not a normal number
		for i, v := range x {
			x[i] = math.Ldexp(v, -e)
		}
		return e, true
	}
	// Multiplying by a normal power of two is exact, and so equal to
	// Ldexp, unless the product is subnormal; Ldexp, several times slower,
	// is kept for those.
	f := math.Ldexp(1, -e)
	for i, v := range x {
		if r := v * f; math.Abs(r) >= 0x1p-1022 || r == 0 && v == 0 {
			x[i] = r
		} else {
			x[i] = math.Ldexp(v, -e)
		}
	}
	return e, true
}
