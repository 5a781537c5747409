package stats

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// RMCorrResult is the result of a repeated-measures correlation.
type RMCorrResult struct {
	R, P, CILow, CIHigh float64 // coefficient, two-sided p, 95% CI; NaN when undefined
	DF, N, Subjects     int     // error df = N−Subjects−1; observations and subjects used
	Slope               float64 // common within-subject slope of y on x; NaN when undefined
}

// RMCorr returns the repeated-measures correlation of Bakdash & Marusich
// (2017), as computed by the R package rmcorr (rmcorr(subject, x, y, data)):
// the ANCOVA y ~ subject + x, that is a common slope of y on x with a separate
// intercept per subject, and
//
//	r = sign(slope) · √(SS_x / (SS_x + SS_resid)),
//
// where SS_x is the type III sum of squares of x and SS_resid the residual sum
// of squares. Equivalently, r is Pearson's r of x and y after each subject's
// own mean has been subtracted from both. DF = N − Subjects − 1; the two-sided
// p-value is that of the ANCOVA F test for x, which is Student's t with DF
// degrees of freedom, t = r·√(DF/(1−r²)). The 95 % interval is the one
// rmcorr ≥ 0.5.4 reports, psych::r.con(r, DF+2): Fisher's z with an effective
// sample size of DF+2,
//
//	tanh(atanh r ± 1.959963984540054/√(DF−1)).
//
// (rmcorr before 0.5.4 passed DF instead of DF+2, giving 1/√(DF−3) and a
// slightly wider interval.) Slope is the common within-subject slope of y on x.
//
// Rows whose x or y is NaN are dropped first. Subjects left with fewer than 2
// observations are then dropped: in the ANCOVA such a subject is fitted
// exactly by its own intercept and changes neither r, P nor DF (it adds one
// observation and one parameter), so dropping it only keeps N and Subjects
// honest. Subjects are compared as exact strings.
//
// Degenerate input:
//   - len(subject), len(x), len(y) not all equal: N = 0, Subjects = 0, DF = 0
//     and every float NaN (no panic).
//   - no within-subject variation in x (every subject's x constant): R, P, CI
//     and Slope are NaN.
//   - no within-subject variation in y: R, P and CI are NaN, Slope is 0.
//   - an infinite value: R, P, CI and Slope are NaN.
//   - DF < 1 (too few observations for the subjects): R, P and CI are NaN.
//   - DF = 1: R and P are computed, the CI is NaN (it needs DF ≥ 2).
//   - |R| = 1: P = 0 and the CI is (R, R).
func RMCorr(subject []string, x, y []float64) RMCorrResult {
	if len(subject) != len(x) || len(x) != len(y) {
		return RMCorrCodes[int](nil, 0, x, y)
	}
	codeOf := map[string]int{}
	code := make([]int, len(subject))
	for i, s := range subject {
		c, ok := codeOf[s]
		if !ok {
			c = len(codeOf)
			codeOf[s] = c
		}
		code[i] = c
	}
	return RMCorrCodes(code, len(codeOf), x, y)
}

// RMCorrCodes is [RMCorr] with each row's subject given as a code in
// [0, subjects) instead of a name: the same result to the bit, without a
// string per row. A code outside that range gives the result of
// different lengths (N = 0, every float NaN).
func RMCorrCodes[C Code](subject []C, subjects int, x, y []float64) RMCorrResult {
	nan := math.NaN()
	res := RMCorrResult{R: nan, P: nan, CILow: nan, CIHigh: nan, Slope: nan}
	if len(subject) != len(x) || len(x) != len(y) {
		return res
	}
	// Group complete rows by subject, groups in order of first appearance
	// and rows in order within each: a group's rows are counted first,
	// then laid out one group after another.
	groupOf := make([]int, subjects)
	for i := range groupOf {
		groupOf[i] = -1
	}
	var size []int
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		s := int(subject[i])
		if s < 0 || s >= subjects {
			return res
		}
		if groupOf[s] < 0 {
			groupOf[s] = len(size)
			size = append(size, 0)
		}
		size[groupOf[s]]++
	}
	n := 0
	at := make([]int, len(size)) // where each group kept starts in xs, ys; −1 if dropped
	var sizes []int
	for g, sz := range size {
		at[g] = -1
		if sz >= 2 {
			at[g] = n
			n += sz
			sizes = append(sizes, sz)
		}
	}
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		g := groupOf[subject[i]]
		if at[g] < 0 {
			continue
		}
		xs[at[g]], ys[at[g]] = x[i], y[i]
		at[g]++
	}
	res.N, res.Subjects = len(xs), len(sizes)
	if df := res.N - res.Subjects - 1; df > 0 {
		res.DF = df
	}

	ex, okx := scaleInPlace(xs) // xs and ys are this function's own
	ey, oky := scaleInPlace(ys)
	if !okx || !oky || res.N == 0 {
		return res
	}
	// Deviations from each subject's own means.
	start := 0
	for _, size := range sizes {
		centre(xs[start : start+size])
		centre(ys[start : start+size])
		start += size
	}
	sxx := floats.Dot(xs, xs)
	syy := floats.Dot(ys, ys)
	sxy := floats.Dot(xs, ys)
	if sxx == 0 {
		return res
	}
	// Slope in the original units: the data were scaled by 2^-ex and 2^-ey.
	if slope := math.Ldexp(sxy/sxx, ey-ex); isFinite(slope) {
		res.Slope = slope
	}
	if syy == 0 || res.DF < 1 {
		return res
	}
	// sqrt each factor apart so that the product cannot underflow.
	r := sxy / (math.Sqrt(sxx) * math.Sqrt(syy))
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return res
	}
	res.R = math.Max(-1, math.Min(1, r))
	res.P = pFromR(res.R, res.DF)
	res.CILow, res.CIHigh = FisherCI(res.R, res.DF+2, 0.95)
	return res
}

// centre subtracts the mean from g in place. A constant g becomes exactly zero:
// its computed mean need not equal its values (three copies of 0.1 do not
// average to 0.1), and the leftover rounding would pose as variation.
func centre(g []float64) {
	if constant(g) {
		for i := range g {
			g[i] = 0
		}
		return
	}
	floats.AddConst(-stat.Mean(g, nil), g)
}
