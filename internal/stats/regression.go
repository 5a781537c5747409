package stats

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Line is a straight line y = Intercept + Slope·x.
type Line struct {
	Intercept, Slope float64
}

// LeastSquares returns the ordinary least-squares line through the pairs
// (x[i], y[i]): the Slope = Σ(x−x̄)(y−ȳ)/Σ(x−x̄)² and Intercept = ȳ − Slope·x̄
// that minimise Σ(y − Intercept − Slope·x)², computed with gonum's
// stat.LinearRegression. Pairs in which either value is NaN are dropped first.
//
// ok is false, and the Line is zero, when len(x) != len(y), fewer than two
// pairs remain, every remaining x is equal (var(x) = 0, the slope is
// undefined), a value is infinite, or the fitted line does not fit in a
// float64.
func LeastSquares(x, y []float64) (line Line, ok bool) {
	xs, ys, ok := completePairs(x, y)
	if !ok || len(xs) < 2 || constant(xs) {
		return Line{}, false
	}
	// Fit on data scaled by powers of two (exact) so that sums of squares
	// cannot overflow, then scale the coefficients back.
	ex, okx := scaleInPlace(xs) // xs and ys are completePairs' copies
	ey, oky := scaleInPlace(ys)
	if !okx || !oky {
		return Line{}, false
	}
	a, b := stat.LinearRegression(xs, ys, nil, false)
	line = Line{Intercept: math.Ldexp(a, ey), Slope: math.Ldexp(b, ey-ex)}
	if !isFinite(line.Intercept) || !isFinite(line.Slope) {
		return Line{}, false
	}
	return line, true
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
