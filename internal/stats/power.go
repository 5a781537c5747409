package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// PowerR returns the power of the two-sided test of a correlation at level
// alpha with n pairs when the true correlation is r, by the formula of R's
// pwr::pwr.r.test (pwr 1.3.0; Cohen 1988, ch. 3, with the Fisher z bias term):
//
//	t_c  = qt(1 − alpha/2, n − 2),   r_c = √(t_c² / (t_c² + n − 2))
//	z_r  = atanh|r| + |r| / (2(n − 1)),   z_c = atanh r_c
//	power = Φ((z_r − z_c)√(n − 3)) + Φ((−z_r − z_c)√(n − 3)).
//
// n need not be whole. It returns NaN when n < 4 (pwr's limit), |r| ≥ 1, or
// alpha is not strictly between 0 and 1.
func PowerR(n, r, alpha float64) float64 {
	if !(n >= 4) || math.IsInf(n, 1) || !(math.Abs(r) < 1) || !(alpha > 0 && alpha < 1) {
		return math.NaN()
	}
	r = math.Abs(r)
	tc := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 2}.Quantile(1 - alpha/2)
	rc := math.Sqrt(tc * tc / (tc*tc + n - 2))
	zr := math.Atanh(r) + r/(2*(n-1))
	zc := math.Atanh(rc)
	s := math.Sqrt(n - 3)
	return distuv.UnitNormal.CDF((zr-zc)*s) + distuv.UnitNormal.CDF((-zr-zc)*s)
}

// MinDetectableR returns the smallest correlation that a two-sided test at
// level alpha with n pairs detects with the given power: the r in (0, 1)
// with PowerR(n, r, alpha) = power, what pwr::pwr.r.test(n = n, power =
// power, sig.level = alpha)$r solves for. pwr stops at uniroot's default
// tolerance (about 1e-4 in r); this solves the same equation to full
// precision by bisection. For the report's "only a link of r ≥ … would be
// found 8 times in 10" pass power 0.8 and alpha 0.05, with n the number of
// teams for a between-team r and DF + 2 for a within view.
//
// It returns NaN when n < 4, alpha or power is not strictly between 0 and 1,
// or power ≤ alpha (a test finds a zero correlation with probability alpha).
func MinDetectableR(n, power, alpha float64) float64 {
	if !(n >= 4) || math.IsInf(n, 1) || !(power > alpha && power < 1) || !(alpha > 0 && alpha < 1) {
		return math.NaN()
	}
	return bisect(func(r float64) float64 { return PowerR(n, r, alpha) - power }, 0, math.Nextafter(1, 0))
}

// SampleSizeR returns the number of pairs (not rounded; round up to report
// it) that a two-sided test at level alpha needs to detect a correlation r
// with the given power: the n ≥ 4 with PowerR(n, r, alpha) = power, what
// pwr::pwr.r.test(r = r, power = power, sig.level = alpha)$n solves for (84.07
// for r = 0.3, power 0.8, alpha 0.05: 85 teams). It returns 4 when even 4
// pairs reach the power, and NaN when r is 0, NaN or |r| ≥ 1, alpha or power
// is not strictly between 0 and 1, power ≤ alpha, or more than 1e9 pairs
// would be needed (pwr's upper search limit).
func SampleSizeR(r, power, alpha float64) float64 {
	if !(math.Abs(r) > 0 && math.Abs(r) < 1) || !(power > alpha && power < 1) || !(alpha > 0 && alpha < 1) {
		return math.NaN()
	}
	f := func(n float64) float64 { return PowerR(n, r, alpha) - power }
	const lo, hi = 4, 1e9
	if f(lo) >= 0 {
		return lo
	}
	if f(hi) < 0 {
		return math.NaN()
	}
	return bisect(f, lo, hi)
}

// bisect returns the root of an increasing f on [lo, hi] with f(lo) < 0 ≤
// f(hi), to the last representable digit.
func bisect(f func(float64) float64, lo, hi float64) float64 {
	for range 2000 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}
